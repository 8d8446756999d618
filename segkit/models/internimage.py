"""InternImage (DCNv3 blocks) and FlashInternImage (DCNv4 blocks) for mmseg.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778; Xiong et al.,
"Efficient Deformable ConvNets", CVPR 2024, arXiv 2401.06197
(FlashInternImage: the same network with DCNv4 as its ``core_op``).

Module names follow the original implementations (``patch_embed``,
``levels.i.blocks.j.dcn``...), so official checkpoints load through
:func:`convert_internimage`, which only unwraps and drops the classifier.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from segkit.models.backbone_utils import apply_output_stride, resolve_arch
from segkit.models.checkpoint_utils import (backbone_state_dict, load_state_dict_checked,
                                           read_checkpoint)
from segkit.models.layers import DropPath
from segkit.ops.dcnv3 import DCNv3
from segkit.ops.dcnv4 import DCNv4

__all__ = ['FlashInternImage', 'InternImage', 'convert_internimage']


class _Permute(nn.Module):
    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


def _ln(channels: int, fmt_in: str = 'channels_last',
        fmt_out: str = 'channels_last') -> nn.Sequential:
    """LayerNorm over channels with the original's Sequential layout (LN at
    index 0, or 1 after a permute), so parameter names match."""
    layers: list[nn.Module] = []
    if fmt_in == 'channels_first':
        layers.append(_Permute(0, 2, 3, 1))
    layers.append(nn.LayerNorm(channels, eps=1e-6))
    if fmt_out == 'channels_first':
        layers.append(_Permute(0, 3, 1, 2))
    return nn.Sequential(*layers)


class StemLayer(nn.Module):
    """conv3x3/s2 -> LN -> GELU -> conv3x3/s2 -> LN; NCHW in, NHWC out."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels // 2, 3, 2, 1)
        self.norm1 = _ln(out_channels // 2, 'channels_first', 'channels_first')
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(out_channels // 2, out_channels, 3, 2, 1)
        self.norm2 = _ln(out_channels, 'channels_first', 'channels_last')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))


class DownsampleLayer(nn.Module):
    """conv3x3/s2 (no bias) -> LN; NHWC in and out."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2 * channels, 3, 2, 1, bias=False)
        self.norm = _ln(2 * channels, 'channels_first', 'channels_last')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x.permute(0, 3, 1, 2)))


class MLPLayer(nn.Module):
    def __init__(self, channels: int, hidden: int, drop: float = 0.0,
                 fc2_bias: bool = True) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, channels, bias=fc2_bias)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


def _core_op(name: str, channels: int, group: int, offset_scale: float,
             dw_kernel_size: int | None, center_feature_scale: bool,
             dcn_output_bias: bool) -> nn.Module:
    """The deformable layer of a block: 3x3, stride 1, 'same' (the originals')."""
    if name == 'DCNv3':
        return DCNv3(channels, kernel_size=3, dw_kernel_size=dw_kernel_size, stride=1, pad=1,
                     dilation=1, group=group, offset_scale=offset_scale,
                     center_feature_scale=center_feature_scale)
    if name == 'DCNv4':
        # NOTE: FlashInternImage never gives DCNv4 its centre feature scale
        return DCNv4(channels, kernel_size=3, stride=1, pad=1, dilation=1, group=group,
                     offset_scale=offset_scale, dw_kernel_size=dw_kernel_size,
                     output_bias=dcn_output_bias)
    raise ValueError(f"core_op must be 'DCNv3' or 'DCNv4', got {name!r}")


class InternImageLayer(nn.Module):
    """DCN + MLP, pre-norm (T) or post-norm (S, B), with layer scale."""

    def __init__(self, channels: int, group: int, mlp_ratio: float, drop_path: float,
                 layer_scale: float | None, offset_scale: float, post_norm: bool,
                 dw_kernel_size: int | None, center_feature_scale: bool, core_op: str = 'DCNv3',
                 mlp_fc2_bias: bool = True, dcn_output_bias: bool = True) -> None:
        super().__init__()
        self.post_norm = post_norm
        self.norm1 = _ln(channels)
        self.dcn = _core_op(core_op, channels, group, offset_scale, dw_kernel_size,
                            center_feature_scale, dcn_output_bias)
        self.drop_path = DropPath(drop_path)
        self.norm2 = _ln(channels)
        self.mlp = MLPLayer(channels, int(channels * mlp_ratio), fc2_bias=mlp_fc2_bias)
        self.layer_scale = layer_scale is not None
        if self.layer_scale:
            self.gamma1 = nn.Parameter(layer_scale * torch.ones(channels))
            self.gamma2 = nn.Parameter(layer_scale * torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g1 = self.gamma1 if self.layer_scale else 1.0
        g2 = self.gamma2 if self.layer_scale else 1.0
        if self.post_norm:
            x = x + self.drop_path(g1 * self.norm1(self.dcn(x)))
            return x + self.drop_path(g2 * self.norm2(self.mlp(x)))
        x = x + self.drop_path(g1 * self.dcn(self.norm1(x)))
        return x + self.drop_path(g2 * self.mlp(self.norm2(x)))


class InternImageBlock(nn.Module):
    """One stage: layers, a final LN (pre-norm models), then downsampling."""

    def __init__(self, channels: int, depth: int, group: int, downsample: bool,
                 drop_path: Sequence[float], post_norm: bool, center_feature_scale: bool,
                 **layer_kwargs: Any) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            InternImageLayer(channels, group, drop_path=drop_path[i], post_norm=post_norm,
                             center_feature_scale=center_feature_scale, **layer_kwargs)
            for i in range(depth))
        self.norm = _ln(channels) if not post_norm or center_feature_scale else None
        self.downsample = DownsampleLayer(channels) if downsample else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for block in self.blocks:
            x = block(x)
        if self.norm is not None:
            x = self.norm(x)
        out = x
        if self.downsample is not None:
            x = self.downsample(x)
        return x, out


@MODELS.register_module()
class InternImage(BaseModule):
    """InternImage: a hierarchical backbone of deformable blocks (DCNv3).

    Outputs a tuple of NCHW maps selected by ``out_indices``: channels
    ``C, 2C, 4C, 8C`` at strides ``4, 8, 16, 32`` (with ``output_stride``
    16, 8 or 4 the later maps stay at that stride and are the exact dense
    versions: downsampling convs become eConvs, DCNv3 layers run on phases).

    The arch table follows the released ImageNet models: ``'tiny'`` is
    pre-norm without layer scale (the original's ``layer_scale=None``: no
    ``gamma1``/``gamma2``), ``'small'`` and ``'base'`` post-norm with layer
    scale 1e-5.

    Args:
        arch: ``'tiny'``, ``'small'``, ``'base'`` or a dict with ``channels``,
            ``depths``, ``groups`` and optionally ``layer_scale`` (None: none),
            ``post_norm``, ``offset_scale``, ``dw_kernel_size``,
            ``mlp_fc2_bias`` and ``dcn_output_bias``.
        layer_scale: Initial layer scale, overriding the arch's (None keeps
            the arch's). The original's segmentation configs build every
            size with 1.0, so its UPerNet releases have layer scales, T's
            included.
        in_channels: Image channels.
        mlp_ratio: MLP hidden size / channels.
        drop_path_rate: Stochastic depth at the last layer (linear ramp).
        offset_scale: The deformable layers' offset scale (None: the arch's,
            else 1.0).
        dw_kernel_size: Their depthwise kernel (None: the arch's; DCNv3's
            default is its kernel size, 3; DCNv4 has none by default).
        center_feature_scale: DCNv3's centre feature scaling.
        core_op: ``'DCNv3'`` (InternImage) or ``'DCNv4'`` (FlashInternImage).
        out_indices: Which stages to return.
        output_stride: 32 (plain), 16, 8 or 4 (equivalent stride).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=...)``; official
            InternImage checkpoints load (see :func:`convert_internimage`).
            A file without layer scale (InternImage-T ImageNet) loaded into
            a model with one starts every gamma at 1.0, which computes what
            the file's model computes (the original's segmentation configs
            get the same by initialising them to 1.0 and loading
            non-strictly); it says so in the log. Any other missing or
            unexpected key is an error.

    Example:
        >>> net = InternImage(dict(channels=16, depths=[1, 1, 1, 1], groups=[1, 2, 4, 8]))
        >>> [o.shape[1:] for o in net(torch.randn(1, 3, 64, 64))]
        [torch.Size([16, 16, 16]), torch.Size([32, 8, 8]), torch.Size([64, 4, 4]),
         torch.Size([128, 2, 2])]
    """

    arch_settings = {
        'tiny': dict(channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32],
                     layer_scale=None, post_norm=False),
        'small': dict(channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40],
                      layer_scale=1e-5, post_norm=True),
        'base': dict(channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56],
                     layer_scale=1e-5, post_norm=True),
    }

    core_op = 'DCNv3'

    def __init__(self, arch: str | dict = 'tiny', layer_scale: float | None = None,
                 in_channels: int = 3,
                 mlp_ratio: float = 4.0, drop_path_rate: float = 0.2,
                 offset_scale: float | None = None, dw_kernel_size: int | None = None,
                 center_feature_scale: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3), output_stride: int = 32,
                 core_op: str | None = None, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        _, arch = resolve_arch(arch, self.arch_settings, ('channels', 'depths', 'groups'),
                               output_stride, out_indices)
        channels, depths, groups = arch['channels'], arch['depths'], arch['groups']
        self.core_op = core_op or self.core_op
        self.out_indices, self.output_stride = tuple(out_indices), output_stride
        self.depths = list(depths)
        self.channels = [channels * 2 ** i for i in range(4)]
        self.patch_embed = StemLayer(in_channels, channels)
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.levels = nn.ModuleList()
        for i in range(4):
            self.levels.append(InternImageBlock(
                self.channels[i], depths[i], groups[i], downsample=i < 3,
                drop_path=rates[sum(depths[:i]):sum(depths[:i + 1])],
                post_norm=arch.get('post_norm', False), mlp_ratio=mlp_ratio,
                layer_scale=arch.get('layer_scale') if layer_scale is None else layer_scale,
                offset_scale=arch.get('offset_scale', 1.0) if offset_scale is None
                else offset_scale,
                dw_kernel_size=dw_kernel_size or arch.get('dw_kernel_size'),
                center_feature_scale=center_feature_scale, core_op=self.core_op,
                mlp_fc2_bias=arch.get('mlp_fc2_bias', True),
                dcn_output_bias=arch.get('dcn_output_bias', True)))
        apply_output_stride(output_stride, [level.downsample.conv for level in self.levels[:3]],
                            [[block.dcn for block in level.blocks] for level in self.levels])

    def init_weights(self) -> None:
        if self.init_cfg is None or self.init_cfg.get('type') != 'Pretrained':
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
            for m in self.modules():
                if isinstance(m, (DCNv3, DCNv4)):
                    m.reset_parameters()
            return
        path = self.init_cfg['checkpoint']
        state = self.convert(read_checkpoint(path))
        gammas = {k: v for k, v in self.state_dict().items() if k.endswith(('.gamma1', '.gamma2'))}
        if gammas and not any(k.endswith(('.gamma1', '.gamma2')) for k in state):
            # gamma = 1 is the file's model exactly (its branches are added unscaled)
            state.update({k: torch.ones_like(v) for k, v in gammas.items()})
            print_log(f'{path} has no layer scale (gamma1/gamma2, as the released '
                      f'{type(self).__name__}-T ImageNet file): they start at 1.0',
                      logger='current')
        load_state_dict_checked(self, state, path)

    @staticmethod
    def convert(checkpoint: dict) -> dict:
        """An official checkpoint's backbone state dict (:func:`convert_internimage`)."""
        return convert_internimage(checkpoint)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.patch_embed(x)
        outs = []
        for i, level in enumerate(self.levels):
            x, out = level(x)
            if i in self.out_indices:
                outs.append(out.permute(0, 3, 1, 2).contiguous())
        return tuple(outs)


def convert_internimage(checkpoint: dict, prefer_ema: bool = False) -> dict:
    """Official InternImage / FlashInternImage checkpoint -> backbone state dict.

    Accepts an ImageNet checkpoint (``{'model': ...}``, classifier included)
    or a segmentation one (``{'state_dict': ...}`` with ``backbone.``
    prefixes). Names are the original's, so the conversion unwraps, strips
    ``backbone.`` and drops the classification head (``conv_head``, ``head``,
    ``avgpool``) and anything outside the backbone (decode heads). With
    ``prefer_ema`` a classification file's ``model_ema`` is taken before its
    ``model`` (FlashInternImage's loader does so).
    """
    if prefer_ema and isinstance(checkpoint, dict) and 'state_dict' not in checkpoint and (
            isinstance(checkpoint.get('model_ema'), dict)):
        checkpoint = checkpoint['model_ema']
    return backbone_state_dict(
        checkpoint, drop=('conv_head', 'head', 'avgpool', 'fc_norm', 'clip_projector'))


@MODELS.register_module()
class FlashInternImage(InternImage):
    """FlashInternImage: InternImage with DCNv4 blocks (Xiong et al., CVPR 2024).

    The arch table follows the released ImageNet models (the original's
    ``classification/configs``): ``'tiny'`` pre-norm without layer scale and
    without a depthwise conv in DCNv4's offset branch; ``'small'``, ``'base'``
    and ``'large'`` post-norm, layer scale 1e-5, a 3x3 depthwise conv, offset
    scale 1.0 / 0.5 / 2.0; no bias in ``mlp.fc2`` and ``dcn.output_proj``
    except for ``'large'``. The original's segmentation configs build every
    size with ``layer_scale=1.0``. Arguments, outputs and loading are
    :class:`InternImage`'s; released files in the classification layout take
    ``model_ema`` before ``model``, as the original's loader.

    Example:
        >>> net = FlashInternImage(dict(channels=16, depths=[1, 1, 1, 1], groups=[1, 2, 4, 8]))
        >>> [o.shape[1] for o in net(torch.randn(1, 3, 64, 64))]
        [16, 32, 64, 128]
    """

    core_op = 'DCNv4'
    _flash = dict(mlp_fc2_bias=False, dcn_output_bias=False)
    arch_settings = {
        'tiny': dict(channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], layer_scale=None,
                     post_norm=False, offset_scale=1.0, dw_kernel_size=None, **_flash),
        'small': dict(channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40],
                      layer_scale=1e-5, post_norm=True, offset_scale=1.0, dw_kernel_size=3,
                      **_flash),
        'base': dict(channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56],
                     layer_scale=1e-5, post_norm=True, offset_scale=0.5, dw_kernel_size=3,
                     **_flash),
        'large': dict(channels=160, depths=[5, 5, 22, 5], groups=[10, 20, 40, 80],
                      layer_scale=1e-5, post_norm=True, offset_scale=2.0, dw_kernel_size=3,
                      mlp_fc2_bias=True, dcn_output_bias=True),
    }

    def __init__(self, arch: str | dict = 'tiny', **kwargs) -> None:
        if isinstance(arch, dict):  # a custom arch without these is a FlashInternImage's
            arch = {**self._flash, **arch}
        super().__init__(arch, **kwargs)

    @staticmethod
    def convert(checkpoint: dict) -> dict:
        """An official checkpoint's backbone state dict (:func:`convert_internimage`
        preferring ``model_ema``, as the original's loader)."""
        return convert_internimage(checkpoint, prefer_ema=True)
