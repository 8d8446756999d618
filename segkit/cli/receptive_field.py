"""What each backbone looks at: effective receptive field and occlusion sensitivity.

    segkit receptive-field CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] [--images DIR] --out DIR

For the centre pixel of each model's score map: the gradient of its
predicted-class score with respect to the input, averaged over images, with
the radii holding 50 % / 95 % of the gradient mass, and the score drop when a
patch elsewhere is covered. Writes receptive_field.{md,json,png} (one column
per model). Images: --images (a folder or a list) or the config's test set.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('models', nargs='+', metavar='CONFIG CHECKPOINT',
                        help='one or more config / checkpoint pairs')
    parser.add_argument('--images', help="images to average over (default: the config's "
                                         'test set)')
    parser.add_argument('--max-images', type=int, default=8)
    parser.add_argument('--patch', type=int, default=16, help='occluding square, pixels')
    parser.add_argument('--stride', type=int, default=8, help='step between squares, pixels')
    parser.add_argument('--out', default='work_dirs/receptive_field')
    parser.add_argument('--device', default='cpu')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('models must come as CONFIG CHECKPOINT pairs')
    from segkit.apis.receptive_field import receptive_fields

    pairs = list(zip(args.models[::2], args.models[1::2], strict=True))
    print(receptive_fields(pairs, args.out, args.images, args.max_images, args.patch,
                           args.stride, args.device))
    print(f'receptive_field.{{md,json,png}} written to {args.out}')
