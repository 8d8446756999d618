"""``segkit COMMAND ...``: one entry point over segkit's tools.

    segkit train CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] ...
    segkit test CONFIG CHECKPOINT [--metrics-json FILE] ...
    segkit infer CONFIG CHECKPOINT INPUT --out DIR ...
    segkit configs [PATTERN]
    segkit data check ROOT [--classes FILE] [--out DIR]
    segkit config new --model NAME --data ROOT [--crop H W] [--iters N] ...

Each command is a module of this package with ``add_arguments(parser)`` and
``run(args)``; ``tools/<name>.py`` are thin wrappers over the same modules.
CONFIG is a path, or the name of a config shipped with segkit (see
``segkit configs``). Errors a user can fix are printed as one line.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from segkit.utils.cli import run_cli

__all__ = ['COMMANDS', 'main', 'run_command']

# command -> (module under segkit.cli, one-line help)
COMMANDS = {
    'train': ('train', 'train a segmentor (mmengine Runner)'),
    'test': ('test', "evaluate a checkpoint: mmseg's per-class table, aAcc / mIoU / mAcc"),
    'infer': ('infer', 'segment an image, a folder or a list of images'),
    'robustness': ('robustness', 'mIoU under occlusion or common corruptions (mCE, mRR)'),
    'make-corrupted-dataset': ('make_corrupted_dataset', "write a test set's corrupted copy"),
    'compare': ('compare', 'trained models side by side'),
    'benchmark': ('benchmark', 'speed and memory of inference and a training step'),
    'export': ('export', 'export to ONNX, check it, compare onnxruntime with PyTorch'),
    'convert': ('convert_checkpoint', 'convert an official checkpoint for a segkit backbone'),
    'make-sample-data': ('make_sample_data', 'generate the sample datasets'),
    'convert-cityscapes': ('convert_cityscapes', 'make Cityscapes train-id labels'),
    'plot-dcls-positions': ('plot_dcls_positions', 'plot where learned DCLS taps went'),
    'receptive-field': ('receptive_field', 'what each model looks at: ERF and occlusion maps'),
    'configs': ('configs', 'list the configs shipped with segkit'),
    'data': ('data', 'check a folder of images and masks (data check ROOT)'),
    'config': ('config', 'write a config for your own data on a shipped model (config new)'),
}


def _module(command: str):  # noqa: ANN202 - a command module
    return importlib.import_module(f'segkit.cli.{COMMANDS[command][0]}')


def run_command(command: str, argv: Sequence[str] | None = None, prog: str | None = None) -> None:
    """Runs one command (what ``tools/<name>.py`` call) and exits with its status."""
    module = _module(command)
    parser = argparse.ArgumentParser(prog=prog, description=module.__doc__.split('\n\n')[0])
    module.add_arguments(parser)
    run_cli(lambda: module.run(parser.parse_args(argv), parser), parser.prog)


def main(argv: Sequence[str] | None = None) -> None:
    """``segkit COMMAND ...`` (the console script)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog='segkit',
        description='segkit: train, evaluate, compare and stress-test segmentation models.',
        epilog='`segkit COMMAND --help` shows the arguments of COMMAND.')
    parser.add_argument('--version', action='version', version=_version())
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name, (_, help) in COMMANDS.items():
        commands.add_parser(name, help=help, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # --help, --version or an unknown command: argparse says it
        parser.print_help()
        sys.exit(2)
    run_command(argv[0], argv[1:], prog=f'segkit {argv[0]}')


def _version() -> str:
    from segkit import __version__

    return f'segkit {__version__}'
