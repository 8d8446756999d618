"""Train a segmentor with mmengine's Runner.

Same as `segkit train`; see segkit/cli/train.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('train')
