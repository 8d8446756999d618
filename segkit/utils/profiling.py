"""Timing and peak-memory measurement for benchmarks (CPU and CUDA)."""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

import torch

__all__ = ['call_peak', 'peak_memory_in_subprocess', 'reset_peak_memory', 'peak_memory',
           'time_call']

# Blocks of this size or more are mapped on their own (and unmapped when
# freed) inside a window, and in the whole of a measuring process.
_WINDOW_MMAP_THRESHOLD = 128 * 1024


def peak_memory_in_subprocess(argv: list[str]) -> dict:
    """Runs ``python argv...`` so that its CPU peak-memory readings are repeatable.

    glibc keeps freed blocks for reuse (and raises its mmap threshold as it
    goes), so in a long benchmark the resident set stays high after one
    variant and hides the next one's peak. With a fixed mmap threshold every
    large tensor is unmapped when freed and the high-water mark of the
    resident set is the real peak; but every allocation then costs a system
    call, so timings are taken in the normal process and only the memory
    readings in this one. The command must print a JSON object as its last
    line; it is returned.
    """
    import json
    import subprocess
    import sys

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(_WINDOW_MMAP_THRESHOLD))
    result = subprocess.run([sys.executable, *argv], env=env, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _status_kb(field: str) -> int | None:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _mallopt_mmap_threshold(value: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL('libc.so.6')
        libc.mallopt(_M_MMAP_THRESHOLD, value)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_memory(device: str | torch.device = 'cpu') -> int:
    """Starts a peak-memory window; returns the baseline in bytes.

    On the CPU this resets the process's resident-set high-water mark
    (Linux ``/proc/self/clear_refs``), so the peak covers everything the
    process allocates, torch or not. Until :func:`peak_memory`, glibc maps
    every block of 128 KiB or more on its own and returns it when freed (this
    slows allocation: time outside the window). Blocks the heap kept from
    before the window can still be reused or counted, so the reading is
    approximate (off by tens of MB on a ResNet-50 at 256x256); for repeatable
    figures measure in a process started with the threshold fixed, as
    :func:`peak_memory_in_subprocess` does. On CUDA it resets torch's
    counters (exact).
    """
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device)
    _mallopt_mmap_threshold(_WINDOW_MMAP_THRESHOLD)
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass
    return (_status_kb('VmRSS') or 0) * 1024


def peak_memory(device: str | torch.device = 'cpu') -> int:
    """Peak bytes since :func:`reset_peak_memory` (resident set on the CPU)."""
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)
    peak = (_status_kb('VmHWM') or 0) * 1024
    _mallopt_mmap_threshold(_threshold_outside_windows())
    return peak


def call_peak(fn: Callable[[], object], device: str | torch.device = 'cpu') -> int:
    """Peak bytes of one call of ``fn`` above what was held before it, after
    a warm-up call (caches, lazily built kernels)."""
    fn()
    base = reset_peak_memory(device)
    fn()
    return peak_memory(device) - base


def _threshold_outside_windows() -> int:
    """The mmap threshold the process runs with between windows: the one it
    was started with (``MALLOC_MMAP_THRESHOLD_``; a fixed one keeps the heap
    unfragmented between windows, which is what makes the readings
    repeatable), else glibc's largest dynamic threshold."""
    try:
        return int(os.environ['MALLOC_MMAP_THRESHOLD_'])
    except (KeyError, ValueError):
        return 32 * 1024 * 1024


def time_call(fn: Callable[[], object], warmup: int = 1, repeats: int = 3,
              device: str | torch.device = 'cpu') -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` calls."""
    device = torch.device(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == 'cuda' else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
