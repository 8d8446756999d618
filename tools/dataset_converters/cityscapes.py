"""Make Cityscapes train-id labels from the polygons.

Same as `segkit convert-cityscapes`; see segkit/cli/convert_cityscapes.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('convert-cityscapes')
