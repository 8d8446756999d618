"""Shared handling of official backbone checkpoints."""
from __future__ import annotations

from typing import Any

import torch.nn as nn

from segkit.errors import CheckpointMismatchError

__all__ = ['CheckpointMismatchError', 'backbone_state_dict', 'load_state_dict_checked',
           'read_checkpoint']


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


def read_checkpoint(path: str) -> Any:
    """Reads a checkpoint through mmengine's loaders (local files: weights_only)."""
    from mmengine.runner.checkpoint import CheckpointLoader

    return CheckpointLoader.load_checkpoint(path, map_location='cpu')


def _names(keys: list[str]) -> str:
    return f'{keys[:5]}{" ..." if len(keys) > 5 else ""}'


def load_state_dict_checked(module: nn.Module, state: dict, path: str,
                            optional: tuple[str, ...] = ()) -> None:
    """Loads ``state`` into ``module``; every key must match.

    Args:
        optional: Prefixes of ``module``'s keys that the checkpoint may lack
            (layers an ImageNet file cannot have, such as output norms).

    Raises:
        CheckpointMismatchError: keys are missing or unexpected; one line
            naming the first few.
    """
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(optional)]
    problems = []
    if missing:
        problems.append(f'missing {_names(missing)}')
    if result.unexpected_keys:
        problems.append(f'unexpected {_names(result.unexpected_keys)}')
    if problems:
        raise CheckpointMismatchError(f'{path} does not fit this {type(module).__name__}: '
                                      + '; '.join(problems))
