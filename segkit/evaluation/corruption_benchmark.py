"""mIoU under common corruptions per model, and the reports (tables, heatmap, bars).

Each test image is corrupted at the size the pipeline loads it, before any
resizing (labels untouched), with a seed per (image, corruption, severity),
so every model sees the same corrupted images, and
``segkit make-corrupted-dataset`` writes exactly these to disk.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

from .corruption_metrics import Table, corruption_errors, relative_robustness
from .corruptions import check_severities, corrupt
from .occlusion import seed_for
from .segmentor import Segmentor
from .statistics import ImageCounts
from .variants import Variant, evaluate_variants

__all__ = ['CorruptionResult', 'Corrupter', 'evaluate_corruptions', 'image_seed',
           'summarise_corruptions', 'write_corruption_report']


def image_seed(seed: int, relative_path: str, name: str, severity: int) -> int:
    """The seed of one corrupted image: from its path relative to the data
    root, so the on-the-fly and the on-disk versions agree."""
    return seed_for(seed, relative_path, name, severity)


class Corrupter:
    """The clean image and its corrupted variants (picklable, for workers).
    Images are BGR as mmcv loads them; corruptions are defined on RGB."""

    def __init__(self, names: Sequence[str], severities: Sequence[int], seed: int,
                 data_root: str) -> None:
        self.names, self.severities, self.seed = list(names), list(severities), seed
        self.data_root = data_root

    def variants(self, image: np.ndarray, img_path: str) -> list[tuple[str, int, np.ndarray]]:
        """``(name, severity, corrupted BGR image)`` for every pair."""
        relative = os.path.relpath(img_path, self.data_root) if self.data_root else img_path
        rgb = np.ascontiguousarray(image[..., ::-1])
        return [(name, severity, np.ascontiguousarray(
                    corrupt(rgb, name, severity, image_seed(self.seed, relative, name,
                                                            severity))[..., ::-1]))
                for name in self.names for severity in self.severities]

    def __call__(self, item: dict) -> list[Variant]:
        out: list[Variant] = [('clean', item['img'], None)]
        out += [((name, severity), image, None)
                for name, severity, image in self.variants(item['img'], item['img_path'])]
        return out


@dataclass
class CorruptionResult:
    """One model's mIoU: clean, and per corruption and severity; ``counts``:
    the per-image counts of each (``'clean'``, ``(name, severity)``)."""

    clean: float
    table: Table
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[object, ImageCounts] = field(default_factory=dict, repr=False, compare=False)

    def mean(self, name: str) -> float:
        return float(np.mean(list(self.table[name].values())))


def evaluate_corruptions(model: Segmentor, names: Sequence[str],
                         severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                         max_images: int | None = None, workers: int = 0,
                         progress: bool = True) -> CorruptionResult:
    """Scores ``model`` (from :func:`segkit.apis.inference.load_segmentor`) on
    its config's test set, clean and under each corruption and severity."""
    severities = check_severities(severities)
    data_root = model.cfg.test_dataloader.dataset.get('data_root', '') or ''
    stats, _, seconds = evaluate_variants(model, Corrupter(names, severities, seed, data_root),
                                          max_images, workers, progress, desc='corruptions')
    table = {name: {s: stats[(name, s)]['all'].miou() for s in severities} for name in names}
    classes = model.dataset_meta['classes']
    counts = {key: regions['all'].counts(classes) for key, regions in stats.items()}
    return CorruptionResult(stats['clean']['all'].miou(), table, seconds, counts)


def summarise_corruptions(results: dict[str, CorruptionResult],
                          baseline: str | None = None) -> dict[str, dict]:
    """Per model: clean mIoU, mean corrupted mIoU, mRR and, against
    ``baseline`` (one of the models), mCE and relative mCE.

    Raises:
        ValueError: ``baseline`` is not one of the models.
    """
    if baseline is not None and baseline not in results:
        raise ValueError(f'baseline {baseline!r} is not one of the models: '
                         f'{", ".join(results)}')
    out = {}
    for name, result in results.items():
        rr, mrr = relative_robustness(result.table, result.clean)
        summary = dict(clean_mIoU=result.clean,
                       corrupted_mIoU=float(np.mean([result.mean(c) for c in result.table])),
                       mRR=mrr, RR=rr, mean_by_corruption={c: result.mean(c)
                                                           for c in result.table})
        if baseline is not None:
            base = results[baseline]
            summary.update(corruption_errors(result.table, result.clean, base.table,
                                             base.clean))
        out[name] = summary
    return out


def _fmt(value: float) -> str:
    return 'n/a' if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f'{value:.1f}'


def _summary_table(summaries: dict[str, dict], baseline: str | None) -> str:
    """One row per model: clean and mean corrupted mIoU, mRR (and mCE)."""
    headers = ['model', 'clean mIoU', 'corrupted mIoU (mean)', 'mRR (%)']
    headers += ['mCE (%)', 'relative mCE (%)'] if baseline else []
    rows = [[model, f'{s["clean_mIoU"]:.2f}', f'{s["corrupted_mIoU"]:.2f}', _fmt(s['mRR'])]
            + ([_fmt(s['mCE']), _fmt(s['relative_mCE'])] if baseline else [])
            for model, s in summaries.items()]
    return markdown_table(headers, rows)


def _detail_table(results: dict[str, CorruptionResult], summaries: dict[str, dict],
                  baseline: str | None) -> str:
    """One row per model and corruption: mIoU per severity, mean, RR (and CE)."""
    names, severities = _axes(results)
    headers = (['model', 'corruption'] + [f'severity {s}' for s in severities]
               + ['mean', 'RR (%)'] + (['CE (%)'] if baseline else []))
    rows = [[model, name] + [f'{result.table[name][v]:.2f}' for v in severities]
            + [f'{result.mean(name):.2f}', _fmt(summaries[model]['RR'][name])]
            + ([_fmt(summaries[model]['CE'][name])] if baseline else [])
            for model, result in results.items() for name in names]
    return markdown_table(headers, rows, align='ll' + 'r' * (len(headers) - 2))


def _axes(results: dict[str, CorruptionResult]) -> tuple[list[str], list[int]]:
    """The corruptions and severities (those of the first model)."""
    table = next(iter(results.values())).table
    names = list(table)
    return names, list(table[names[0]])


def _write_csv(results: dict[str, CorruptionResult], path: Path) -> None:
    names, severities = _axes(results)
    rows = []
    for model, result in results.items():
        for name in names:
            rows += [dict(model=model, corruption=name, severity=v, mIoU=result.table[name][v])
                     for v in severities]
        rows.append(dict(model=model, corruption='clean', severity=0, mIoU=result.clean))
    atomic_write_csv(path, rows, ['model', 'corruption', 'severity', 'mIoU'])


def _write_json(results: dict[str, CorruptionResult], summaries: dict[str, dict],
                baseline: str | None, path: Path) -> None:
    names, severities = _axes(results)
    atomic_write_text(path, json.dumps(dict(
        baseline=baseline, severities=severities, corruptions=names,
        results={m: dict(clean=r.clean, table={c: {str(v): x for v, x in per.items()}
                                                for c, per in r.table.items()},
                         seconds=r.seconds) for m, r in results.items()},
        summary=summaries), indent=2))


def _plot_heatmaps(results: dict[str, CorruptionResult], path: Path) -> None:
    """mIoU per corruption (rows) and severity (columns), one panel per model."""
    plt = pyplot()
    names, severities = _axes(results)
    fig, axes = plt.subplots(1, len(results), squeeze=False, constrained_layout=True,
                             figsize=(1.6 + (0.9 + 0.5 * len(severities)) * len(results),
                                      1.4 + 0.3 * len(names)))
    for column, (ax, (model, result)) in enumerate(zip(axes[0], results.items())):
        grid = np.array([[result.table[c][v] for v in severities] for c in names])
        image = ax.imshow(grid, vmin=0, vmax=max(r.clean for r in results.values()),
                          cmap='viridis', aspect='auto')
        ax.set_xticks(range(len(severities)), [str(v) for v in severities], fontsize=7)
        ax.set_yticks(range(len(names)), names if column == 0 else [], fontsize=7)
        ax.set_xlabel('severity', fontsize=7)
        title = model if len(model) <= 24 else model[:len(model) // 2] + '\n' + model[
            len(model) // 2:]
        ax.set_title(f'{title}\nclean {result.clean:.1f}', fontsize=6)
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, f'{value:.0f}', ha='center', va='center', fontsize=6, color='w')
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label='mIoU (%)')
    atomic_save_figure(fig, path)


def _plot_summary(summaries: dict[str, dict], baseline: str | None, path: Path) -> None:
    """mRR (and mCE) per model, as bars."""
    plt = pyplot()
    metrics = ['mRR'] + (['mCE'] if baseline else [])
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        ax.bar(range(len(summaries)), [s[metric] for s in summaries.values()], color='tab:blue')
        ax.set_xticks(range(len(summaries)), list(summaries), rotation=30, ha='right',
                      fontsize=7)
        ax.set_title(f'{metric} (%)' + (f', baseline {baseline}' if metric == 'mCE' else ''),
                     fontsize=8)
    fig.tight_layout()
    atomic_save_figure(fig, path)


def _significance(results: dict[str, CorruptionResult], baseline: str | None, resamples: int,
                  seed: int) -> dict[str, dict] | None:
    """Intervals and paired differences (no mCE without a baseline); None
    without per-image counts or resamples."""
    from .significance import RunCounts, significance

    if not resamples or not all(r.counts for r in results.values()):
        return None
    stats = significance({m: [RunCounts.of(corruption=r)] for m, r in results.items()},
                         baseline, resamples, seed)
    if baseline is None:
        for entry in stats.values():
            for key in [k for k in entry if k.startswith(('mCE', 'delta_mCE'))]:
                del entry[key]
    return stats


def write_corruption_report(results: dict[str, CorruptionResult], out_dir: str | os.PathLike,
                            baseline: str | None = None, bootstrap: int = 1000,
                            bootstrap_seed: int = 0) -> str:
    """corruptions.{md,csv,json}, corruptions.png (heatmap of mIoU, corruption
    x severity, one panel per model) and corruption_summary.png (mCE / mRR
    per model). With per-image counts (as :func:`evaluate_corruptions` keeps
    them) and ``bootstrap`` resamples: 95 % intervals of clean mIoU, mRR and
    mCE, each model's paired differences to the baseline (the first model
    without one), corruption_forest.png and per_image_stats/<model>.npz.
    Returns the Markdown summary."""
    from .significance import RunCounts, interval_text, significance_section

    out = Path(out_dir)
    summaries = summarise_corruptions(results, baseline)
    stats = _significance(results, baseline, bootstrap, bootstrap_seed)
    if stats is None:
        text = _summary_table(summaries, baseline) + '\n'
    else:
        for model, s in summaries.items():
            s['significance'] = stats[model]
        headers = ['model', 'clean mIoU [95 % CI]', 'corrupted mIoU (mean)', 'mRR (%) [95 % CI]']
        headers += ['mCE (%) [95 % CI]', 'relative mCE (%)'] if baseline else []
        rows = [[model, interval_text(s['clean_mIoU'], stats[model]['clean_mIoU_ci95']),
                 f'{s["corrupted_mIoU"]:.2f}',
                 interval_text(s['mRR'], stats[model]['mRR_ci95'], 1)]
                + ([interval_text(s['mCE'], stats[model]['mCE_ci95'], 1),
                    _fmt(s['relative_mCE'])] if baseline else [])
                for model, s in summaries.items()]
        figures = ['clean_mIoU', 'mRR'] + (['mCE'] if baseline else [])
        text = '\n'.join([markdown_table(headers, rows), ''] + significance_section(
            stats, figures, bootstrap, out / 'corruption_forest.png')) + '\n'
        for model, result in results.items():
            RunCounts.of(corruption=result).save(out / 'per_image_stats' / f'{model}.npz')
    note = (f'mCE against {baseline}.' if baseline else 'No baseline: no mCE.')
    atomic_write_text(out / 'corruptions.md', text + '\n' + note + '\n\n'
                      + _detail_table(results, summaries, baseline) + '\n')
    _write_csv(results, out / 'corruptions.csv')
    _write_json(results, summaries, baseline, out / 'corruptions.json')
    _plot_heatmaps(results, out / 'corruptions.png')
    _plot_summary(summaries, baseline, out / 'corruption_summary.png')
    return text
