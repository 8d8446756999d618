"""Generate segkit's sample datasets.

Same as `segkit make-sample-data`; see segkit/cli/make_sample_data.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('make-sample-data')
