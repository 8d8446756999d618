"""Convert an official ImageNet/segmentation checkpoint for a segkit backbone.

    python tools/convert_checkpoint.py internimage internimage_t_1k_224.pth checkpoints/internimage_t.pth
    python tools/convert_checkpoint.py convnext convnext_dcls_tiny_1k_224_ema.pth checkpoints/convnext-t-dcls.pth

Keeps the backbone weights, drops classifiers and decode heads, writes
{'state_dict': ...}. Loading uses weights_only: a checkpoint holding
code-carrying objects is refused.
"""
import argparse

from segkit.utils.cli import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an official checkpoint.')
    parser.add_argument('arch', choices=['internimage', 'convnext'])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    args = parser.parse_args()
    from segkit.apis.convert import convert_checkpoint_file

    count = convert_checkpoint_file(args.src, args.dst, args.arch)
    print(f'wrote {count} tensors to {args.dst}')


if __name__ == '__main__':
    run_cli(main)
