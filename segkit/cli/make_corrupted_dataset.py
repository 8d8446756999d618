"""Write a config's test set, corrupted, to disk (to share, or to rerun without regenerating).

    segkit make-corrupted-dataset CONFIG --out DIR [--corruptions benchmark]
        [--severities 1 2 3 4 5] [--workers 2] [--max-images N]

Writes DIR/<dataset>-c/<corruption>/<severity>/ in the dataset's own layout
(images as PNG, labels copied beside), atomically; a rerun keeps what exists.
DIR/<dataset>-c/dataset.json says how a config reads it back.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('--out', required=True)
    parser.add_argument('--corruptions', nargs='+', default=['benchmark'], metavar='NAME',
                        help="'all', 'benchmark' (default) or names")
    parser.add_argument('--severities', type=int, nargs='+', default=[1, 2, 3, 4, 5])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-images', type=int)
    parser.add_argument('--workers', type=int, default=0)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from segkit.apis.datasets import make_corrupted_dataset

    root, names, severities = make_corrupted_dataset(args.config, args.out, args.corruptions,
                                                     args.severities, args.seed,
                                                     args.max_images, args.workers)
    print(f'{len(names)} corruptions x {len(severities)} severities written to {root} '
          f'(read back as described in {root / "dataset.json"})')
