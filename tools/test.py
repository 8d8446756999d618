"""Evaluate a checkpoint on the config's test set.

Same as `segkit test`; see segkit/cli/test.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('test')
