"""Compare trained models side by side.

    segkit compare WORK_DIR [WORK_DIR ...] --out DIR
    segkit compare --models CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] --out DIR

One row per model: clean mIoU with its 95 % bootstrap interval over the test
images, mean mIoU under occlusion and its ratio to clean, parameters, FLOPs
at --size, inference throughput and peak memory, all measured in this run;
against --baseline (default: the first model) each model's paired difference
with its interval, Holm-adjusted p-value and verdict, per class too. Work
dirs of one config trained with different seeds (segkit train --seed N) are
pooled into one model (hierarchical bootstrap over seeds, then images).
Writes comparison.{md,csv,json}, comparison.png, comparison_forest.png and
per_image_stats/<model>.npz (docs/comparing.md).
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
    parser.add_argument('--severities', type=float, nargs='+', default=[0, 20, 40],
                        help='percent of each image occluded; 0, the clean test set, is '
                             'needed (default 0 20 40)')
    parser.add_argument('--fill', choices=['constant', 'noise', 'mean'], default='constant')
    parser.add_argument('--max-images', type=int)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--corruptions', nargs='+', default=[], metavar='NAME',
                        help="add mRR and mCE (against the baseline) over these common "
                             "corruptions: 'all', 'benchmark' or names")
    parser.add_argument('--corruption-severities', type=int, nargs='+', default=[1, 2, 3, 4, 5])
    parser.add_argument('--workers', type=int, default=0,
                        help='processes making the corrupted images')
    parser.add_argument('--baseline', metavar='NAME',
                        help='the model the others are compared with (its name in the table; '
                             'default: the first)')
    parser.add_argument('--bootstrap', type=int, default=1000, metavar='N',
                        help='bootstrap resamples of the test images for the intervals and '
                             'p-values (default 1000)')
    parser.add_argument('--device', default='cpu')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('--models takes CONFIG CHECKPOINT pairs')
    if args.bootstrap < 1:
        parser.error(f'--bootstrap must be at least 1, got {args.bootstrap}')
    from pathlib import Path

    from segkit.apis.compare import compare_models, group_work_dirs, write_comparison

    models = list(group_work_dirs(args.work_dirs))
    models += list(zip(args.models[::2], args.models[1::2], strict=True))
    if not models:
        parser.error('give work dirs or --models')
    rows = compare_models(models, tuple(args.size), args.severities, args.fill, args.device,
                          args.max_images, args.repeats,
                          corruptions=args.corruptions,
                          corruption_severities=args.corruption_severities,
                          workers=args.workers, baseline=args.baseline,
                          bootstrap=args.bootstrap,
                          per_image_dir=Path(args.out) / 'per_image_stats')
    print(write_comparison(rows, args.out, tuple(args.size)))
