"""ConvNeXt's token mixers, chosen by registration.

A ConvNeXt block mixes tokens spatially with one layer (the official 7x7
depthwise conv) and then per position with an MLP. Which layer mixes is a
config value, ``token_mixer='dcls'`` or ``token_mixer=dict(type='dcls',
kernel_count=34)``: the name of a :class:`TokenMixer` registered in
:data:`TOKEN_MIXERS`. A mixer builds each stage's layers and owns what is
particular to them (shared DCLS positions, the orientation cycle of shaped
kernels, how a checkpoint's tensors fit them), so a new mixer is one
registered class and no edit of the backbone::

    @TOKEN_MIXERS.register_module('my_mixer')
    class MyMixer(TokenMixer):
        def build_stage(self, channels, depth, stage):
            return [MyLayer(channels) for _ in range(depth)]

Every mixer layer takes and returns NCHW maps of ``channels`` channels at
stride 1, and is exact under equivalent stride: a plain conv by the eConv
rule, other layers through their ``set_equivalent_stride``.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.registry import Registry

from segkit.errors import CheckpointMismatchError
from segkit.models.conv_layers import ChannelsLastDeformConv, DCNv3Conv2d, DCNv4Conv2d
from segkit.models.shaped_backbone import shape_convs
from segkit.ops.dcls import Dcls2d
from segkit.ops.shaped_conv import ShapedConv2d, square_to_shaped

__all__ = ['TOKEN_MIXERS', 'DCLSMixer', 'DCNv3Mixer', 'DCNv4Mixer', 'DepthwiseMixer', 'ShapedMixer',
           'TokenMixer', 'checkpoint_dcls_version']

TOKEN_MIXERS = Registry('ConvNeXt token mixer')


class TokenMixer:
    """How the blocks of a ConvNeXt mix tokens spatially.

    Args:
        arch: The ConvNeXt arch name (``'tiny'``, ..., ``'custom'``), for
            defaults that depend on the size.
    """

    def __init__(self, arch: str = 'custom') -> None:
        self.arch = arch

    def build_stage(self, channels: int, depth: int, stage: int) -> list[nn.Module]:
        """The ``depth`` mixer layers of stage ``stage`` (0..3)."""
        raise NotImplementedError

    def finish(self, stages: nn.ModuleList) -> None:
        """Called once all blocks exist (for choices across stages)."""

    def init_weights(self, backbone: nn.Module) -> None:
        """Initialises the mixer layers of ``backbone`` (no checkpoint): the
        official ConvNeXt's truncated normal for conv weights."""
        for module in backbone.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def fit_checkpoint(self, state: dict, backbone: nn.Module, path: str,
                       checkpoint: Any, init_cfg: dict) -> dict:
        """Adapts a converted checkpoint's tensors to these mixers (or refuses
        them with a :class:`~segkit.errors.CheckpointMismatchError`)."""
        _refuse_dcls_positions(state, path, None)
        return state

    @classmethod
    def checkpoint_meta(cls, checkpoint: Any, state: dict) -> dict:
        """What the convert tool must record beside ``state`` (tensors of this
        mixer whose meaning the tensors alone do not show)."""
        return {}


@TOKEN_MIXERS.register_module('dw')
class DepthwiseMixer(TokenMixer):
    """The official ConvNeXt mixer: a ``kernel_size`` depthwise conv."""

    def __init__(self, kernel_size: int = 7, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel_size = kernel_size

    def build_stage(self, channels: int, depth: int, stage: int) -> list[nn.Module]:
        return [nn.Conv2d(channels, channels, self.kernel_size, padding=self.kernel_size // 2,
                          groups=channels) for _ in range(depth)]


@TOKEN_MIXERS.register_module('shaped')
class ShapedMixer(DepthwiseMixer):
    """Depthwise convs with a designed (quasi-hexagonal) footprint: 37 of the
    49 taps of a 7x7 kernel (Sun et al., arXiv 1511.09231).

    Args:
        shape: ``'cycle'`` (right, down, left, up through the blocks in
            order), ``'qh-mixed'`` (the four on channel quarters) or one
            orientation (see :func:`~segkit.models.shape_convs`).
    """

    def __init__(self, shape: str = 'cycle', **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shape = shape

    def finish(self, stages: nn.ModuleList) -> None:
        shape_convs(stages, self.shape, kernel_sizes=(self.kernel_size,))

    def fit_checkpoint(self, state: dict, backbone: nn.Module, path: str,
                       checkpoint: Any, init_cfg: dict) -> dict:
        state = super().fit_checkpoint(state, backbone, path, checkpoint, init_cfg)
        state, dropped = square_to_shaped(state, backbone)
        k = self.kernel_size
        taps = next(m.weight.shape[2] for m in backbone.modules() if isinstance(m, ShapedConv2d))
        print_log(f'{path}: shaped mixers ({self.shape}) keep {taps} of {k * k} taps; the dropped '
                  f'ones held {100 * dropped:.1f}% of the weights\' energy', logger='current')
        return state


@TOKEN_MIXERS.register_module('dcls')
class DCLSMixer(TokenMixer):
    """17x17 depthwise DCLS (ConvNeXt-dcls, arXiv 2112.03740): one position
    set per stage, shared by its blocks (saved under each block's name, as
    the original).

    Args:
        kernel_count: Elements per kernel; default 34 for tiny and smaller,
            40 for small and base (the original's).
        dilated_kernel_size: Size of the grid the elements live on.
        version: ``'v0'`` by default, unlike :class:`~segkit.ops.Dcls2d`'s
            ``'gauss'``: the original ConvNeXt-dcls and its released
            checkpoints use ``'v0'`` (bilinear, not normalised, row first).
    """

    def __init__(self, kernel_count: int | None = None, dilated_kernel_size: int = 17,
                 version: str = 'v0', **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel_count = kernel_count or (40 if self.arch in ('small', 'base') else 34)
        self.dilated_kernel_size, self.version = dilated_kernel_size, version

    def build_stage(self, channels: int, depth: int, stage: int) -> list[nn.Module]:
        size = self.dilated_kernel_size
        layers = [Dcls2d(channels, channels, self.kernel_count, padding=size // 2,
                         dilated_kernel_size=size, groups=channels, version=self.version)
                  for _ in range(depth)]
        for layer in layers[1:]:
            layer.P = layers[0].P  # NOTE: the same Parameter in every block of the stage
        return layers

    def init_weights(self, backbone: nn.Module) -> None:
        super().init_weights(backbone)
        for module in backbone.modules():
            if isinstance(module, Dcls2d):
                # as ConvNeXt-dcls: element weights like conv weights; the
                # positions keep Dcls2d's own initialisation
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def fit_checkpoint(self, state: dict, backbone: nn.Module, path: str,
                       checkpoint: Any, init_cfg: dict) -> dict:
        _refuse_dcls_positions(state, path, self.version, init_cfg.get('dcls_version')
                               or checkpoint_dcls_version(checkpoint))
        return state

    @classmethod
    def checkpoint_meta(cls, checkpoint: Any, state: dict) -> dict:
        if not any(k.endswith('dwconv.P') for k in state):
            return {}
        # NOTE: the positions' meaning depends on the DCLS version, which the
        # tensors do not show; keep it with them
        return {'dcls_version': checkpoint_dcls_version(checkpoint)}


@TOKEN_MIXERS.register_module('dcnv3')
class DCNv3Mixer(TokenMixer):
    """3x3 DCNv3 (InternImage's operator) in place of the depthwise conv.

    Args:
        groups: DCNv3 groups (offset groups) per stage, as InternImage's
            ``groups``.
    """

    layer: type[ChannelsLastDeformConv] = DCNv3Conv2d

    def __init__(self, groups: Sequence[int] = (4, 8, 16, 32), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.groups = tuple(groups)

    def build_stage(self, channels: int, depth: int, stage: int) -> list[nn.Module]:
        return [self.layer(channels, channels, 3, padding=1, deform_groups=self.groups[stage])
                for _ in range(depth)]

    def init_weights(self, backbone: nn.Module) -> None:
        super().init_weights(backbone)
        for module in backbone.modules():
            if isinstance(module, ChannelsLastDeformConv):
                module.init_weights()


@TOKEN_MIXERS.register_module('dcnv4')
class DCNv4Mixer(DCNv3Mixer):
    """3x3 DCNv4 (FlashInternImage's operator) in place of the depthwise conv;
    ``groups`` per stage as :class:`DCNv3Mixer`."""

    layer = DCNv4Conv2d


def checkpoint_dcls_version(checkpoint: Any) -> str:
    """The DCLS version of a checkpoint's positions: its ``meta['dcls_version']``
    if it has one (files written by segkit's converter), else ``'v0'``, the
    version of every released ConvNeXt-dcls file (ImageNet and UPerNet)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return (meta if isinstance(meta, dict) else {}).get('dcls_version', 'v0')


def _refuse_dcls_positions(state: dict, path: str, ours: str | None,
                           version: str = 'v0') -> None:
    """Refuses DCLS positions of another version than the model's (``ours``,
    None for a model without DCLS): the same tensors would silently compute
    another kernel."""
    if not any(k.endswith('dwconv.P') for k in state):
        return
    if any(k.endswith('dwconv.SIG') for k in state):
        version = 'gauss'
    if version != ours:
        raise CheckpointMismatchError(
            f"{path} holds DCLS positions of version {version!r} but this ConvNeXt "
            f"uses {'no DCLS' if ours is None else repr(ours)}: set "
            f"token_mixer=dict(type='dcls', version={version!r}) (or, if the file says the "
            f"wrong thing, init_cfg=dict(..., dcls_version=...))")
