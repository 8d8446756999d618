"""Compare trained models side by side.

Same as `segkit compare`; see segkit/cli/compare.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('compare')
