"""UPerNet whose fusion convs are DCNv3 layers.

Xiao et al., "Unified Perceptual Parsing for Scene Understanding", ECCV 2018
(UPerNet); Wang et al., "InternImage", CVPR 2023, arXiv 2211.05778 (DCNv3).
"""
from __future__ import annotations

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import UPerHead
from mmseg.registry import MODELS

from segkit.utils.deprecation import renamed

from . import conv_layers  # noqa: F401  (the 'DCNv3' conv layer)

__all__ = ['DCNv3UPerHead']


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
