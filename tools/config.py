"""Write a config for one's own folder of data on a shipped model.

Same as `segkit config`; see segkit/cli/config.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('config')
