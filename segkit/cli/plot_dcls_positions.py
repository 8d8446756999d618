"""Plot where the learned DCLS taps went, one panel per position set.

    segkit plot-dcls-positions CONFIG CHECKPOINT --out taps.png
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='dcls_positions.png')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from segkit.apis.dcls_positions import collect_dcls_positions, plot_dcls_positions
    from segkit.apis.inference import load_segmentor

    positions = collect_dcls_positions(load_segmentor(args.config, args.checkpoint))
    plot_dcls_positions(positions, args.out, title=f'DCLS taps: {args.checkpoint}')
    print(f'{len(positions)} position sets plotted to {args.out}')
