"""mIoU under occlusion: per severity, on occluded and on visible pixels.

For each validation image and severity (the percentage of the image covered
by occluders, see :mod:`segkit.evaluation.occlusion`), the occluded image is
segmented and scored three ways: all labelled pixels, the occluded ones and
the visible ones. The summary is the mean mIoU over the non-zero severities
and its ratio to the clean mIoU.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot

from .occlusion import occlude, occlude_objects, seed_for
from .predict import labels_at, predict_logits, test_pipeline

__all__ = ['OCCLUDERS', 'RegionStats', 'SeverityResult', 'evaluate_robustness',
           'evaluate_variants', 'labelled_dataset', 'summarise', 'write_robustness_report']

REGIONS = ('all', 'occluded', 'visible')


class RegionStats:
    """Running per-class intersection / union for one region of the images."""

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.areas = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]

    def update(self, pred: np.ndarray, label: np.ndarray, region: np.ndarray | None) -> None:
        from mmseg.evaluation.metrics import IoUMetric

        label = label.copy()
        if region is not None:
            label[~region] = self.ignore_index
        areas = IoUMetric.intersect_and_union(torch.from_numpy(pred.astype(np.int64)),
                                              torch.from_numpy(label.astype(np.int64)),
                                              self.num_classes, self.ignore_index)
        for total, area in zip(self.areas, areas):
            total += area.double()

    def miou(self) -> float:
        """Mean IoU (percent) over the classes present in labels or predictions."""
        intersect, union = self.areas[0], self.areas[1]
        valid = union > 0
        if not valid.any():
            return float('nan')
        return float((intersect[valid] / union[valid]).mean() * 100)


@dataclass
class SeverityResult:
    severity: float
    coverage: float
    mIoU: float
    mIoU_occluded: float
    mIoU_visible: float


def labelled_dataset(cfg: Any) -> Any:
    """The test set of a config, loading images (BGR) and labels only."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    init_default_scope(cfg.get('default_scope', 'mmseg'))

    dataset_cfg = dict(cfg.test_dataloader.dataset)
    reduce_zero = any(t.get('reduce_zero_label') for t in cfg.test_pipeline
                      if t.get('type') == 'LoadAnnotations')
    dataset_cfg['pipeline'] = [dict(type='LoadImageFromFile'),
                               dict(type='LoadAnnotations', reduce_zero_label=reduce_zero)]
    return DATASETS.build(dataset_cfg)


Variant = tuple[object, np.ndarray, 'np.ndarray | None']  # key, image, occluded mask


class _Perturbed(torch.utils.data.Dataset):
    """Each labelled image with its perturbed variants, made where the data
    loader runs this (its worker processes), timed."""

    def __init__(self, dataset: Any, count: int,
                 perturb: Callable[[dict], list[Variant]]) -> None:
        self.dataset, self.count, self.perturb = dataset, count, perturb

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[np.ndarray, list[Variant], float]:
        item = self.dataset[index]
        start = time.perf_counter()
        variants = self.perturb(item)
        return item['gt_seg_map'], variants, time.perf_counter() - start


def _as_is(batch: object) -> object:
    return batch


def evaluate_variants(model: torch.nn.Module, perturb: Callable[[dict], list[Variant]],
                      max_images: int | None = None, workers: int = 0,
                      progress: bool = True, desc: str = 'robustness'
                      ) -> tuple[dict[object, dict[str, RegionStats]], dict[object, list[float]],
                                 dict[str, float]]:
    """Segments every variant ``perturb`` makes of each test image.

    ``perturb`` gets the loaded item (``img`` BGR, ``gt_seg_map``,
    ``img_path``) and returns ``(key, image, mask)`` variants; ``mask`` marks
    occluded pixels (None: no occlusion). With ``workers`` > 0 the variants
    are made in that many data-loader processes while the model runs.

    Returns:
        Per key the region statistics (all / occluded / visible), per key the
        occluded fraction of each image, and where the time went (seconds
        making variants, summed over workers, and predicting).
    """
    from tqdm import tqdm

    dataset = labelled_dataset(model.cfg)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    loader = torch.utils.data.DataLoader(_Perturbed(dataset, count, perturb), batch_size=None,
                                         num_workers=workers, collate_fn=_as_is)
    num_classes = len(model.dataset_meta['classes'])
    stats: dict[object, dict[str, RegionStats]] = {}
    covered: dict[object, list[float]] = {}
    pipeline = test_pipeline(model)
    seconds = {'perturbing': 0.0, 'predicting': 0.0}
    for label, variants, spent in tqdm(loader, total=count, desc=desc, unit='img',
                                       disable=not progress):
        seconds['perturbing'] += spent
        start = time.perf_counter()
        for key, image, mask in variants:
            probs = predict_logits(model, [image], pipeline=pipeline)[0]
            pred = labels_at(probs, label.shape[:2])
            regions = stats.setdefault(key, {r: RegionStats(num_classes) for r in REGIONS})
            regions['all'].update(pred, label, None)
            if mask is not None:
                regions['occluded'].update(pred, label, mask)
                regions['visible'].update(pred, label, ~mask)
                covered.setdefault(key, []).append(float(mask.mean()))
        seconds['predicting'] += time.perf_counter() - start
    return stats, covered, seconds


class _Occluder:
    """The occlusion variants of one image (picklable, for worker processes)."""

    def __init__(self, severities: Sequence[float], fill: str, seed: int, occluder: str,
                 classes: Sequence[int] | None) -> None:
        self.severities, self.fill, self.seed = severities, fill, seed
        self.occluder, self.classes = occluder, classes

    def __call__(self, item: dict) -> list[Variant]:
        image, variants = item['img'], []
        for severity in self.severities:
            seed = seed_for(self.seed, item['img_path'], severity)
            if self.occluder == 'objects':
                out, mask = occlude_objects(image, item['gt_seg_map'], severity / 100.0, seed,
                                            self.fill, self.classes)
            else:
                out, mask = occlude(image, severity / 100.0, seed, self.fill)
            variants.append((severity, out, mask))
        return variants


OCCLUDERS = ('rectangles', 'objects')


def evaluate_robustness(model: torch.nn.Module,
                        severities: Sequence[float] = (0, 10, 20, 30, 40, 50),
                        fill: str = 'constant', seed: int = 0, max_images: int | None = None,
                        progress: bool = True, occluder: str = 'rectangles',
                        thing_classes: Sequence[int] | None = None,
                        workers: int = 0) -> list[SeverityResult]:
    """Scores ``model`` (from :func:`segkit.apis.inference.load_segmentor`) on its
    config's test set under occlusion; ``severities`` are percentages: of
    the image (``occluder='rectangles'``) or of each object's pixels
    (``'objects'``, objects of ``thing_classes``; see
    :func:`~segkit.evaluation.occlusion.occlude_objects`)."""
    if occluder not in OCCLUDERS:
        raise ValueError(f'occluder must be one of {OCCLUDERS}, got {occluder!r}')
    stats, covered, _ = evaluate_variants(
        model, _Occluder(severities, fill, seed, occluder, thing_classes), max_images, workers,
        progress)
    return [SeverityResult(float(s), float(np.mean(covered[s]) * 100),
                           stats[s]['all'].miou(), stats[s]['occluded'].miou(),
                           stats[s]['visible'].miou()) for s in severities]


def summarise(results: Sequence[SeverityResult]) -> dict:
    """Clean mIoU, mean mIoU over the occluded severities and their ratio."""
    clean = next((r.mIoU for r in results if r.severity == 0), float('nan'))
    occluded = [r.mIoU for r in results if r.severity > 0]
    mean = float(np.mean(occluded)) if occluded else float('nan')
    return dict(clean_mIoU=clean, mean_occluded_mIoU=mean,
                ratio_to_clean=mean / clean if clean and clean == clean else float('nan'))


def write_robustness_report(results: dict[str, list[SeverityResult]],
                            out_dir: str | os.PathLike, fill: str,
                            occluder: str = 'rectangles') -> dict:
    """Writes robustness.{md,csv,json} and robustness.png (mIoU vs severity per model)."""
    plt = pyplot()
    out = Path(out_dir)
    rows, summaries = [], {}
    for name, per_severity in results.items():
        summaries[name] = summarise(per_severity)
        for r in per_severity:
            rows.append(dict(model=name, **asdict(r)))
    header = ['model', 'severity', 'coverage', 'mIoU', 'mIoU_occluded', 'mIoU_visible']
    what = ('of each object covered (rectangles on the objects)' if occluder == 'objects'
            else 'of the image covered (random rectangles)')
    lines = [f'Occlusion robustness: severity = % {what}; fill: {fill}', '',
             '| model | severity (%) | measured coverage (%) | mIoU | mIoU occluded | '
             'mIoU visible |', '|---|---:|---:|---:|---:|---:|']
    for row in rows:
        lines.append(f"| {row['model']} | {row['severity']:.0f} | {row['coverage']:.1f} | "
                     f"{row['mIoU']:.2f} | {row['mIoU_occluded']:.2f} | "
                     f"{row['mIoU_visible']:.2f} |")
    lines += ['', '| model | clean mIoU | mean mIoU (occluded severities) | ratio |',
              '|---|---:|---:|---:|']
    for name, s in summaries.items():
        lines.append(f"| {name} | {s['clean_mIoU']:.2f} | {s['mean_occluded_mIoU']:.2f} | "
                     f"{s['ratio_to_clean']:.3f} |")
    atomic_write_text(out / 'robustness.md', '\n'.join(lines) + '\n')
    atomic_write_csv(out / 'robustness.csv', rows, header)
    atomic_write_text(out / 'robustness.json', json.dumps(
        dict(fill=fill, occluder=occluder, results=rows, summary=summaries), indent=2))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, per_severity in results.items():
        ax.plot([r.severity for r in per_severity], [r.mIoU for r in per_severity], 'o-',
                label=name)
    ax.set_xlabel('occluded area of each object (%)' if occluder == 'objects'
                  else 'occluded area (%)')
    ax.set_ylabel('mIoU (%)')
    ax.set_title(f'mIoU under occlusion ({fill} fill)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_save_figure(fig, out / 'robustness.png')
    return summaries
