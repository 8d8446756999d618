"""Trained segmentors side by side: mIoU (clean, occluded, corrupted), size,
FLOPs, speed and memory, measured in one run; the comparison report."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

from .benchmark import benchmark_segmentor, count_flops, exact_cpu_peaks

__all__ = ['compare_models', 'resolve_model_pair', 'write_comparison']


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


def compare_models(pairs: Sequence[tuple[str, str]], size: tuple[int, int] = (512, 512),
                   severities: Sequence[float] = (0, 20, 40), fill: str = 'constant',
                   device: str = 'cpu', max_images: int | None = None, repeats: int = 3,
                   progress: bool = True, corruptions: Sequence[str] = (),
                   corruption_severities: Sequence[int] = (1, 2, 3, 4, 5),
                   workers: int = 0) -> list[dict]:
    """One row per model: mIoU (clean and occluded), size, FLOPs, speed, memory;
    with ``corruptions`` ('all', 'benchmark' or names) also mRR and, against
    the first model, mCE."""
    from segkit.apis.inference import load_segmentor
    from segkit.evaluation import (corruption_names, evaluate_corruptions, evaluate_robustness,
                                   summarise)
    from segkit.evaluation.corruption_benchmark import summarise_corruptions

    corruptions = corruption_names(corruptions) if corruptions else []

    rows, corrupted = [], {}
    for config, checkpoint in pairs:
        model = load_segmentor(config, checkpoint, device)
        per_severity = evaluate_robustness(model, severities, fill, max_images=max_images,
                                           progress=progress)
        summary = summarise(per_severity)
        speed = benchmark_segmentor(model, size, 1, device, repeats=repeats, train=False)
        if str(device) == 'cpu' and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
            speed.update(exact_cpu_peaks(config, size, 1, train=False))
        flops = count_flops(model, size)
        rows.append(dict(
            model=Path(config).stem, config=config, checkpoint=checkpoint,
            backbone=model.cfg.model.backbone.get('type'),
            params_m=sum(p.numel() for p in model.parameters()) / 1e6,
            gflops=flops / 1e9 if flops is not None else float('nan'),
            clean_mIoU=summary['clean_mIoU'],
            occluded_mIoU=summary['mean_occluded_mIoU'],
            occlusion_ratio=summary['ratio_to_clean'],
            images_per_s=speed['infer_images_per_s'],
            peak_mb=speed['infer_peak_mb']))
        if corruptions:
            corrupted[rows[-1]['model']] = evaluate_corruptions(
                model, corruptions, corruption_severities, max_images=max_images,
                workers=workers, progress=progress)
    if corrupted:
        summaries = summarise_corruptions(corrupted, baseline=rows[0]['model'])
        for row in rows:
            row.update(mRR=summaries[row['model']]['mRR'], mCE=summaries[row['model']]['mCE'])
    return rows


def write_comparison(rows: list[dict], out_dir: str | os.PathLike, size: tuple[int, int]) -> str:
    """Writes comparison.{md,csv,json} and comparison.png; returns the Markdown."""
    plt = pyplot()
    out = Path(out_dir)
    corruption = 'mRR' in rows[0]
    headers = (['model', 'backbone', 'params (M)', f'GFLOPs @{size[0]}x{size[1]}', 'clean mIoU',
                'occluded mIoU (mean)', 'ratio'] + (['mRR (%)', 'mCE (%)'] if corruption else [])
               + ['images/s', 'peak memory (MB)'])
    md = [markdown_table(headers, [
        [r['model'], r['backbone'], f"{r['params_m']:.2f}", f"{r['gflops']:.2f}",
         f"{r['clean_mIoU']:.2f}", f"{r['occluded_mIoU']:.2f}", f"{r['occlusion_ratio']:.3f}"]
        + ([f"{r['mRR']:.1f}", f"{r['mCE']:.1f}"] if corruption else [])
        + [f"{r['images_per_s']:.1f}", f"{r['peak_mb']:.0f}"] for r in rows],
        align='ll' + 'r' * (len(headers) - 2))]
    if corruption:
        md += ['', f"mRR and mCE over the corruptions given; mCE against {rows[0]['model']}."]
    text = '\n'.join(md) + '\n'
    atomic_write_text(out / 'comparison.md', text)
    atomic_write_csv(out / 'comparison.csv', rows)
    atomic_write_text(out / 'comparison.json', json.dumps(rows, indent=2))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    names = [r['model'] for r in rows]
    for ax, key, label in zip(axes, ('clean_mIoU', 'occluded_mIoU', 'images_per_s'),
                              ('clean mIoU (%)', 'mean occluded mIoU (%)', 'images / s')):
        ax.bar(range(len(rows)), [r[key] for r in rows], color='tab:blue')
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(names, rotation=30, ha='right', fontsize=7)
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    atomic_save_figure(fig, out / 'comparison.png')
    return text
