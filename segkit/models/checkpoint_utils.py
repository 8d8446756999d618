"""Shared handling of official backbone checkpoints, and ``init_cfg=dict(type=
'StrictPretrained', ...)``: strict loading with named layers starting fresh."""
from __future__ import annotations

from typing import Any, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS

from segkit.errors import CheckpointMismatchError

__all__ = ['CheckpointMismatchError', 'StrictPretrainedInit', 'backbone_state_dict',
           'load_state_dict_checked', 'read_checkpoint']


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
                            optional: tuple[str, ...] = (),
                            fresh: Sequence[str] = ()) -> list[str]:
    """Loads ``state`` into ``module``; every key must match.

    Args:
        optional: Prefixes of ``module``'s keys that the checkpoint may lack
            (layers an ImageNet file cannot have, such as output norms).
        fresh: Names of layers, wherever they sit in ``module`` (one
            component of a key, e.g. ``'conv_offset'``), whose keys the
            checkpoint may lack.

    Returns:
        The keys that the checkpoint lacked and may lack: they keep the
        values ``module`` had.

    Raises:
        CheckpointMismatchError: keys are missing or unexpected; one line
            naming the first few.
    """
    result = module.load_state_dict(state, strict=False)
    names = set(fresh)
    allowed = [k for k in result.missing_keys
               if k.startswith(optional) or names & set(k.split('.')[:-1])]
    missing = [k for k in result.missing_keys if k not in allowed]
    problems = []
    if missing:
        problems.append(f'missing {_names(missing)}')
    if result.unexpected_keys:
        problems.append(f'unexpected {_names(result.unexpected_keys)}')
    if problems:
        raise CheckpointMismatchError(f'{path} does not fit this {type(module).__name__}: '
                                      + '; '.join(problems))
    return allowed


@WEIGHT_INITIALIZERS.register_module('StrictPretrained')
class StrictPretrainedInit:
    """``init_cfg=dict(type='StrictPretrained', checkpoint=..., fresh=(...))``:
    mmengine's ``'Pretrained'``, but strict.

    Every key of the module must be in the checkpoint, except those of the
    layers named in ``fresh``, which keep their own initialisation (a DCN
    ResNet from ImageNet weights: ``fresh=('conv_offset',)``, the offset
    convs, start at zero); the log says which keys start fresh. Unexpected
    keys are errors too. An ImageNet or a segmentation checkpoint both work:
    a ``backbone.`` prefix is stripped, classifiers (``fc``, ``head``) dropped.

    mmengine runs ``'Pretrained'`` after the children's own
    ``init_weights()`` and every other initializer before them; this one
    runs those children's ``init_weights()`` itself first (a DCNv2 layer's
    redraws its weight and zeros its offset conv), so the checkpoint is
    loaded last, as ``'Pretrained'`` is.

    Args:
        checkpoint: Path (or any location mmengine's loaders read).
        fresh: Names of layers (one component of a key) the checkpoint may lack.
        map_location: As for ``'Pretrained'``.

    Raises:
        CheckpointMismatchError: any other key missing, or unexpected.
    """

    def __init__(self, checkpoint: str, fresh: Sequence[str] = (),
                 map_location: str = 'cpu') -> None:
        self.checkpoint, self.fresh = checkpoint, tuple(fresh)
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        for child in module.children():
            if hasattr(child, 'init_weights') and not getattr(child, 'is_init', False):
                child.init_weights()
                if not hasattr(type(child), 'is_init'):  # a BaseModule marks itself
                    child.is_init = True  # what mmengine checks before calling it again
        from mmengine.runner.checkpoint import CheckpointLoader

        checkpoint = CheckpointLoader.load_checkpoint(self.checkpoint, self.map_location)
        state = backbone_state_dict(checkpoint, drop=('fc', 'head'))
        started = load_state_dict_checked(module, state, self.checkpoint, fresh=self.fresh)
        layers = sorted({k.rsplit('.', 1)[0] for k in started})
        print_log(f'load model from: {self.checkpoint} (strict); '
                  + (f'{len(started)} keys of {len(layers)} layers start fresh: '
                     f'{_names(layers)}' if started else 'every key loaded'),
                  logger='current')
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info

            update_init_info(module, init_info=f'{type(self).__name__}: load from '
                                                f'{self.checkpoint}')
