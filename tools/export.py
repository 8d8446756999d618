"""Export a trained segmentor to ONNX, check it, and compare onnxruntime with PyTorch.

Same as `segkit export`; see segkit/cli/export.py for the arguments.
"""
from segkit.cli import run_command

if __name__ == '__main__':
    run_command('export')
