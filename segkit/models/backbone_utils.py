"""What segkit's four-stage backbones share: argument checks and equivalent stride."""
from __future__ import annotations

from typing import Iterable, Sequence

import torch.nn as nn

from segkit.ops.equivalent_stride import econv2d_

__all__ = ['apply_output_stride', 'resolve_arch', 'set_equivalent_stride',
           'stage_equivalent_strides']


def resolve_arch(arch: str | dict, settings: dict[str, dict], required: Sequence[str],
                 output_stride: int, out_indices: Sequence[int]) -> tuple[str, dict]:
    """``(name, settings)`` of ``arch`` (a key of ``settings`` or a dict holding
    ``required``; its name is then ``'custom'``), after checking it and the
    stage arguments every four-stage backbone takes."""
    if isinstance(arch, str):
        if arch not in settings:
            raise ValueError(f'arch must be one of {sorted(settings)} or a dict, got {arch!r}')
        name, arch = arch, settings[arch]
    else:
        name = 'custom'
        if not set(required) <= set(arch):
            raise ValueError(f'arch dict needs {sorted(required)}, got {sorted(arch)}')
    if output_stride not in (4, 8, 16, 32):
        raise ValueError(f'output_stride must be 4, 8, 16 or 32, got {output_stride}')
    if any(i not in range(4) for i in out_indices):
        raise ValueError(f'out_indices must be in 0..3, got {out_indices}')
    return name, arch


def stage_equivalent_strides(output_stride: int) -> list[int]:
    """The equivalent stride of each stage's layers: stage i of a four-stage
    backbone runs at stride ``4 * 2**i``; beyond ``output_stride`` its maps
    stay dense and its layers see maps ``4 * 2**i / output_stride`` times
    denser than their weights were made for."""
    return [max(1, 4 * 2 ** i // output_stride) for i in range(4)]


def set_equivalent_stride(layer: nn.Module, e: int) -> None:
    """Makes ``layer`` (stride 1) exact on maps ``e`` times denser: its own
    ``set_equivalent_stride`` (DCLS, DCNv3) or the eConv rule (a Conv2d)."""
    if hasattr(layer, 'set_equivalent_stride'):
        layer.set_equivalent_stride(e)
    elif e > 1:
        econv2d_(layer, e, 1)


def apply_output_stride(output_stride: int, downsamples: Sequence[nn.Conv2d],
                        stages: Sequence[Iterable[nn.Module]]) -> None:
    """Turns a four-stage backbone dense beyond ``output_stride``, exactly.

    Args:
        output_stride: 4, 8, 16 or 32.
        downsamples: The stride-2 convs leading into stages 1, 2 and 3.
        stages: Per stage, its stride-1 spatial layers (mixers).
    """
    es = stage_equivalent_strides(output_stride)
    for i in range(1, 4):
        if es[i] > 1:  # the stride into stage i is removed; the conv sees stage i-1's maps
            econv2d_(downsamples[i - 1], es[i - 1], 1)
    for layers, e in zip(stages, es):
        for layer in layers:
            set_equivalent_stride(layer, e)
