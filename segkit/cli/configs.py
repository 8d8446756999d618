"""List the configs shipped with segkit (usable by name wherever a CONFIG is asked for).

    segkit configs [PATTERN]
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('pattern', nargs='?', default='',
                        help='show only names containing this text')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from segkit.utils.configs import config_dir, list_configs

    names = [n for n in list_configs() if args.pattern in n]
    for name in names:
        print(name)
    print(f'{len(names)} configs in {config_dir()}')
    return 0 if names else 1
