"""Convert an official ImageNet/segmentation checkpoint for a segkit backbone.

    segkit convert internimage internimage_t_1k_224.pth checkpoints/internimage_t_1k_224.pth
    segkit convert convnext convnext_dcls_tiny_1k_224_ema.pth checkpoints/x.pth

Keeps the backbone weights, drops classifiers and decode heads, writes
{'state_dict': ..., 'meta': ...} (the DCLS version of ConvNeXt-dcls positions
in meta). Loading uses weights_only: a checkpoint holding code-carrying
objects is refused.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('arch', choices=['internimage', 'flash_internimage', 'convnext'])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the converted checkpoint')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from segkit.apis.convert import convert_checkpoint_file

    count = convert_checkpoint_file(args.src, args.dst, args.arch)
    print(f'wrote {count} tensors to {args.dst}')
