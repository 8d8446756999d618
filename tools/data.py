"""Check a folder dataset (images and masks) before training on it.

Same as `segkit data`; see segkit/cli/data.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('data')
