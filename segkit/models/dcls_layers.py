"""DCLS in mmseg: a conv layer (``conv_cfg=dict(type='DCLS', ...)``) and an
ASPP head whose atrous branches learn their spacings.

Khalfaoui-Hassani et al., ICLR 2023, arXiv 2112.03740 (DCLS); Chen et al.,
"Rethinking Atrous Convolution", arXiv 1706.05587 (ASPP, DeepLabV3).
"""
from __future__ import annotations

import torch
from mmcv.cnn import ConvModule
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.models.decode_heads import ASPPHead
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from segkit.ops.dcls import Dcls2d, grid_positions, repulsion_loss
from segkit.utils.deprecation import renamed

__all__ = ['DCLSConv2d', 'DCLSASPPHead', 'DCLSEncoderDecoder']


@MMENGINE_MODELS.register_module('DCLS')
class DCLSConv2d(Dcls2d):
    """:class:`Dcls2d` with ``nn.Conv2d``'s argument order, for mmcv's ``build_conv_layer``.

    ``kernel_size`` is the size of the dilated kernel unless
    ``dilated_kernel_size`` is given; ``kernel_count`` must be given.

    Example:
        >>> from mmcv.cnn import build_conv_layer
        >>> conv = build_conv_layer(dict(type='DCLS', kernel_count=9), 4, 8, 7, padding=3)
        >>> conv(torch.randn(1, 4, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1,
                 bias: bool | str = True, *, kernel_count: int,
                 dilated_kernel_size: int | tuple[int, int] | None = None,
                 version: str = 'gauss') -> None:
        super().__init__(in_channels, out_channels, kernel_count, stride=stride,
                         padding=padding, dilated_kernel_size=dilated_kernel_size or kernel_size,
                         groups=groups, bias=bool(bias), version=version, dilation=dilation)


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



@MODELS.register_module()
class DCLSEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` that adds the DCLS repulsion loss to training.

    ``loss_repulsion = repulsion_weight * mean over position sets of
    repulsion_loss(P)`` keeps a kernel's elements from collapsing onto each
    other (arXiv 2112.03740). Shared positions count once.
    """

    def __init__(self, repulsion_weight: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.repulsion_weight = repulsion_weight

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        losses = super().loss(inputs, data_samples)
        if self.repulsion_weight > 0:
            sets = {id(m.P): m.P for m in self.modules() if isinstance(m, Dcls2d)}
            if sets:
                losses['loss_repulsion'] = self.repulsion_weight * torch.stack(
                    [repulsion_loss(P) for P in sets.values()]).mean()
        return losses
