"""Shared handling of checkpoints: reading them, saying in one line what does
not fit a model, and ``init_cfg=dict(type='StrictPretrained', ...)``: strict
loading with named layers starting fresh."""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS

from segkit.errors import CheckpointMismatchError

__all__ = ['CheckpointMismatchError', 'StateMismatch', 'StrictPretrainedInit',
           'backbone_state_dict',
           'check_checkpoint', 'checkpoint_state_dict', 'describe_mismatch',
           'load_model_checkpoint', 'load_state_dict_checked', 'read_checkpoint', 'state_mismatch',
           'trained_with']


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


@dataclass
class StateMismatch:
    """How a state dict differs from a model's: keys the model has and the
    file lacks, keys the file has and the model lacks, and shared keys of
    another shape (file's, model's)."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    reshaped: list[tuple[str, tuple, tuple]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.reshaped)


def _may_lack(key: str, optional: tuple[str, ...], fresh: Sequence[str]) -> bool:
    return key.startswith(optional) or bool(set(fresh) & set(key.split('.')[:-1]))


def state_mismatch(expected: dict, given: dict, optional: tuple[str, ...] = (),
                   fresh: Sequence[str] = ()) -> StateMismatch:
    """Compares ``given`` (a checkpoint's tensors) with ``expected`` (a model's
    ``state_dict()``); keys under ``optional`` prefixes, or of layers named in
    ``fresh`` (one component of a key), may be missing."""
    return StateMismatch(
        missing=[k for k in expected if k not in given and not _may_lack(k, optional, fresh)],
        unexpected=[k for k in given if k not in expected],
        reshaped=[(k, tuple(given[k].shape), tuple(expected[k].shape)) for k in expected
                  if k in given and hasattr(given[k], 'shape')
                  and tuple(given[k].shape) != tuple(expected[k].shape)])


def _first(keys: list, show: int) -> str:
    return ', '.join(keys[:show]) + (', ...' if len(keys) > show else '')


def trained_with(checkpoint: Any) -> str | None:
    """The config a Runner checkpoint was trained with, from its ``meta``
    (mmengine writes the experiment name: config name and a timestamp)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    name = meta.get('experiment_name') if isinstance(meta, dict) else None
    return re.sub(r'_\d{8}_\d{6}$', '', name) if isinstance(name, str) and name else None


def describe_mismatch(mismatch: StateMismatch, source: str, target: str,
                      checkpoint: Any = None, show: int = 3) -> str:
    """One line: what does not fit, with counts and the first ``show`` keys of
    each kind, and the config the file was trained with when it says."""
    parts = []
    if mismatch.missing:
        parts.append(f'{len(mismatch.missing)} missing [{_first(mismatch.missing, show)}]')
    if mismatch.unexpected:
        parts.append(f'{len(mismatch.unexpected)} unexpected '
                     f'[{_first(mismatch.unexpected, show)}]')
    if mismatch.reshaped:
        shapes = [f'{k} {f} in the file, {m} here' for k, f, m in mismatch.reshaped]
        parts.append(f'{len(mismatch.reshaped)} reshaped [{_first(shapes, show)}]')
    config = trained_with(checkpoint)
    said = f'; the file was trained with {config}' if config else ''
    return f'{source} does not fit this {target}: {"; ".join(parts)}{said}'


def load_state_dict_checked(module: nn.Module, state: dict, path: str,
                            optional: tuple[str, ...] = (), checkpoint: Any = None,
                            fresh: Sequence[str] = ()) -> list[str]:
    """Loads ``state`` into ``module``; every key must match, in name and shape.

    Args:
        optional: Prefixes of ``module``'s keys that the checkpoint may lack
            (layers an ImageNet file cannot have, such as output norms).
        checkpoint: The whole checkpoint (its ``meta`` may name the config).
        fresh: Names of layers, wherever they sit in ``module`` (one
            component of a key, e.g. ``'conv_offset'``), whose keys the
            checkpoint may lack.

    Returns:
        The keys that the checkpoint lacked and may lack: they keep the
        values ``module`` had.

    Raises:
        CheckpointMismatchError: what does not fit, in one line
            (:func:`describe_mismatch`).
    """
    expected = module.state_dict()
    mismatch = state_mismatch(expected, state, optional, fresh)
    error = CheckpointMismatchError(
        describe_mismatch(mismatch, path, type(module).__name__, checkpoint))
    if mismatch.missing or mismatch.unexpected:
        raise error
    try:
        module.load_state_dict(state, strict=False)
    except RuntimeError:
        # NOTE: only now are other shapes an error: a module's own loading may
        # fit them (DCNv4 pads an unpadded offset_mask)
        raise error from None
    return [k for k in expected if k not in state]


def checkpoint_state_dict(checkpoint: Any) -> dict:
    """The tensors of a Runner / mmseg checkpoint, as mmengine loads them
    (``state_dict`` unwrapped, a DDP ``module.`` prefix stripped, the
    modules' version metadata kept)."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
    out = OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in state.items())
    metadata = getattr(state, '_metadata', None)
    if metadata is not None:
        out._metadata = OrderedDict(  # type: ignore[attr-defined]
            (re.sub(r'^module\.?', '', k), v) for k, v in metadata.items())
    return out


def check_checkpoint(model: nn.Module, path: str, strict: bool = True) -> str | None:
    """Whether the checkpoint at ``path`` fits ``model``, without loading it.

    Returns:
        None if every key fits, else the one-line description (non-strict:
        most of the weights fit, as a fine-tuning ``load_from`` with another
        head has them).

    Raises:
        CheckpointMismatchError: ``strict`` and something does not fit, or
            less than half of the model's weights (by count) are in the file:
            a checkpoint of another model.
    """
    checkpoint = read_checkpoint(path)
    state = checkpoint_state_dict(checkpoint)
    expected = model.state_dict()
    mismatch = state_mismatch(expected, state)
    if not mismatch:
        return None
    message = describe_mismatch(mismatch, path, type(model).__name__, checkpoint)
    unfit = set(mismatch.missing) | {k for k, _, _ in mismatch.reshaped}
    fitting = sum(t.numel() for k, t in expected.items() if k not in unfit)
    if strict or fitting < 0.5 * sum(t.numel() for t in expected.values()):
        raise CheckpointMismatchError(message)
    return message


def load_model_checkpoint(model: nn.Module, path: str) -> Any:
    """Reads ``path`` (weights only) and loads it into ``model`` strictly;
    returns the checkpoint (for its ``meta``).

    Raises:
        CheckpointMismatchError: in one line, what does not fit.
    """
    checkpoint = read_checkpoint(path)
    load_state_dict_checked(model, checkpoint_state_dict(checkpoint), path,
                            checkpoint=checkpoint)
    return checkpoint


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
                     f'{_first(layers, 5)}' if started else 'every key loaded'),
                  logger='current')
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info

            update_init_info(module, init_info=f'{type(self).__name__}: load from '
                                                f'{self.checkpoint}')
