"""Write a config for your own folder of images and masks on a shipped model.

    segkit config new --model NAME --data ROOT [--classes FILE] [--crop H W] [--iters N]
                      [--batch-size B] [--scale LONG SHORT] [--val-every K]
                      [--reduce-zero-label] [--ignore-index V] [--out FILE]
                      [--cfg-options K=V ...]

Checks the data (as `segkit data check`; data with errors is refused), then
writes a short config that inherits the model's recipe and sets the data,
the classes, num_classes of the heads, the crop, a validation split (when the
data has no val folder) and the schedule scaled to --iters. Then
`segkit train FILE`, `test`, `infer`, `compare` work on it as on any config.
"""
from __future__ import annotations

import argparse
import shlex
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction

    verbs = parser.add_subparsers(dest='verb', metavar='VERB', required=True)
    new = verbs.add_parser('new', help='a config for a folder dataset on a shipped model',
                           description=__doc__.split('\n\n')[0])
    new.add_argument('--model', required=True,
                     help='a shipped config (segkit configs) or a config file: the model and '
                          'its recipe')
    new.add_argument('--data', required=True, metavar='ROOT',
                     help='data root: images/ + masks/ (or annotations/, labels/), optionally '
                          'split into train/ and val/')
    new.add_argument('--classes', metavar='FILE',
                     help="class names, one per line, or 'name r g b' for RGB colour masks "
                          '(default: ROOT/classes.txt, else numbered from the values found)')
    new.add_argument('--crop', type=int, nargs=2, metavar=('H', 'W'),
                     help="training crop (default: the recipe's)")
    new.add_argument('--iters', type=int, metavar='N',
                     help="training iterations; the schedule is scaled (default: the recipe's)")
    new.add_argument('--batch-size', type=int, metavar='B',
                     help="images per GPU and step (default: the recipe's)")
    new.add_argument('--scale', type=int, nargs=2, metavar=('LONG', 'SHORT'),
                     help='resize images to fit LONG x SHORT edges before cropping and for '
                          "testing (default: the data's median size: no resize)")
    new.add_argument('--val-every', type=int, default=5, metavar='K',
                     help='without a val folder: every K-th pair by sorted name validates '
                          '(default: 5)')
    new.add_argument('--reduce-zero-label', action='store_true',
                     help="0 means other/unlabelled and is ignored (mmseg's reduce_zero_label)")
    new.add_argument('--ignore-index', type=int, default=255, metavar='V',
                     help='the ignored label value (default: 255)')
    new.add_argument('--out', metavar='FILE',
                     help='the config to write (default: '
                          './<model>_1xb<B>-<iters>_<data>-<crop>.py)')
    new.add_argument('--force', action='store_true', help='overwrite --out if it exists')
    new.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='K=V',
                     help='more settings written into the config, e.g. '
                          'train_dataloader.num_workers=2')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from segkit.apis.new_config import new_config

    argv = sys.argv[sys.argv.index('new'):] if 'new' in sys.argv else None
    command = shlex.join(['segkit', 'config', *argv]) if argv else None
    made = new_config(args.model, args.data, classes=args.classes, crop=args.crop,
                      iters=args.iters, batch_size=args.batch_size, scale=args.scale,
                      val_every=args.val_every, reduce_zero_label=args.reduce_zero_label,
                      ignore_index=args.ignore_index, cfg_options=args.cfg_options,
                      out=args.out, force=args.force, command=command)
    print(f'wrote {made.path} (inherits {made.base.parent.name}/{made.base.name})')
    for note in made.notes:
        print(f'  {note}')
    return 0
