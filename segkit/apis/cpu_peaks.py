"""Peak memory of a config's segmentor on the CPU, in a process of its own.

    python -m segkit.apis.cpu_peaks CONFIG H W BATCH [--no-train]

Prints ``{"infer_peak_mb": ..., "train_peak_mb": ...}`` (the peaks of
:func:`segkit.apis.benchmark.benchmark_segmentor`, memory only, random
weights) as one JSON line. :func:`segkit.apis.benchmark.exact_cpu_peaks`
runs it with a fixed glibc mmap threshold, which makes the readings
repeatable; run by hand, they are approximate.
"""
from __future__ import annotations

import json
import sys
from typing import Sequence

__all__ = ['main']


def main(argv: Sequence[str]) -> None:
    """Measures and prints the peaks (see the module docstring)."""
    from segkit.apis.benchmark import benchmark_segmentor
    from segkit.apis.inference import load_segmentor

    config, h, w, batch = argv[:4]
    result = benchmark_segmentor(load_segmentor(config), (int(h), int(w)), int(batch),
                                 'cpu', train='--no-train' not in argv, timing=False)
    print(json.dumps({k: v for k, v in result.items() if k.endswith('_peak_mb')}))


if __name__ == '__main__':
    main(sys.argv[1:])
