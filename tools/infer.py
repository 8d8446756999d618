"""Segment an image, a folder (recursive) or a text list of images.

Same as `segkit infer`; see segkit/cli/infer.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('infer')
