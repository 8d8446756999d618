"""Check a folder of images and masks before training on it.

    segkit data check ROOT [--classes FILE] [--num-classes N] [--ignore-index 255]
                           [--reduce-zero-label] [--out DIR]

Prints, on one screen, the pairs per split, the mask format, the pixels per
label value and class, hints, and every problem as one line naming its file;
writes report.md, report.json and class_pixels.png to --out. Exits with 1
when training on the data would be wrong.
"""
from __future__ import annotations

import argparse
import os.path as osp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest='verb', metavar='VERB', required=True)
    check = verbs.add_parser('check', help='check a folder dataset (exit 1 on errors)',
                             description=__doc__.split('\n\n')[0])
    check.add_argument('root', help='data root: images/ + masks/ (or annotations/, labels/), '
                                    'optionally split into train/ and val/')
    check.add_argument('--classes', metavar='FILE',
                       help="class names, one per line, or 'name r g b' per line for RGB "
                            'colour masks (default: ROOT/classes.txt if present)')
    check.add_argument('--num-classes', type=int, metavar='N',
                       help='the number of classes, when no file names them')
    check.add_argument('--ignore-index', type=int, default=255, metavar='V',
                       help='the label value that is ignored (default: 255)')
    check.add_argument('--reduce-zero-label', action='store_true',
                       help="0 means other/unlabelled and is ignored; labels 1.. become "
                            "classes 0.. (mmseg's reduce_zero_label)")
    check.add_argument('--out', metavar='DIR',
                       help='folder for report.md, report.json and class_pixels.png '
                            '(default: work_dirs/data_check/<root name>)')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from segkit.apis.data import check_dataset, format_report

    out = args.out or osp.join('work_dirs', 'data_check',
                               osp.basename(osp.normpath(osp.abspath(args.root))))
    report = check_dataset(args.root, classes=args.classes, num_classes=args.num_classes,
                           ignore_index=args.ignore_index,
                           reduce_zero_label=args.reduce_zero_label, out=out)
    print(format_report(report))
    print(f'wrote {osp.join(out, "report.md")}, report.json, class_pixels.png')
    return 0 if report.ok else 1
