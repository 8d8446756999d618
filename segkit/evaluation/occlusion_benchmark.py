"""mIoU under occlusion: per severity, on occluded and on visible pixels.

For each validation image and severity (the percentage of the image covered
by occluders, see :mod:`segkit.evaluation.occlusion`), the occluded image is
segmented and scored three ways (by :mod:`segkit.evaluation.variants`): all
labelled pixels, the occluded ones and the visible ones. The summary is the
mean mIoU over the non-zero severities and its ratio to the clean mIoU.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

from .occlusion import occlude, occlude_objects, seed_for
from .segmentor import Segmentor
from .statistics import ImageCounts
from .variants import Variant, evaluate_variants

__all__ = ['OCCLUDERS', 'SeverityResult', 'evaluate_robustness', 'summarise',
           'write_robustness_report']

OCCLUDERS = ('rectangles', 'objects')


@dataclass
class SeverityResult:
    """mIoU at one occlusion severity; ``counts``: per image, all labelled pixels."""

    severity: float
    coverage: float
    mIoU: float
    mIoU_occluded: float
    mIoU_visible: float
    counts: ImageCounts | None = field(default=None, repr=False, compare=False)

    def figures(self) -> dict[str, float]:
        """The figures, without the counts (a row of the report)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != 'counts'}


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


def evaluate_robustness(model: Segmentor,
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
    classes = model.dataset_meta['classes']
    return [SeverityResult(float(s), float(np.mean(covered[s]) * 100),
                           stats[s]['all'].miou(), stats[s]['occluded'].miou(),
                           stats[s]['visible'].miou(), stats[s]['all'].counts(classes))
            for s in severities]


def summarise(results: Sequence[SeverityResult]) -> dict:
    """Clean mIoU, mean mIoU over the occluded severities and their ratio."""
    clean = next((r.mIoU for r in results if r.severity == 0), float('nan'))
    occluded = [r.mIoU for r in results if r.severity > 0]
    mean = float(np.mean(occluded)) if occluded else float('nan')
    return dict(clean_mIoU=clean, mean_occluded_mIoU=mean,
                ratio_to_clean=mean / clean if clean and clean == clean else float('nan'))


def write_robustness_report(results: dict[str, list[SeverityResult]],
                            out_dir: str | os.PathLike, fill: str,
                            occluder: str = 'rectangles', bootstrap: int = 1000,
                            bootstrap_seed: int = 0, baseline: str | None = None) -> dict:
    """Writes robustness.{md,csv,json} and robustness.png (mIoU vs severity per
    model). With per-image counts (as :func:`evaluate_robustness` keeps them),
    severity 0 and ``bootstrap`` resamples: 95 % intervals of the clean and
    mean occluded mIoU, each model's paired differences to ``baseline`` (the
    first model without one),
    robustness_forest.png and per_image_stats/<model>.npz. Returns the
    summaries (with ``significance`` where computed)."""
    from .significance import RunCounts, interval_text, significance, significance_section

    plt = pyplot()
    out = Path(out_dir)
    rows, summaries = [], {}
    for name, per_severity in results.items():
        summaries[name] = summarise(per_severity)
        for r in per_severity:
            rows.append(dict(model=name, **r.figures()))
    header = ['model', 'severity', 'coverage', 'mIoU', 'mIoU_occluded', 'mIoU_visible']
    what = ('of each object covered (rectangles on the objects)' if occluder == 'objects'
            else 'of the image covered (random rectangles)')
    per_severity = markdown_table(
        ['model', 'severity (%)', 'measured coverage (%)', 'mIoU', 'mIoU occluded',
         'mIoU visible'],
        [[r['model'], f"{r['severity']:.0f}", f"{r['coverage']:.1f}", f"{r['mIoU']:.2f}",
          f"{r['mIoU_occluded']:.2f}", f"{r['mIoU_visible']:.2f}"] for r in rows])
    runs = {name: [RunCounts.of(per)] for name, per in results.items()
            if any(r.severity == 0 for r in per) and all(r.counts for r in per)}
    stats = (significance(runs, baseline, bootstrap, bootstrap_seed)
             if bootstrap and runs and len(runs) == len(results) else None)
    summary = markdown_table(
        ['model', 'clean mIoU' + (' [95 % CI]' if stats else ''),
         'mean mIoU (occluded severities)' + (' [95 % CI]' if stats else ''), 'ratio'],
        [[name, interval_text(s['clean_mIoU'], stats[name]['clean_mIoU_ci95'] if stats else None),
          interval_text(s['mean_occluded_mIoU'],
                        stats[name].get('occluded_mIoU_ci95') if stats else None),
          f"{s['ratio_to_clean']:.3f}"] for name, s in summaries.items()])
    lines = [f'Occlusion robustness: severity = % {what}; fill: {fill}', '', per_severity, '',
             summary]
    if stats:
        figures = ['clean_mIoU'] + (['occluded_mIoU'] if 'occluded_mIoU' in
                                    next(iter(stats.values())) else [])
        lines += [''] + significance_section(stats, figures, bootstrap,
                                             out / 'robustness_forest.png')
        for name, per in results.items():
            summaries[name]['significance'] = stats[name]
            RunCounts.of(per).save(out / 'per_image_stats' / f'{name}.npz')
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
