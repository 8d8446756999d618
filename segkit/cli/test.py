"""Evaluate a checkpoint on the config's test set.

    segkit test CONFIG CHECKPOINT [--metrics-json FILE] [--out DIR] [--show-dir DIR] [--tta]

Prints mmseg's per-class IoU/Acc table and aAcc / mIoU / mAcc.
"""
from __future__ import annotations

import argparse
import os

from segkit.cli.train import add_launcher_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs and per_image_stats.npz')
    parser.add_argument('--out', help='folder to write the predicted label maps to')
    parser.add_argument('--show-dir', help='folder to write visualised predictions to')
    parser.add_argument('--metrics-json', help='write the metrics to this JSON file')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    add_launcher_arguments(parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    from segkit.apis import test

    metrics = test(args.config, args.checkpoint, work_dir=args.work_dir, out=args.out,
                   show_dir=args.show_dir, metrics_json=args.metrics_json,
                   cfg_options=args.cfg_options, launcher=args.launcher, tta=args.tta)
    print('  '.join(f'{k}: {v:.2f}' for k, v in metrics.items() if isinstance(v, float)))
    stats = os.path.join(args.work_dir or '', 'per_image_stats.npz')
    if args.work_dir and os.path.isfile(stats):
        print(f'per-image counts (for intervals and paired comparisons): {stats}')
