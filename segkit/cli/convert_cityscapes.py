"""Make Cityscapes train-id labels from the polygons.

    segkit convert-cityscapes DATA_ROOT [--nproc 8]

Writes *_gtFine_labelTrainIds.png beside every *_gtFine_polygons.json and the
split lists train.txt / val.txt / test.txt in DATA_ROOT.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('data_root', help='Cityscapes root (holds leftImg8bit/ and gtFine/)')
    parser.add_argument('--gt-dir', default='gtFine', help='annotation folder name')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from segkit.apis.datasets import convert_cityscapes

    result = convert_cityscapes(args.data_root, args.gt_dir, args.nproc)
    splits = ', '.join(f'{k}: {v}' for k, v in result['splits'].items())
    print(f'converted {result["converted"]} files ({splits})')
    for error in result['failed']:
        print(f'failed: {error}', file=sys.stderr)
    return 1 if result['failed'] else 0
