"""DCNv3 for channels-first mmseg modules: a conv layer and a UPerNet head.

Wang et al., "InternImage", CVPR 2023, arXiv 2211.05778 (DCNv3); Xiao et al.,
"Unified Perceptual Parsing", ECCV 2018 (UPerNet).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.models.decode_heads import UPerHead
from mmseg.registry import MODELS

from segkit.ops.dcnv3 import DCNv3
from segkit.utils.deprecation import renamed

__all__ = ['DCNv3Conv2d', 'DCNv3UPerHead']


@MMENGINE_MODELS.register_module('DCNv3')
class DCNv3Conv2d(nn.Module):
    """DCNv3 behind a conv-layer interface (NCHW), for ``conv_cfg=dict(type='DCNv3')``.

    The deformable sampling keeps ``in_channels``; a 1x1 conv follows when
    ``out_channels`` differs. ``bias`` is accepted for the interface only
    (DCNv3's projections carry their own biases).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation:
            As for ``nn.Conv2d`` (``padding`` defaults to "same").
        groups: The conv's channel groups, which ``ConvModule`` passes; must
            be 1 (DCNv3 samples each channel on its own, then mixes them).
        bias: Ignored, see above.
        deform_groups: DCNv3 groups, each with its own offsets and mask (the
            operator's ``group``; mmcv's word for DCN's offset groups, since
            ``groups`` is taken); ``in_channels`` must divide by it.
        offset_scale: DCNv3 offset scale.
    """

    transposed = False
    output_padding = (0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 groups: int = 1, bias: bool | str = True, deform_groups: int = 4,
                 offset_scale: float = 1.0, group: int | None = None) -> None:
        super().__init__()
        if group is not None:
            renamed("conv_cfg=dict(type='DCNv3', group=...)", 'deform_groups', 'DCNv3Conv2d')
            deform_groups = group
        if groups != 1:
            raise ValueError('DCNv3 conv layers have channel groups=1 (their offset groups '
                             f'are deform_groups), got groups={groups}')
        kernel_size = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        stride = stride if isinstance(stride, int) else stride[0]
        dilation = dilation if isinstance(dilation, int) else dilation[0]
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        padding = padding if isinstance(padding, int) else padding[0]
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = (kernel_size,) * 2, (stride,) * 2
        self.padding, self.dilation, self.groups = (padding,) * 2, (dilation,) * 2, 1
        self.dcn = DCNv3(in_channels, kernel_size, stride=stride, pad=padding,
                         dilation=dilation, group=deform_groups, offset_scale=offset_scale)
        self.proj = (nn.Conv2d(in_channels, out_channels, 1)
                     if out_channels != in_channels else None)

    def init_weights(self) -> None:
        self.dcn.reset_parameters()

    def set_equivalent_stride(self, e: int) -> None:
        """See :meth:`segkit.ops.DCNv3.set_equivalent_stride`."""
        self.dcn.set_equivalent_stride(e)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.proj(x) if self.proj is not None else x


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
