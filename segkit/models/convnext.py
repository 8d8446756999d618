"""ConvNeXt backbone whose depthwise mixer is chosen by config: 'dw', 'dcls', 'dcnv3'.

Liu et al., "A ConvNet for the 2020s", CVPR 2022, arXiv 2201.03545;
ConvNeXt-dcls: Khalfaoui-Hassani et al., ICLR 2023, arXiv 2112.03740 (17x17
DCLS kernels, 34 elements for T and 40 for S/B, positions shared per stage).

Module names follow the official ConvNeXt and ConvNeXt-dcls code
(``downsample_layers``, ``stages.i.j.dwconv``...), so their ImageNet
checkpoints load through :func:`convert_convnext`.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from segkit.models.backbone_utils import apply_output_stride, resolve_arch
from segkit.models.checkpoint_utils import (CheckpointMismatchError, backbone_state_dict,
                                           load_state_dict_checked, read_checkpoint)
from segkit.models.dcnv3_layers import DCNv3Conv2d
from segkit.models.layers import DropPath, LayerNorm2d
from segkit.models.shaped_layers import shape_convs
from segkit.ops.dcls import Dcls2d
from segkit.ops.shaped_conv import square_to_shaped

__all__ = ['ConvNeXt', 'checkpoint_dcls_version', 'convert_convnext']


class Block(nn.Module):
    """mixer -> LN -> Linear(4C) -> GELU -> Linear(C) -> layer scale, residual."""

    def __init__(self, dim: int, mixer: nn.Module, drop_path: float,
                 layer_scale_init_value: float) -> None:
        super().__init__()
        self.dwconv = mixer
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = (nn.Parameter(layer_scale_init_value * torch.ones(dim))
                      if layer_scale_init_value > 0 else None)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        if self.gamma is not None:
            y = self.gamma * y
        return x + self.drop_path(y.permute(0, 3, 1, 2))


@MODELS.register_module()
class ConvNeXt(BaseModule):
    """ConvNeXt with a configurable depthwise token mixer.

    Outputs a tuple of NCHW maps selected by ``out_indices``, each after its
    own LayerNorm (``norm{i}``, as the official segmentation backbone):
    channels ``dims[i]`` at strides 4, 8, 16, 32, or at most
    ``output_stride`` (16, 8 or 4), where the later stages are exact dense
    versions of the strided ones (equivalent stride).

    Args:
        arch: ``'atto'``, ``'femto'``, ``'pico'``, ``'nano'``, ``'tiny'``,
            ``'small'``, ``'base'`` or a dict with ``depths`` and ``dims``.
        token_mixer: ``'dw'`` (7x7 depthwise conv), ``'hex'`` (the same with
            a hexagonal 7x7 footprint, 37 of 49 taps; Sun et al., arXiv
            1511.09231), ``'dcls'`` (17x17 depthwise DCLS, positions shared
            by the blocks of a stage) or ``'dcnv3'`` (DCNv3, ``dcnv3_groups``
            per stage).
        hex_shape: Orientation of the ``'hex'`` mixers: ``'cycle'`` (right,
            down, left, up through the blocks in order), ``'qh-mixed'`` (the
            four on channel quarters) or one of them.
        dcls_cfg: DCLS settings: ``kernel_count`` (default 34 for tiny and
            smaller, 40 otherwise), ``dilated_kernel_size`` (17), ``version``
            (default ``'v0'``: bilinear, not normalised, row position first,
            as the original ConvNeXt-dcls and its released checkpoints; see
            :class:`~segkit.ops.Dcls2d` for ``'v1'`` and ``'gauss'``).
        dcnv3_groups: DCNv3 groups per stage.
        in_channels: Image channels.
        drop_path_rate: Stochastic depth at the last block (linear ramp).
        layer_scale_init_value: Initial layer scale (0 disables it).
        out_indices: Stages to return.
        output_stride: 32, 16, 8 or 4.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads official
            ConvNeXt / ConvNeXt-dcls checkpoints (see :func:`convert_convnext`);
            a ``'hex'`` model takes the kept taps of a square ConvNeXt file.
            Their DCLS positions are ``'v0'``; a file holding another version
            (a segkit-trained one) says so with ``dcls_version=...`` here or
            in its ``meta``, and a model of another version refuses it.

    Example:
        >>> net = ConvNeXt('atto', token_mixer='dcls', dcls_cfg=dict(kernel_count=8,
        ...                dilated_kernel_size=7))
        >>> [tuple(o.shape[1:]) for o in net(torch.randn(1, 3, 64, 64))]
        [(40, 16, 16), (80, 8, 8), (160, 4, 4), (320, 2, 2)]
    """

    arch_settings = {
        'atto': dict(depths=[2, 2, 6, 2], dims=[40, 80, 160, 320]),
        'femto': dict(depths=[2, 2, 6, 2], dims=[48, 96, 192, 384]),
        'pico': dict(depths=[2, 2, 6, 2], dims=[64, 128, 256, 512]),
        'nano': dict(depths=[2, 2, 8, 2], dims=[80, 160, 320, 640]),
        'tiny': dict(depths=[3, 3, 9, 3], dims=[96, 192, 384, 768]),
        'small': dict(depths=[3, 3, 27, 3], dims=[96, 192, 384, 768]),
        'base': dict(depths=[3, 3, 27, 3], dims=[128, 256, 512, 1024]),
    }

    def __init__(self, arch: str | dict = 'tiny', token_mixer: str = 'dw',
                 dcls_cfg: dict | None = None, hex_shape: str = 'cycle',
                 dcnv3_groups: Sequence[int] = (4, 8, 16, 32), in_channels: int = 3,
                 drop_path_rate: float = 0.0, layer_scale_init_value: float = 1e-6,
                 out_indices: Sequence[int] = (0, 1, 2, 3), output_stride: int = 32,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        arch_name, arch = resolve_arch(arch, self.arch_settings, ('depths', 'dims'),
                                       output_stride, out_indices)
        if token_mixer not in ('dw', 'hex', 'dcls', 'dcnv3'):
            raise ValueError("token_mixer must be 'dw', 'hex', 'dcls' or 'dcnv3', "
                             f'got {token_mixer!r}')
        depths, dims = list(arch['depths']), list(arch['dims'])
        self.dims, self.token_mixer = dims, token_mixer
        self.out_indices, self.output_stride = tuple(out_indices), output_stride
        big = arch_name in ('small', 'base')
        self.dcls_cfg = {'kernel_count': 40 if big else 34, 'dilated_kernel_size': 17,
                         'version': 'v0', **(dcls_cfg or {})}
        self.downsample_layers = nn.ModuleList([nn.Sequential(
            nn.Conv2d(in_channels, dims[0], 4, 4), LayerNorm2d(dims[0], eps=1e-6))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(
                LayerNorm2d(dims[i], eps=1e-6), nn.Conv2d(dims[i], dims[i + 1], 2, 2)))
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        for i in range(4):
            mixers = [self._mixer(dims[i], i, dcnv3_groups) for _ in range(depths[i])]
            if token_mixer == 'dcls':
                # NOTE: one position set per stage, as in ConvNeXt-dcls; the same
                # Parameter in every block (saved under each block's name)
                for mixer in mixers[1:]:
                    mixer.P = mixers[0].P
            start = sum(depths[:i])
            self.stages.append(nn.Sequential(*(
                Block(dims[i], mixers[j], rates[start + j], layer_scale_init_value)
                for j in range(depths[i]))))
        if token_mixer == 'hex':
            shape_convs(self.stages, hex_shape, kernel_sizes=(7,))
        for i in self.out_indices:
            self.add_module(f'norm{i}', LayerNorm2d(dims[i], eps=1e-6))
        apply_output_stride(output_stride, [d[1] for d in self.downsample_layers[1:]],
                            [[block.dwconv for block in stage] for stage in self.stages])

    def _mixer(self, dim: int, stage: int, dcnv3_groups: Sequence[int]) -> nn.Module:
        if self.token_mixer in ('dw', 'hex'):  # 'hex': shaped once all blocks exist
            return nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        if self.token_mixer == 'dcls':
            size = self.dcls_cfg['dilated_kernel_size']
            return Dcls2d(dim, dim, self.dcls_cfg['kernel_count'], size, padding=size // 2,
                          groups=dim, version=self.dcls_cfg['version'])
        return DCNv3Conv2d(dim, dim, 3, padding=1, group=dcnv3_groups[stage])

    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            path = self.init_cfg['checkpoint']
            checkpoint = read_checkpoint(path)
            state = convert_convnext(checkpoint)
            self._check_dcls_version(state, path, self.init_cfg.get('dcls_version')
                                     or checkpoint_dcls_version(checkpoint))
            if self.token_mixer == 'hex':
                state, dropped = square_to_shaped(state, self)
                print_log(f'{path}: hexagonal mixers keep 37 of 49 taps; the dropped ones held '
                          f'{100 * dropped:.1f}% of the weights\' energy', logger='current')
            # ImageNet checkpoints have no output norms (norm0..3): those start fresh
            load_state_dict_checked(self, state, path, optional=('norm',))
            return
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, Dcls2d):
                # as ConvNeXt-dcls: element weights like conv weights; the
                # positions keep Dcls2d's own initialisation
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, DCNv3Conv2d):
                m.init_weights()

    def _check_dcls_version(self, state: dict, path: str, version: str) -> None:
        """Refuses DCLS positions of another version than this model's: the
        same tensors would silently compute another kernel."""
        if not any(k.endswith('dwconv.P') for k in state):
            return
        if any(k.endswith('dwconv.SIG') for k in state):
            version = 'gauss'
        ours = self.dcls_cfg['version'] if self.token_mixer == 'dcls' else None
        if version != ours:
            raise CheckpointMismatchError(
                f"{path} holds DCLS positions of version {version!r} but this ConvNeXt "
                f"uses {'no DCLS' if ours is None else repr(ours)}: set "
                f"dcls_cfg=dict(version={version!r}) (or, if the file says the wrong "
                f"thing, init_cfg=dict(..., dcls_version=...))")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = []
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
            if i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return tuple(outs)


def checkpoint_dcls_version(checkpoint: dict) -> str:
    """The DCLS version of a checkpoint's positions: its ``meta['dcls_version']``
    if it has one (files written by segkit's converter), else ``'v0'``, the
    version of every released ConvNeXt-dcls file (ImageNet and UPerNet)."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return (meta if isinstance(meta, dict) else {}).get('dcls_version', 'v0')


def convert_convnext(checkpoint: dict) -> dict:
    """Official ConvNeXt / ConvNeXt-dcls checkpoint -> :class:`ConvNeXt` state dict.

    Accepts ImageNet checkpoints (``{'model': ...}``; the final ``norm`` and
    ``head`` are dropped) and segmentation ones (``{'state_dict': ...}`` with
    ``backbone.`` prefixes). Parameter names are the official ones, and the
    DCLS positions are kept as they are: the released files hold ``'v0'``
    positions, row first, which is how :class:`~segkit.ops.Dcls2d` reads
    ``'v0'``. Nothing is transformed, so converting a converted file changes
    nothing.
    """
    return backbone_state_dict(checkpoint, drop=('head', 'norm', 'fc_norm'))
