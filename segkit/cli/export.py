"""Export a trained segmentor to ONNX, check it, and compare onnxruntime with PyTorch.

    segkit export CONFIG CHECKPOINT --out model.onnx [--size H W] [--dynamic] [--opset 18]

The graph takes a float (N, 3, H, W) image as the config's data
preprocessor does (BGR 0-255 for segkit's configs) and returns logits at
the input size; the auxiliary head is dropped. Prints the largest difference
to PyTorch on a random input and on a test image. Run it with
`segkit infer CONFIG model.onnx IMAGES --backend onnxruntime`.
"""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help="input size (default: the config's crop size, else 512 512)")
    parser.add_argument('--dynamic', action='store_true',
                        help='dynamic batch, height and width (32 to 4096 pixels); '
                             "UPerNet's pyramid pooling keeps the size fixed: batch only")
    parser.add_argument('--opset', type=int, default=18)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    import os

    from segkit.apis.export import export_checkpoint

    report = export_checkpoint(args.config, args.checkpoint, args.out, args.size,
                               args.dynamic, args.opset)
    print(json.dumps(report, indent=2))
    print(f'wrote {args.out} ({os.path.getsize(args.out) / 2**20:.1f} MB): largest difference '
          f'to PyTorch {report["random_max_abs_diff"]:.2e} (relative '
          f'{report["random_max_rel_diff"]:.2e}) on a random input'
          + (f', {report["real_max_rel_diff"]:.2e} relative on a test image'
             if 'real_max_rel_diff' in report else ''))
