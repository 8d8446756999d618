"""Speed and memory of a segmentor.

    segkit benchmark CONFIG [--size 512 512] [--batch 1] [--device cpu]

Median latency and throughput of inference and of a training step (random
weights and data; --no-train to skip it), and peak memory. On the CPU the
peaks are taken in a second process with a fixed glibc mmap threshold,
which makes them exact; the timings in this one.
"""
from __future__ import annotations

import argparse
import json
import os


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('--size', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--no-train', action='store_true', help='inference only')
    parser.add_argument('--json', help='also write the figures to this JSON file')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from segkit.apis.benchmark import benchmark_segmentor, exact_cpu_peaks
    from segkit.apis.inference import load_segmentor
    from segkit.utils.io import atomic_write_text

    model = load_segmentor(args.config)  # random weights: speed does not depend on them
    result = benchmark_segmentor(model, tuple(args.size), args.batch, args.device,
                                 args.warmup, args.repeats, train=not args.no_train)
    if args.device == 'cpu' and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
        result.update(exact_cpu_peaks(args.config, tuple(args.size), args.batch,
                                      train=not args.no_train))
    result['params_m'] = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"{args.config} at {args.size[0]}x{args.size[1]}, batch {args.batch}, "
          f"{args.device}, median of {args.repeats}")
    print(f"  inference: {result['infer_latency_s'] * 1e3:.1f} ms, "
          f"{result['infer_images_per_s']:.2f} images/s, peak {result['infer_peak_mb']:.0f} MB")
    if 'train_step_s' in result:
        print(f"  training step: {result['train_step_s'] * 1e3:.1f} ms, "
              f"{result['train_images_per_s']:.2f} images/s, peak {result['train_peak_mb']:.0f} MB")
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=2))
