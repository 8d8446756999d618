"""Plot where the learned DCLS taps went, one panel per position set.

Same as `segkit plot-dcls-positions`; see segkit/cli/plot_dcls_positions.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('plot-dcls-positions')
