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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot

from .occlusion import occlude, seed_for
from .predict import labels_at, predict_logits, test_pipeline

__all__ = ['RegionStats', 'SeverityResult', 'evaluate_robustness', 'summarise',
           'write_robustness_report']

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


def evaluate_robustness(model: torch.nn.Module,
                        severities: Sequence[float] = (0, 10, 20, 30, 40, 50),
                        fill: str = 'constant', seed: int = 0, max_images: int | None = None,
                        progress: bool = True) -> list[SeverityResult]:
    """Scores ``model`` (from :func:`segkit.apis.inference.load_segmentor`) on its
    config's test set under occlusion; ``severities`` are percentages."""
    from mmseg.registry import DATASETS
    from tqdm import tqdm

    cfg = model.cfg
    dataset_cfg = dict(cfg.test_dataloader.dataset)
    reduce_zero = any(t.get('reduce_zero_label') for t in cfg.test_pipeline
                      if t.get('type') == 'LoadAnnotations')
    dataset_cfg['pipeline'] = [dict(type='LoadImageFromFile'),
                               dict(type='LoadAnnotations', reduce_zero_label=reduce_zero)]
    dataset = DATASETS.build(dataset_cfg)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    num_classes = len(model.dataset_meta['classes'])
    stats = {s: {r: RegionStats(num_classes) for r in REGIONS} for s in severities}
    covered = {s: [] for s in severities}
    pipeline = test_pipeline(model)
    for index in tqdm(range(count), desc='robustness', unit='img', disable=not progress):
        item = dataset[index]
        image, label = item['img'], item['gt_seg_map']
        for severity in severities:
            occluded, mask = occlude(image, severity / 100.0,
                                     seed_for(seed, item['img_path'], severity), fill)
            probs = predict_logits(model, [occluded], pipeline=pipeline)[0]
            pred = labels_at(probs, label.shape[:2])
            for region, region_mask in (('all', None), ('occluded', mask), ('visible', ~mask)):
                stats[severity][region].update(pred, label, region_mask)
            covered[severity].append(mask.mean())
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
                            out_dir: str | os.PathLike, fill: str) -> dict:
    """Writes robustness.{md,csv,json} and robustness.png (mIoU vs severity per model)."""
    plt = pyplot()
    out = Path(out_dir)
    rows, summaries = [], {}
    for name, per_severity in results.items():
        summaries[name] = summarise(per_severity)
        for r in per_severity:
            rows.append(dict(model=name, **asdict(r)))
    header = ['model', 'severity', 'coverage', 'mIoU', 'mIoU_occluded', 'mIoU_visible']
    lines = [f'Occlusion robustness (fill: {fill})', '',
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
        dict(fill=fill, results=rows, summary=summaries), indent=2))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, per_severity in results.items():
        ax.plot([r.severity for r in per_severity], [r.mIoU for r in per_severity], 'o-',
                label=name)
    ax.set_xlabel('occluded area (%)')
    ax.set_ylabel('mIoU (%)')
    ax.set_title(f'mIoU under occlusion ({fill} fill)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_save_figure(fig, out / 'robustness.png')
    return summaries
