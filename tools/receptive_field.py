"""What each backbone looks at: effective receptive field and occlusion sensitivity.

Same as `segkit receptive-field`; see segkit/cli/receptive_field.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('receptive-field')
