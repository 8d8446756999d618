"""Write a config's test set, corrupted, to disk.

Same as `segkit make-corrupted-dataset`; see segkit/cli/make_corrupted_dataset.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('make-corrupted-dataset')
