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
from pathlib import Path


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


def _test_images(model, count: int) -> list:  # noqa: ANN001 - a segmentor
    from mmseg.registry import DATASETS

    from segkit.apis.runner import check_data_roots

    check_data_roots(model.cfg, ('test',))
    dataset = dict(model.cfg.test_dataloader.dataset, pipeline=[dict(type='LoadImageFromFile')])
    dataset = DATASETS.build(dataset)
    return [dataset[i]['img'] for i in range(min(count, len(dataset)))]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('models must come as CONFIG CHECKPOINT pairs')
    from segkit.apis.inference import list_inputs, load_segmentor, read_image
    from segkit.evaluation.receptive_field import (receptive_field_of,
                                                   write_receptive_field_report)

    files = list_inputs(args.images)[1][:args.max_images] if args.images else None
    results = {}
    for config, checkpoint in zip(args.models[::2], args.models[1::2], strict=True):
        model = load_segmentor(config, checkpoint, args.device)
        images = ([read_image(f) for f in files] if files is not None
                  else _test_images(model, args.max_images))
        results[Path(config).stem] = receptive_field_of(model, images, args.patch, args.stride)
    print(write_receptive_field_report(results, args.out))
    print(f'receptive_field.{{md,json,png}} written to {args.out}')
