"""Robustness per model: occlusion, or common corruptions (mCE / mRR).

    segkit robustness CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] --out DIR
        [--occluder rectangles|objects] [--severities 0 10 20 30 40 50]
    segkit robustness CONFIG CHECKPOINT [...] --corruptions all|benchmark|NAME ...
        [--severities 1 2 3 4 5] [--baseline MODEL] [--workers 2]

Occlusion (default) covers 0, 10, ..., 50 % of each validation image with
random rectangles, or of each object's pixels with rectangles on the objects
(--occluder objects), and reports per severity the mIoU on all, on occluded
and on visible pixels, the mean over severities and its ratio to clean:
robustness.{md,csv,json,png}. With --corruptions: mIoU per corruption and
severity (imagecorruptions' definitions), mRR, and with --baseline (one of the
models, by config name) mCE and relative mCE: corruptions.{md,csv,json},
corruptions.png (heatmaps) and corruption_summary.png. Every figure has a
95 % bootstrap interval over the images and, with several models, each
model's paired difference to the baseline (the first without --baseline),
Holm-adjusted p-value and verdict (a forest plot beside; docs/comparing.md).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('models', nargs='+', metavar='CONFIG CHECKPOINT',
                        help='one or more config / checkpoint pairs')
    parser.add_argument('--out', default='work_dirs/robustness')
    parser.add_argument('--corruptions', nargs='+', metavar='NAME',
                        help="common corruptions: 'all' (19), 'benchmark' (the 16 of "
                             'Cityscapes-C) or names; default: occlusion')
    parser.add_argument('--severities', type=float, nargs='+',
                        help='occlusion: percent covered (default 0 10 20 30 40 50); '
                             'corruptions: 1-5 (default all five)')
    parser.add_argument('--baseline', help='the model (config name) the others are compared '
                                           'with; corruptions: mCE is relative to it')
    parser.add_argument('--occluder', choices=['rectangles', 'objects'], default='rectangles',
                        help="occlusion: random rectangles anywhere, or on each object")
    parser.add_argument('--thing-classes', nargs='+', metavar='CLASS',
                        help='--occluder objects: the classes whose connected components are '
                             'objects (default: known for Cityscapes, ADE20K and the sample '
                             'data, else every class)')
    parser.add_argument('--fill', choices=['constant', 'noise', 'mean'], default='constant')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-images', type=int, help='evaluate only the first N images')
    parser.add_argument('--workers', type=int, default=0,
                        help='processes making the perturbed images while the model runs')
    parser.add_argument('--bootstrap', type=int, default=1000, metavar='N',
                        help='bootstrap resamples of the images for the intervals and paired '
                             'tests (default 1000; 0: none)')
    parser.add_argument('--device', default='cpu')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('models must come as CONFIG CHECKPOINT pairs')
    from segkit.apis.robustness import robustness_study

    report = robustness_study(
        list(zip(args.models[::2], args.models[1::2], strict=True)), args.out,
        corruptions=args.corruptions, severities=args.severities, baseline=args.baseline,
        occluder=args.occluder, thing_classes=args.thing_classes, fill=args.fill,
        seed=args.seed, max_images=args.max_images, workers=args.workers, device=args.device,
        bootstrap=args.bootstrap)
    print(report.markdown)
    for line in report.lines:
        print(line)
    print(f'{report.files} written to {args.out}')
