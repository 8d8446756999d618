"""Segment an image, a folder (recursive) or a text list of images.

    segkit infer CONFIG CHECKPOINT INPUT --out OUT_DIR [--batch-size 4]
        [--flip] [--scales 0.75 1.0 1.25] [--slide 512 341] [--show-dir DIR] [--device cuda]

Writes OUT_DIR/labels/<path>.png (class indices, input size), OUT_DIR/overlays/<path>.jpg
and OUT_DIR/summary.json. Unreadable files are listed with their reason; the
exit status is 1 if any file failed, 0 otherwise.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='an image, a folder (searched recursively) or a .txt list')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--flip', action='store_true', help='average with horizontal flips')
    parser.add_argument('--scales', type=float, nargs='+', default=[1.0],
                        help='test-time scales, averaged')
    parser.add_argument('--slide', type=int, nargs=2, metavar=('CROP', 'STRIDE'),
                        help='sliding-window inference with square CROP windows')
    parser.add_argument('--show-dir', help='also write image | prediction | overlay pictures')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--backend', choices=['pytorch', 'onnxruntime'], default='pytorch',
                        help='onnxruntime: CHECKPOINT is a file from segkit export')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from segkit.apis.inference import list_inputs, load_segmentor, segment_inputs

    list_inputs(args.input)  # no input, no image: said before the model is loaded

    options = {}
    if args.slide:
        crop, stride = args.slide
        options = {'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': (crop, crop),
                   'model.test_cfg.stride': (stride, stride)}
    if args.backend == 'onnxruntime':
        from segkit.apis.export import OnnxSegmentor
        from segkit.apis.runner import load_config

        model = OnnxSegmentor(args.checkpoint, load_config(args.config, options))
    else:
        model = load_segmentor(args.config, args.checkpoint, args.device, options)
    summary = segment_inputs(model, args.input, args.out, batch_size=args.batch_size,
                             scales=args.scales, flip=args.flip, show_dir=args.show_dir,
                             opacity=args.opacity)
    print(f'segmented {len(summary.processed)} images into {args.out}; '
          f'{len(summary.failed)} failed')
    for path, reason in summary.failed.items():
        print(f'  failed: {path}: {reason}', file=sys.stderr)
    return 1 if summary.failed else 0
