"""Convert an official InternImage checkpoint for segkit's InternImage backbone.

    python tools/convert_internimage.py internimage_t_1k_224.pth checkpoints/internimage_t.pth

Keeps the backbone weights (ImageNet or UPerNet checkpoints), drops the
classifier and decode heads, and writes {'state_dict': ...}. Loading uses
weights_only: a checkpoint that holds code-carrying objects is refused.
"""
import argparse
import io

from segkit.utils.cli import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description='Convert an InternImage checkpoint.')
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    args = parser.parse_args()
    import torch

    from segkit.compat import load_checkpoint_file
    from segkit.models.internimage import convert_internimage
    from segkit.utils.io import atomic_write_bytes

    state = convert_internimage(load_checkpoint_file(args.src, map_location='cpu'))
    if not any(k.startswith('levels.') for k in state):
        raise ValueError(f'{args.src} holds no InternImage backbone weights (no levels.* keys)')
    buffer = io.BytesIO()
    torch.save({'state_dict': state, 'meta': {'converted_from': args.src}}, buffer)
    atomic_write_bytes(args.dst, buffer.getvalue())
    print(f'wrote {len(state)} tensors to {args.dst}')


if __name__ == '__main__':
    run_cli(main)
