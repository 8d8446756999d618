"""Official checkpoints -> segkit backbones, as files (used by tools/convert_*.py)."""
from __future__ import annotations

import io
import os

import torch

from segkit.compat import load_checkpoint_file
from segkit.utils.io import atomic_write_bytes

__all__ = ['convert_checkpoint_file']


def _converters() -> dict:
    from segkit.models.convnext import convert_convnext
    from segkit.models.internimage import FlashInternImage, convert_internimage
    from segkit.models.token_mixers import TOKEN_MIXERS

    def mixers_meta(checkpoint: dict, state: dict) -> dict:
        """What ConvNeXt's mixers must keep beside their tensors (the DCLS
        version of the positions, which the tensors do not show)."""
        meta: dict = {}
        for mixer in TOKEN_MIXERS.module_dict.values():
            meta.update(mixer.checkpoint_meta(checkpoint, state))
        return meta

    # name -> (conversion, a key prefix every such backbone has, meta to record)
    return {'internimage': (convert_internimage, 'levels.', lambda checkpoint, state: {}),
            'flash_internimage': (FlashInternImage.convert, 'levels.',
                                  lambda checkpoint, state: {}),
            'convnext': (convert_convnext, 'stages.', mixers_meta)}


def convert_checkpoint_file(src: str | os.PathLike, dst: str | os.PathLike,
                            arch: str) -> int:
    """Converts ``src`` (loaded with weights_only) and writes ``{'state_dict': ...}``.

    Returns:
        The number of tensors written.

    Raises:
        ValueError: unknown ``arch``, or ``src`` holds no such backbone.
    """
    converters = _converters()
    if arch not in converters:
        raise ValueError(f'arch must be one of {sorted(converters)}, got {arch!r}')
    convert, prefix, describe = converters[arch]
    checkpoint = load_checkpoint_file(src, map_location='cpu')
    state = convert(checkpoint)
    if not any(k.startswith(prefix) for k in state):
        raise ValueError(f'{src} holds no {arch} backbone weights (no {prefix}* keys)')
    meta = {'converted_from': os.fspath(src), 'arch': arch, **describe(checkpoint, state)}
    buffer = io.BytesIO()
    torch.save({'state_dict': state, 'meta': meta}, buffer)
    atomic_write_bytes(dst, buffer.getvalue())
    return len(state)
