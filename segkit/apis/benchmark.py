"""Speed, memory, size and FLOPs of segmentors, and side-by-side comparison."""
from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

import torch

from segkit.utils.io import atomic_save_figure, atomic_write_csv, atomic_write_text, pyplot
from segkit.utils.profiling import (peak_memory, peak_memory_in_subprocess, reset_peak_memory,
                                    time_call)
from segkit.utils.tables import markdown_table

__all__ = ['benchmark_segmentor', 'exact_cpu_peaks', 'count_flops',
           'resolve_model_pair', 'compare_models', 'write_comparison']


def _dummy_batch(model: torch.nn.Module, size: tuple[int, int], batch: int) -> dict:
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    num_classes = len(model.dataset_meta.get('classes', [])) or 2
    samples = []
    for _ in range(batch):
        sample = SegDataSample(gt_sem_seg=PixelData(
            data=torch.randint(0, num_classes, (1, *size))))
        sample.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, *size), dtype=torch.uint8) for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def benchmark_segmentor(model: torch.nn.Module, size: tuple[int, int] = (512, 512),
                        batch: int = 1, device: str = 'cpu', warmup: int = 1,
                        repeats: int = 5, train: bool = True, timing: bool = True) -> dict:
    """Median latency, throughput and peak memory of inference (and a training step).

    Peak memory is the CUDA allocator's peak on a GPU, the growth of the
    process's resident set on the CPU: repeatable (to about 1 MB) when the
    process started with ``MALLOC_MMAP_THRESHOLD_=131072`` (see
    :func:`segkit.utils.profiling.peak_memory_in_subprocess`), approximate
    otherwise. ``timing=False`` measures memory only.
    """
    model = model.to(device)
    result = dict(size=list(size), batch=batch, device=str(device))
    data = _dummy_batch(model, size, batch)
    model.eval()

    def infer() -> None:
        with torch.no_grad():
            model.test_step(data)

    def window(fn: Callable[[], None]) -> float:
        """Peak MB of one call of ``fn``, garbage collected before."""
        gc.collect()
        base = reset_peak_memory(device)
        fn()
        return (peak_memory(device) - base) / 2 ** 20

    def measure(fn: Callable[[], None]) -> tuple[float, float | None]:
        """(peak MB, median seconds or None) of ``fn`` after a warm-up call.
        Memory only: the least of three windows (a window can catch heap
        growth left over from earlier work; the least is repeatable)."""
        fn()
        if timing:
            return window(fn), time_call(fn, warmup, repeats, device)
        return min(window(fn) for _ in range(3)), None

    result['infer_peak_mb'], latency = measure(infer)
    if latency is not None:
        result.update(infer_latency_s=latency, infer_images_per_s=batch / latency)
    if train:
        from mmengine.optim import build_optim_wrapper

        wrapper = build_optim_wrapper(model, dict(type='OptimWrapper',
                                                  optimizer=dict(type='SGD', lr=1e-9)))
        train_data = _dummy_batch(model, size, batch)
        model.train()

        def step() -> None:
            model.train_step(train_data, wrapper)

        result['train_peak_mb'], seconds = measure(step)
        if seconds is not None:
            result.update(train_step_s=seconds, train_images_per_s=batch / seconds)
        model.eval()
    return result


def exact_cpu_peaks(config: str | os.PathLike, size: tuple[int, int], batch: int = 1,
                    train: bool = True) -> dict:
    """``infer_peak_mb`` (and ``train_peak_mb``) of ``config`` on the CPU,
    measured in a second process with a fixed mmap threshold (repeatable to about 1 MB; see
    :func:`segkit.utils.profiling.peak_memory_in_subprocess`). If that
    process fails: a one-line warning and ``{}``, so callers keep their own
    (approximate) reading."""
    import subprocess
    import warnings

    argv = ['-m', 'segkit.apis.benchmark', os.fspath(config), str(size[0]), str(size[1]),
            str(batch)] + ([] if train else ['--no-train'])
    try:
        return peak_memory_in_subprocess(argv)
    except (subprocess.CalledProcessError, ValueError) as exc:
        stderr = (getattr(exc, 'stderr', None) or str(exc)).strip().splitlines() or ['']
        warnings.warn(f'exact peak memory of {config} not measured ({stderr[-1]}); '
                      'the in-process reading is kept', stacklevel=2)
        return {}


def _memory_only_main(argv: list[str]) -> None:
    """``python -m segkit.apis.benchmark CONFIG H W BATCH [--no-train]``: prints the
    peaks of :func:`benchmark_segmentor` on the CPU as JSON (for :func:`exact_cpu_peaks`)."""
    from segkit.apis.inference import load_segmentor

    config, h, w, batch = argv[:4]
    result = benchmark_segmentor(load_segmentor(config), (int(h), int(w)), int(batch),
                                 'cpu', train='--no-train' not in argv, timing=False)
    print(json.dumps({k: v for k, v in result.items() if k.endswith('_peak_mb')}))


def count_flops(model: torch.nn.Module, size: tuple[int, int]) -> float | None:
    """Forward FLOPs (multiply-adds counted once, mmengine's convention) at ``size``."""
    from mmengine.analysis import get_model_complexity_info

    class _Tensor(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x, mode='tensor')

    try:
        with torch.no_grad():  # no autograd graph: UPerNet InternImage-T at 1024x2048 in 6 GB
            info = get_model_complexity_info(_Tensor(model).eval(), input_shape=(3, *size),
                                             show_table=False, show_arch=False)
    except Exception:  # noqa: BLE001 - an op the tracer cannot count: report none
        return None
    return float(info['flops'])


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
    with ``corruptions`` also mRR and, against the first model, mCE."""
    from segkit.apis.inference import load_segmentor
    from segkit.evaluation import evaluate_corruptions, evaluate_robustness, summarise
    from segkit.evaluation.corruption_benchmark import summarise_corruptions

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


if __name__ == '__main__':
    _memory_only_main(sys.argv[1:])
