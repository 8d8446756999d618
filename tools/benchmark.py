"""Speed and memory of a segmentor.

Same as `segkit benchmark`; see segkit/cli/benchmark.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('benchmark')
