"""Generate segkit's sample datasets.

    segkit make-sample-data [--out data/sample] [--seed 0] [--force]

Writes data/sample/ade (ADE20K layout) and data/sample/cityscapes (Cityscapes
layout with polygons and labelIds), deterministically from --seed. Does
nothing if the same data is already there (use --force to rebuild).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--out', default='data/sample', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--force', action='store_true', help='rebuild even if present')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from segkit.apis.datasets import make_sample_data

    out = make_sample_data(args.out, args.seed, args.num_train, args.num_val, args.force)
    print(f'sample data ready in {out}/ (ade: {args.num_train} train + {args.num_val} val)')
