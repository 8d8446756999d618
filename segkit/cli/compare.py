"""Compare trained models side by side.

    segkit compare WORK_DIR [WORK_DIR ...] --out DIR
    segkit compare --models CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] --out DIR

One row per model: clean mIoU, mean mIoU under occlusion and its ratio to
clean, parameters, FLOPs at --size, inference throughput and peak memory,
all measured in this run. Writes comparison.{md,csv,json} and comparison.png.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('work_dirs', nargs='*', help='tools/train.py work dirs')
    parser.add_argument('--models', nargs='+', metavar='CONFIG CHECKPOINT', default=[],
                        help='config / checkpoint pairs instead of work dirs')
    parser.add_argument('--out', default='work_dirs/compare')
    parser.add_argument('--size', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'),
                        help='input size for FLOPs and throughput')
    parser.add_argument('--severities', type=float, nargs='+', default=[0, 20, 40])
    parser.add_argument('--fill', choices=['constant', 'noise', 'mean'], default='constant')
    parser.add_argument('--max-images', type=int)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--corruptions', nargs='+', default=[], metavar='NAME',
                        help="add mRR and mCE (against the first model) over these common "
                             "corruptions: 'all', 'benchmark' or names")
    parser.add_argument('--corruption-severities', type=int, nargs='+', default=[1, 2, 3, 4, 5])
    parser.add_argument('--workers', type=int, default=0,
                        help='processes making the corrupted images')
    parser.add_argument('--device', default='cpu')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('--models takes CONFIG CHECKPOINT pairs')
    from segkit.apis.compare import compare_models, resolve_model_pair, write_comparison

    pairs = [resolve_model_pair(d) for d in args.work_dirs]
    pairs += list(zip(args.models[::2], args.models[1::2], strict=True))
    if not pairs:
        parser.error('give work dirs or --models')
    rows = compare_models(pairs, tuple(args.size), args.severities, args.fill, args.device,
                          args.max_images, args.repeats,
                          corruptions=args.corruptions,
                          corruption_severities=args.corruption_severities,
                          workers=args.workers)
    print(write_comparison(rows, args.out, tuple(args.size)))
