"""Convert an official ImageNet/segmentation checkpoint for a segkit backbone.

Same as `segkit convert`; see segkit/cli/convert_checkpoint.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('convert')
