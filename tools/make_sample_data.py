"""Generate segkit's sample datasets: python tools/make_sample_data.py

Writes data/sample/ade (ADE20K layout) and data/sample/cityscapes (Cityscapes
layout with polygons and labelIds), deterministically from --seed. Does
nothing if the same data is already there (use --force to rebuild).
"""
import argparse

from segkit.utils.cli import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description='Generate the sample datasets.')
    parser.add_argument('--out', default='data/sample', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--force', action='store_true', help='rebuild even if present')
    args = parser.parse_args()
    from segkit.datasets.sample_data import make_sample_data

    out = make_sample_data(args.out, args.seed, args.num_train, args.num_val, args.force)
    print(f'sample data ready in {out}/ (ade: {args.num_train} train + {args.num_val} val)')


if __name__ == '__main__':
    run_cli(main)
