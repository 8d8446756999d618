"""Trained segmentors side by side: mIoU (clean, occluded, corrupted), size,
FLOPs, speed and memory, measured in one run; the comparison report.

Every mIoU comes with a 95 % bootstrap interval over the test images and,
against a baseline, a paired difference with its interval, a Holm-adjusted
p-value and a verdict (:mod:`segkit.evaluation.significance`); the work dirs
of one config trained with different seeds are pooled into one model
(hierarchical bootstrap over seeds, then images). docs/comparing.md says
what the numbers mean.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from segkit.errors import ConfigError
from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

from .benchmark import benchmark_segmentor, count_flops, exact_cpu_peaks

__all__ = ['ModelRuns', 'compare_models', 'group_work_dirs', 'resolve_model_pair',
           'write_comparison']


def resolve_model_pair(item: str) -> tuple[str, str]:
    """A work dir (holding its config copy and last_checkpoint) -> (config, checkpoint)."""
    path = Path(item)
    if not path.is_dir():
        raise FileNotFoundError(f'not a work dir: {item}')
    configs = sorted(p for p in path.glob('*.py'))
    pointer = path / 'last_checkpoint'
    if not configs or not pointer.is_file():
        raise FileNotFoundError(f'{item} has no config copy (*.py) or last_checkpoint: '
                                'is it a tools/train.py work dir?')
    return str(configs[0]), pointer.read_text().strip()


@dataclass
class ModelRuns:
    """One compared model: its training runs (config, checkpoint), one per
    seed (``seeds``: each run's, None where unknown)."""

    name: str
    runs: list[tuple[str, str]]
    seeds: list[int | None] = field(default_factory=list)


def group_work_dirs(work_dirs: Sequence[str | os.PathLike]) -> list[ModelRuns]:
    """Work dirs -> models: those of one config (by the name of its config
    copy) trained with different recorded seeds (``segkit train --seed``)
    become one model named by the config; otherwise each work dir is a model
    (named by the config, or ``config:work dir`` where two share a config).

    Raises:
        FileNotFoundError: a path that is not a training work dir.
    """
    from .runner import read_run_seed

    found: dict[str, list[tuple[str, tuple[str, str], int | None]]] = {}
    for work_dir in work_dirs:
        pair = resolve_model_pair(os.fspath(work_dir))
        found.setdefault(Path(pair[0]).stem, []).append(
            (Path(work_dir).name, pair, read_run_seed(work_dir)))
    models = []
    for config, runs in found.items():
        seeds = [seed for _, _, seed in runs]
        if len(runs) == 1 or (None not in seeds and len(set(seeds)) == len(seeds)):
            models.append(ModelRuns(config, [pair for _, pair, _ in runs], seeds))
        else:  # the same seed twice (or unknown): not independent runs, kept apart
            models += [ModelRuns(f'{config}:{name}', [pair], [seed]) for name, pair, seed in runs]
    return models


def _models(pairs: Sequence[tuple[str, str] | ModelRuns]) -> list[ModelRuns]:
    """Config / checkpoint pairs (each its own model) and models, uniquely named."""
    models = [p if isinstance(p, ModelRuns) else ModelRuns(Path(p[0]).stem, [tuple(p)], [None])
              for p in pairs]
    names = [m.name for m in models]
    for m in models:
        if names.count(m.name) > 1 and len(m.runs) == 1:
            m.name = f'{m.name}:{Path(m.runs[0][1]).stem}'  # two checkpoints of one config
    names = [m.name for m in models]
    if len(set(names)) < len(names):
        raise ConfigError(f'two models are named alike: {", ".join(names)}')
    return models


def compare_models(pairs: Sequence[tuple[str, str] | ModelRuns], size: tuple[int, int] = (512, 512),
                   severities: Sequence[float] = (0, 20, 40), fill: str = 'constant',
                   device: str = 'cpu', max_images: int | None = None, repeats: int = 3,
                   progress: bool = True, corruptions: Sequence[str] = (),
                   corruption_severities: Sequence[int] = (1, 2, 3, 4, 5),
                   workers: int = 0, baseline: str | None = None, bootstrap: int = 1000,
                   bootstrap_seed: int = 0,
                   per_image_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per model: mIoU (clean and occluded) with 95 % intervals and,
    against ``baseline``, paired differences; size, FLOPs, speed, memory;
    with ``corruptions`` ('all', 'benchmark' or names) also mRR and, against
    the baseline, mCE.

    Args:
        pairs: (config, checkpoint) pairs, each a model, or :class:`ModelRuns`
            (several seeds of one config: :func:`group_work_dirs`).
        severities: Occlusion severities (percent); 0 is the clean test set,
            which the intervals and differences need.
        baseline: The model the others are compared with (default: the first).
        bootstrap: Bootstrap resamples of the test images.
        bootstrap_seed: Of the bootstrap's draws.
        per_image_dir: Where each run's per-image counts are written
            (``<model>.npz``, ``<model>_seed<N>.npz`` for pooled runs).

    Raises:
        ConfigError: a baseline that is not one of the models, fewer than
            one resample, or no clean severity (0); checked before any model
            is loaded.
    """
    from segkit.apis.inference import load_segmentor
    from segkit.evaluation import corruption_names, evaluate_corruptions, evaluate_robustness
    from segkit.evaluation.significance import RunCounts, significance

    models = _models(pairs)
    names = [m.name for m in models]
    baseline = names[0] if baseline is None else baseline
    if baseline not in names:
        raise ConfigError(f'--baseline {baseline!r} is not one of the models: {", ".join(names)}')
    if bootstrap < 1:
        raise ConfigError(f'--bootstrap must be at least 1 resample, got {bootstrap}')
    if 0 not in severities:
        raise ConfigError(f'--severities must include 0 (the clean test set), got '
                          f'{list(severities)}')
    corruptions = corruption_names(corruptions) if corruptions else []

    rows, counts = [], {}
    for m in models:
        counts[m.name] = []
        clean, occluded = [], []
        for index, (config, checkpoint) in enumerate(m.runs):
            model = load_segmentor(config, checkpoint, device)
            per_severity = evaluate_robustness(model, severities, fill, max_images=max_images,
                                               progress=progress)
            corrupted = (evaluate_corruptions(model, corruptions, corruption_severities,
                                              max_images=max_images, workers=workers,
                                              progress=progress) if corruptions else None)
            counts[m.name].append(RunCounts.of(per_severity, corrupted))
            clean += [r.mIoU for r in per_severity if r.severity == 0]
            occluded += [r.mIoU for r in per_severity if r.severity > 0]
            if index:
                continue  # one architecture: size and speed measured once
            speed = benchmark_segmentor(model, size, 1, device, repeats=repeats, train=False)
            if str(device) == 'cpu' and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
                speed.update(exact_cpu_peaks(config, size, 1, train=False))
            flops = count_flops(model, size)
            row = dict(
                model=m.name, config=config, checkpoint=checkpoint,
                backbone=model.cfg.model.backbone.get('type'),
                params_m=sum(p.numel() for p in model.parameters()) / 1e6,
                gflops=flops / 1e9 if flops is not None else float('nan'),
                images_per_s=speed['infer_images_per_s'], peak_mb=speed['infer_peak_mb'])
        clean_miou = sum(clean) / len(clean)
        occluded_miou = sum(occluded) / len(occluded) if occluded else float('nan')
        row.update(clean_mIoU=clean_miou, occluded_mIoU=occluded_miou,
                   occlusion_ratio=occluded_miou / clean_miou if clean_miou else float('nan'))
        if len(m.runs) > 1:
            row.update(checkpoints=[c for _, c in m.runs], seed_values=m.seeds)
        rows.append(row)
    stats = significance(counts, baseline, bootstrap, bootstrap_seed)
    for row in rows:
        row.update(stats[row['model']], bootstrap_resamples=bootstrap)
    if per_image_dir is not None:
        for m in models:
            for index, run in enumerate(counts[m.name]):
                seed = m.seeds[index] if m.seeds and m.seeds[index] is not None else index
                run.save(Path(per_image_dir) / (f'{m.name}.npz' if len(m.runs) == 1
                                                else f'{m.name}_seed{seed}.npz'))
    return rows


def _csv_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """Rows for the CSV: intervals as ``<key>_lo`` / ``<key>_hi``, lists joined
    by ``;``, the per-class figures left to the JSON."""
    out, fields = [], []
    for row in rows:
        flat = {}
        for key, value in row.items():
            if key == 'per_class':
                continue
            if key.endswith('_ci95'):
                flat[f'{key}_lo'], flat[f'{key}_hi'] = value
            elif isinstance(value, list):
                flat[key] = ';'.join(str(v) for v in value)
            else:
                flat[key] = value
        fields += [k for k in flat if k not in fields]
        out.append(flat)
    return out, fields


def write_comparison(rows: list[dict], out_dir: str | os.PathLike, size: tuple[int, int]) -> str:
    """Writes comparison.{md,csv,json}, comparison.png and, with two models or
    more, comparison_forest.png (each model's differences to the baseline);
    returns the Markdown summary (comparison.md adds the per-class view)."""
    from segkit.evaluation.significance import (interval_text, per_class_markdown,
                                                significance_section)

    plt = pyplot()
    out = Path(out_dir)
    corruption = 'mRR' in rows[0]
    headers = (['model', 'backbone', 'params (M)', f'GFLOPs @{size[0]}x{size[1]}',
                'clean mIoU [95 % CI]', 'occluded mIoU (mean)', 'ratio']
               + (['mRR (%) [95 % CI]', 'mCE (%) [95 % CI]'] if corruption else [])
               + ['images/s', 'peak memory (MB)'])
    table = [
        [r['model'], r['backbone'], f"{r['params_m']:.2f}", f"{r['gflops']:.2f}",
         interval_text(r['clean_mIoU'], r.get('clean_mIoU_ci95')),
         interval_text(r['occluded_mIoU'], None), interval_text(r['occlusion_ratio'], None, 3)]
        + ([interval_text(r['mRR'], r.get('mRR_ci95'), 1),
            interval_text(r['mCE'], r.get('mCE_ci95'), 1)] if corruption else [])
        + [f"{r['images_per_s']:.1f}", f"{r['peak_mb']:.0f}"] for r in rows]
    align = 'll' + 'r' * (len(headers) - 2)
    if any(r.get('seeds', 1) > 1 for r in rows):  # mean and spread over seeds
        headers.insert(1, 'seeds (sd of mIoU)')
        align = 'lrl' + align[2:]
        for r, cells in zip(rows, table):
            cells.insert(1, f"{r['seeds']} ({r['seed_std']:.2f})" if r['seeds'] > 1 else '1')
    md = [markdown_table(headers, table, align=align)]
    stats = {r['model']: r for r in rows}
    figures = ['clean_mIoU'] + (['mRR', 'mCE'] if corruption else [])
    if corruption:
        md += ['', f"mRR and mCE over the corruptions given; mCE against "
                   f"{rows[0].get('baseline', rows[0]['model'])}."]
    if 'clean_mIoU_ci95' in rows[0]:
        md += [''] + significance_section(stats, figures, rows[0]['bootstrap_resamples'],
                                          out / 'comparison_forest.png')
    text = '\n'.join(md) + '\n'
    per_class = per_class_markdown(stats) if 'clean_mIoU_ci95' in rows[0] else ''
    atomic_write_text(out / 'comparison.md', text + ('\n' + per_class + '\n' if per_class
                                                     else ''))
    csv_rows, fields = _csv_rows(rows)
    atomic_write_csv(out / 'comparison.csv', csv_rows, fields)
    atomic_write_text(out / 'comparison.json', json.dumps(rows, indent=2))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    names = [r['model'] for r in rows]
    for ax, key, label in zip(axes, ('clean_mIoU', 'occluded_mIoU', 'images_per_s'),
                              ('clean mIoU (%)', 'mean occluded mIoU (%)', 'images / s')):
        ax.bar(range(len(rows)), [r[key] for r in rows], color='tab:blue')
        if key == 'clean_mIoU' and 'clean_mIoU_ci95' in rows[0]:
            ax.errorbar(range(len(rows)), [r[key] for r in rows], fmt='none', ecolor='k',
                        capsize=3, yerr=[[r[key] - r['clean_mIoU_ci95'][0] for r in rows],
                                         [r['clean_mIoU_ci95'][1] - r[key] for r in rows]])
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=30, ha='right', fontsize=7)
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    atomic_save_figure(fig, out / 'comparison.png')
    return text
