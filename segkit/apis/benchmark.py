"""Speed, memory and FLOPs of segmentors."""
from __future__ import annotations

import gc
import os
from typing import Callable

import torch

from segkit.utils.profiling import (peak_memory, peak_memory_in_subprocess, reset_peak_memory,
                                    time_call)

__all__ = ['benchmark_segmentor', 'count_flops', 'exact_cpu_peaks']


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
    process's resident set on the CPU: repeatable (to 0.3 MB in 20 here) when the
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
    measured in a second process (:mod:`segkit.apis.cpu_peaks`) with a fixed mmap
    threshold (repeatable to 0.3 MB in 20 here; see
    :func:`segkit.utils.profiling.peak_memory_in_subprocess`). If that
    process fails: a one-line warning and ``{}``, so callers keep their own
    (approximate) reading."""
    import subprocess
    import warnings

    argv = ['-m', 'segkit.apis.cpu_peaks', os.fspath(config), str(size[0]), str(size[1]),
            str(batch)] + ([] if train else ['--no-train'])
    try:
        return peak_memory_in_subprocess(argv)
    except (subprocess.CalledProcessError, ValueError) as exc:
        stderr = (getattr(exc, 'stderr', None) or str(exc)).strip().splitlines() or ['']
        warnings.warn(f'exact peak memory of {config} not measured ({stderr[-1]}); '
                      'the in-process reading is kept', stacklevel=2)
        return {}


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
