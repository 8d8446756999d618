"""mIoU under occlusion, per model.

Same as `segkit robustness`; see segkit/cli/robustness.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('robustness')
