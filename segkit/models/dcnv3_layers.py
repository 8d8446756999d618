"""DCNv3 and DCNv4 for channels-first mmseg modules: conv layers and a UPerNet head.

Wang et al., "InternImage", CVPR 2023, arXiv 2211.05778 (DCNv3); Xiong et
al., CVPR 2024, arXiv 2401.06197 (DCNv4); Xiao et al., "Unified Perceptual
Parsing", ECCV 2018 (UPerNet).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.models.decode_heads import UPerHead
from mmseg.registry import MODELS

from segkit.errors import DensifyError
from segkit.ops.dcnv3 import DCNv3
from segkit.ops.dcnv4 import DCNv4
from segkit.ops.equivalent_stride import register_dense_rule
from segkit.utils.deprecation import renamed

__all__ = ['ChannelsLastDeformConv', 'DCNv3Conv2d', 'DCNv3UPerHead', 'DCNv4Conv2d']


class ChannelsLastDeformConv(nn.Module):
    """A channels-last deformable module (DCNv3, DCNv4) behind a conv-layer
    interface (NCHW), for ``conv_cfg=dict(type=...)`` in any mmseg module.

    The deformable sampling keeps ``in_channels``; a 1x1 conv follows when
    ``out_channels`` differs. ``bias`` is accepted for the interface only
    (the modules' projections carry their own biases).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation:
            As for ``nn.Conv2d`` (``padding`` defaults to "same").
        groups: The conv's channel groups, which ``ConvModule`` passes; must
            be 1 (the module samples each channel on its own, then mixes them).
        bias: Ignored, see above.
        deform_groups: Groups, each with its own offsets and mask (the
            operator's ``group``; mmcv's word for DCN's offset groups, since
            ``groups`` is taken); ``in_channels`` must divide by it.
        offset_scale: The module's offset scale.
    """

    transposed = False
    output_padding = (0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 groups: int = 1, bias: bool | str = True, deform_groups: int = 4,
                 offset_scale: float = 1.0, group: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if group is not None:
            renamed(f"conv_cfg=dict(type='{self.op.__name__}', group=...)", 'deform_groups',
                    name)
            deform_groups = group
        if groups != 1:
            raise ValueError(f'{self.op.__name__} conv layers have channel groups=1 (their '
                             f'offset groups are deform_groups), got groups={groups}')
        kernel_size = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        stride = stride if isinstance(stride, int) else stride[0]
        dilation = dilation if isinstance(dilation, int) else dilation[0]
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        padding = padding if isinstance(padding, int) else padding[0]
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = (kernel_size,) * 2, (stride,) * 2
        self.padding, self.dilation, self.groups = (padding,) * 2, (dilation,) * 2, 1
        self.dcn = self.op(in_channels, kernel_size, stride=stride, pad=padding,
                           dilation=dilation, group=deform_groups, offset_scale=offset_scale)
        self.proj = (nn.Conv2d(in_channels, out_channels, 1)
                     if out_channels != in_channels else None)

    op: type[nn.Module] = nn.Module  # the channels-last module

    def init_weights(self) -> None:
        self.dcn.reset_parameters()

    def set_equivalent_stride(self, e: int, stride: int | None = None) -> None:
        """See :meth:`segkit.ops.DCNv3.set_equivalent_stride` (the 1x1
        projection after it is per-position)."""
        self.dcn.set_equivalent_stride(e, *(() if stride is None else (stride,)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.proj(x) if self.proj is not None else x


@register_dense_rule(ChannelsLastDeformConv)
def _dense_conv_layer(layer: ChannelsLastDeformConv, e: int,
                      stride: int) -> ChannelsLastDeformConv:
    """Equivalent stride of a DCNv3 / DCNv4 conv layer: its operator's rule."""
    try:
        layer.set_equivalent_stride(e, stride)
    except ValueError as err:
        raise DensifyError(str(err)) from None
    return layer


@MMENGINE_MODELS.register_module('DCNv3')
class DCNv3Conv2d(ChannelsLastDeformConv):
    """DCNv3 as a conv layer (``conv_cfg=dict(type='DCNv3', deform_groups=4)``);
    arguments as :class:`ChannelsLastDeformConv`."""

    op = DCNv3


@MMENGINE_MODELS.register_module('DCNv4')
class DCNv4Conv2d(ChannelsLastDeformConv):
    """DCNv4 as a conv layer (``conv_cfg=dict(type='DCNv4', deform_groups=4)``);
    arguments as :class:`ChannelsLastDeformConv`. Stride 1 and "same"
    padding only, as DCNv4's module (its offsets are predicted at input
    resolution)."""

    op = DCNv4

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 **kwargs) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         **kwargs)
        k, d = self.kernel_size[0], self.dilation[0]
        if self.stride != (1, 1) or self.padding[0] != d * (k - 1) // 2:
            raise ValueError('DCNv4 conv layers take stride 1 and "same" padding, got '
                             f'stride {self.stride}, padding {self.padding}')


@MODELS.register_module()
class DCNv3UPerHead(UPerHead):
    """UPerNet whose fusion convs are DCNv3 layers.

    The 3x3 convs that smooth each FPN level and the bottleneck that fuses
    the concatenated levels sample with DCNv3 (``deform_groups`` offset
    groups) instead of a fixed 3x3 grid; laterals and the pyramid pooling
    module stay 1x1. Inputs, outputs and arguments are those of ``UPerHead``.

    Example:
        >>> head = DCNv3UPerHead(in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3],
        ...                      channels=16, num_classes=3, deform_groups=4)
        >>> feats = [torch.randn(1, c, 32 // 2**i, 32 // 2**i)
        ...          for i, c in enumerate([8, 16, 32, 64])]
        >>> head(feats).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(self, deform_groups: int = 4, dcn_group: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if dcn_group is not None:
            renamed('dcn_group', 'deform_groups', 'DCNv3UPerHead')
            deform_groups = dcn_group
        conv_cfg = dict(type='DCNv3', deform_groups=deform_groups)
        common = dict(conv_cfg=conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.fpn_convs = nn.ModuleList(
            ConvModule(self.channels, self.channels, 3, padding=1, **common)
            for _ in self.fpn_convs)
        self.fpn_bottleneck = ConvModule(len(self.in_channels) * self.channels, self.channels,
                                         3, padding=1, **common)
