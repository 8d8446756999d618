"""DeepLabV3's ASPP head whose atrous branches learn their spacings (DCLS).

Chen et al., "Rethinking Atrous Convolution for Semantic Image
Segmentation", arXiv 1706.05587 (ASPP, DeepLabV3); Khalfaoui-Hassani et al.,
"Dilated Convolution with Learnable Spacings", ICLR 2023, arXiv 2112.03740.
"""
from __future__ import annotations

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import ASPPHead
from mmseg.registry import MODELS

from segkit.ops.dcls import grid_positions
from segkit.utils.deprecation import renamed

from . import conv_layers  # noqa: F401  (the 'DCLS' conv layer)

__all__ = ['DCLSASPPHead']


@MODELS.register_module()
class DCLSASPPHead(ASPPHead):
    """DeepLabV3's ASPP whose atrous 3x3 branches are DCLS convolutions.

    Each atrous branch of dilation ``d`` becomes a DCLS conv with 9 elements
    in a ``(2d+1) x (2d+1)`` kernel, its positions initialised exactly at the
    atrous grid (so at step 0 it computes the plain ASPP); training then moves
    the taps. Arguments are those of ``ASPPHead`` plus ``dcls_cfg``, the DCLS
    layers' settings: ``version`` defaults to ``'v1'`` here (not ``Dcls2d``'s
    ``'gauss'``), because a bilinear tap at an integer position is exactly an
    atrous tap, so the head starts as the plain ASPP.

    Example:
        >>> head = DCLSASPPHead(in_channels=8, channels=8, dilations=(1, 2, 3), num_classes=3)
        >>> head([torch.randn(1, 8, 16, 16)]).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(self, dilations: tuple[int, ...] = (1, 6, 12, 18),
                 dcls_cfg: dict | None = None, dcls_version: str | None = None,
                 **kwargs) -> None:
        super().__init__(dilations=dilations, **kwargs)
        dcls_cfg = dict(dcls_cfg or {})
        if dcls_version is not None:
            renamed('dcls_version', "dcls_cfg=dict(version=...)", 'DCLSASPPHead')
            dcls_cfg['version'] = dcls_version
        dcls_version = dcls_cfg.setdefault('version', 'v1')
        if dcls_cfg.setdefault('kernel_count', 9) != 9:
            raise ValueError('DCLSASPPHead starts its 9 taps on the 3 x 3 atrous grid: '
                             f"kernel_count must be 9, got {dcls_cfg['kernel_count']}")
        for index, d in enumerate(dilations):
            if d == 1:
                continue
            branch = ConvModule(
                self.in_channels, self.channels, 2 * d + 1, padding=d,
                conv_cfg=dict(type='DCLS', **dcls_cfg),
                norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
            with torch.no_grad():
                rows, cols = torch.meshgrid(torch.arange(3), torch.arange(3), indexing='ij')
                p_rows, p_cols = grid_positions(branch.conv.P, dcls_version)
                p_rows.copy_((d * (rows.flatten() - 1)).float())
                p_cols.copy_((d * (cols.flatten() - 1)).float())
            self.aspp_modules[index] = branch
