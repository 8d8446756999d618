"""ConvNeXt backbone whose token mixer is chosen by registration ('dw', 'dcls',
'shaped', 'dcnv3', ...: :mod:`segkit.models.token_mixers`).

Liu et al., "A ConvNet for the 2020s", CVPR 2022, arXiv 2201.03545;
ConvNeXt-dcls: Khalfaoui-Hassani et al., ICLR 2023, arXiv 2112.03740 (17x17
DCLS kernels, 34 elements for T and 40 for S/B, positions shared per stage).

Module names follow the official ConvNeXt and ConvNeXt-dcls code
(``downsample_layers``, ``stages.i.j.dwconv``...), so their ImageNet
checkpoints load through :func:`convert_convnext`.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from segkit.models.backbone_utils import apply_output_stride, resolve_arch
from segkit.models.checkpoint_utils import (backbone_state_dict, load_state_dict_checked,
                                           read_checkpoint)
from segkit.models.layers import DropPath, LayerNorm2d
from segkit.models.token_mixers import TOKEN_MIXERS, checkpoint_dcls_version
from segkit.utils.deprecation import renamed, renamed_kwargs

__all__ = ['ConvNeXt', 'checkpoint_dcls_version', 'convert_convnext']


class Block(nn.Module):
    """mixer -> LN -> Linear(4C) -> GELU -> Linear(C) -> layer scale, residual."""

    def __init__(self, dim: int, mixer: nn.Module, drop_path: float,
                 layer_scale: float | None) -> None:
        super().__init__()
        self.dwconv = mixer
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale * torch.ones(dim)) if layer_scale else None
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        if self.gamma is not None:
            y = self.gamma * y
        return x + self.drop_path(y.permute(0, 3, 1, 2))


@MODELS.register_module()
class ConvNeXt(BaseModule):
    """ConvNeXt with a registered token mixer.

    Outputs a tuple of NCHW maps selected by ``out_indices``, each after its
    own LayerNorm (``norm{i}``, as the official segmentation backbone):
    channels ``channels[i]`` at strides 4, 8, 16, 32, or at most
    ``output_stride`` (16, 8 or 4), where the later stages are exact dense
    versions of the strided ones (equivalent stride).

    Args:
        arch: ``'atto'``, ``'femto'``, ``'pico'``, ``'nano'``, ``'tiny'``,
            ``'small'``, ``'base'`` or a dict with ``depths`` and ``channels``.
        token_mixer: A registered mixer's name or config dict
            (:mod:`segkit.models.token_mixers`): ``'dw'`` (7x7 depthwise
            conv, the official ConvNeXt), ``'dcls'`` (17x17 depthwise DCLS,
            positions shared by the blocks of a stage; ``dict(type='dcls',
            kernel_count=..., dilated_kernel_size=..., version=...)``),
            ``'shaped'`` (the 7x7 kernel with a quasi-hexagonal footprint,
            37 of 49 taps; ``dict(type='shaped', shape='cycle')``) or
            ``'dcnv3'`` (``dict(type='dcnv3', groups=(4, 8, 16, 32))``).
        in_channels: Image channels.
        drop_path_rate: Stochastic depth at the last block (linear ramp).
        layer_scale: Initial layer scale (None or 0: none).
        out_indices: Stages to return.
        output_stride: 32, 16, 8 or 4.
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads official
            ConvNeXt / ConvNeXt-dcls checkpoints (see :func:`convert_convnext`);
            the mixer fits them (a ``'shaped'`` model takes the kept taps of a
            square file). Their DCLS positions are ``'v0'``; a file holding
            another version (a segkit-trained one) says so with
            ``dcls_version=...`` here or in its ``meta``, and a model of
            another version refuses it.

    Example:
        >>> net = ConvNeXt('atto', token_mixer=dict(type='dcls', kernel_count=8,
        ...                dilated_kernel_size=7))
        >>> [tuple(o.shape[1:]) for o in net(torch.randn(1, 3, 64, 64))]
        [(40, 16, 16), (80, 8, 8), (160, 4, 4), (320, 2, 2)]
    """

    arch_settings = {
        'atto': dict(depths=[2, 2, 6, 2], channels=[40, 80, 160, 320]),
        'femto': dict(depths=[2, 2, 6, 2], channels=[48, 96, 192, 384]),
        'pico': dict(depths=[2, 2, 6, 2], channels=[64, 128, 256, 512]),
        'nano': dict(depths=[2, 2, 8, 2], channels=[80, 160, 320, 640]),
        'tiny': dict(depths=[3, 3, 9, 3], channels=[96, 192, 384, 768]),
        'small': dict(depths=[3, 3, 27, 3], channels=[96, 192, 384, 768]),
        'base': dict(depths=[3, 3, 27, 3], channels=[128, 256, 512, 1024]),
    }

    def __init__(self, arch: str | dict = 'tiny', token_mixer: str | dict = 'dw',
                 in_channels: int = 3, drop_path_rate: float = 0.0,
                 layer_scale: float | None = 1e-6, out_indices: Sequence[int] = (0, 1, 2, 3),
                 output_stride: int = 32, init_cfg: dict | None = None, **deprecated: Any) -> None:
        super().__init__(init_cfg=init_cfg)
        token_mixer, layer_scale = _old_words(token_mixer, layer_scale, deprecated)
        if isinstance(arch, dict) and 'dims' in arch:
            renamed("arch=dict(dims=...)", "arch=dict(channels=...)", 'ConvNeXt')
            arch = {('channels' if k == 'dims' else k): v for k, v in arch.items()}
        arch_name, arch = resolve_arch(arch, self.arch_settings, ('depths', 'channels'),
                                       output_stride, out_indices)
        depths, channels = list(arch['depths']), list(arch['channels'])
        self.depths, self.channels = depths, channels
        self.out_indices, self.output_stride = tuple(out_indices), output_stride
        mixer_cfg = dict(type=token_mixer) if isinstance(token_mixer, str) else dict(token_mixer)
        if mixer_cfg.get('type') not in TOKEN_MIXERS:
            raise ValueError(f'token_mixer must be one of {sorted(TOKEN_MIXERS.module_dict)} '
                             f'(or a dict with such a type), got {token_mixer!r}')
        self.mixer = TOKEN_MIXERS.build(mixer_cfg, default_args=dict(arch=arch_name))
        self.token_mixer = mixer_cfg['type']
        self.downsample_layers = nn.ModuleList([nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 4, 4), LayerNorm2d(channels[0], eps=1e-6))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(
                LayerNorm2d(channels[i], eps=1e-6), nn.Conv2d(channels[i], channels[i + 1], 2, 2)))
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        for i in range(4):
            mixers = self.mixer.build_stage(channels[i], depths[i], i)
            start = sum(depths[:i])
            self.stages.append(nn.Sequential(*(
                Block(channels[i], mixers[j], rates[start + j], layer_scale)
                for j in range(depths[i]))))
        self.mixer.finish(self.stages)
        for i in self.out_indices:
            self.add_module(f'norm{i}', LayerNorm2d(channels[i], eps=1e-6))
        apply_output_stride(output_stride, [d[1] for d in self.downsample_layers[1:]],
                            [[block.dwconv for block in stage] for stage in self.stages])

    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            path = self.init_cfg['checkpoint']
            checkpoint = read_checkpoint(path)
            state = self.mixer.fit_checkpoint(convert_convnext(checkpoint), self, path,
                                              checkpoint, self.init_cfg)
            # ImageNet checkpoints have no output norms (norm0..3): those start fresh
            load_state_dict_checked(self, state, path, optional=('norm',))
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        self.mixer.init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = []
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
            if i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return tuple(outs)


def _old_words(token_mixer: str | dict, layer_scale: float | None,
               deprecated: dict[str, Any]) -> tuple[str | dict, float | None]:
    """The spellings before segkit 0.2 (one release more, with a warning):
    ``token_mixer='hex'``, ``dcls_cfg``, ``hex_shape``, ``dcnv3_groups``,
    ``layer_scale_init_value``."""
    kwargs = renamed_kwargs(deprecated, {'layer_scale_init_value': 'layer_scale'}, 'ConvNeXt')
    if 'layer_scale' in kwargs:
        layer_scale = kwargs.pop('layer_scale')
    if token_mixer == 'hex':
        renamed("token_mixer='hex'", "token_mixer='shaped'", 'ConvNeXt')
        token_mixer = 'shaped'
    cfg = dict(type=token_mixer) if isinstance(token_mixer, str) else dict(token_mixer)
    for old, new, mixer in (('dcls_cfg', None, 'dcls'), ('hex_shape', 'shape', 'shaped'),
                            ('dcnv3_groups', 'groups', 'dcnv3')):
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        renamed(old, f"token_mixer=dict(type={mixer!r}, {new or '...'}=...)", 'ConvNeXt')
        if cfg['type'] == mixer:
            cfg.update(value if new is None else {new: value})
    if kwargs:
        raise TypeError(f'ConvNeXt got unexpected arguments {sorted(kwargs)}')
    return (cfg if len(cfg) > 1 else cfg['type']), layer_scale


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
