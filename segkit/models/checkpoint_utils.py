"""Shared handling of official backbone checkpoints."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

__all__ = ['backbone_state_dict', 'load_pretrained']


def backbone_state_dict(checkpoint: dict, drop: tuple[str, ...]) -> dict:
    """The backbone's tensors from an ImageNet or a segmentation checkpoint.

    Unwraps ``state_dict`` / ``model`` / ``module``; when keys carry a
    ``backbone.`` prefix (a segmentor), keeps only those, without it; drops
    keys whose first component is in ``drop`` (classifier heads).
    """
    state = checkpoint
    for key in ('state_dict', 'model', 'module'):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    has_backbone = any(k.startswith('backbone.') for k in state)
    out = {}
    for key, value in state.items():
        if has_backbone:
            if not key.startswith('backbone.'):
                continue
            key = key[len('backbone.'):]
        if key.split('.')[0] not in drop:
            out[key] = value
    return out


def load_pretrained(module: nn.Module, path: str, convert: Callable[[dict], dict],
                    optional: tuple[str, ...] = ()) -> None:
    """Loads an official checkpoint (weights_only) into ``module``.

    Raises:
        KeyError: the checkpoint lacks parameters of ``module`` (other than
            those starting with ``optional``): it is for another architecture.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    state = convert(CheckpointLoader.load_checkpoint(path, map_location='cpu'))
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(optional)]
    if missing:
        raise KeyError(f'{path} does not fit this {type(module).__name__}: missing '
                       f'{missing[:5]}{" ..." if len(missing) > 5 else ""}')
