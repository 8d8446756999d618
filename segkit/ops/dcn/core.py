"""The DCN / DCNv2 core: per-tap columns from the shared sampling core, then
the dense contraction with the kernel.

Dai et al., "Deformable Convolutional Networks", ICCV 2017, arXiv 1703.06211
(DCN); Zhu et al., "Deformable ConvNets v2: More Deformable, Better Results",
CVPR 2019, arXiv 1811.11168 (DCNv2).

For output position ``p0``, kernel tap ``k`` at ``p_k`` (row major, ``k =
i*kw + j``, spaced by the dilation) and input channel ``c`` of deformable
group ``g = c // (C / deform_groups)``::

    y[o, p0] = sum_{c, k} w[o, c, k] * m_gk(p0) * x_c(p0 * stride - padding + p_k + dp_gk(p0))

(+ bias), where ``x_c(.)`` is bilinear interpolation with zeros outside the
map and ``m = 1`` for DCN; ``groups`` split the channels as in ``nn.Conv2d``.
mmcv's and torchvision's layout: ``offset`` (N, deform_groups*2*K, H_out,
W_out) holds channel ``g*2K + 2k`` = dy and ``g*2K + 2k + 1`` = dx; ``mask``
(N, deform_groups*K, H_out, W_out) channel ``g*K + k``.

DCNv3 and DCNv4 sum each group's samples over the kernel points; DCN needs
each tap's samples (the im2col columns) for its dense (out, C*K) kernel. Its
position rule (:func:`..deform_sampling.dcn_positions`) lays the taps out as
output pixels with one point each, so the shared samplers (reference, gather,
C++, Triton) and their dispatch, dtype rules and custom ops serve it
unchanged; the contraction is one matrix product.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..deform_sampling import DeformGeometry, Impl, Implementations, dcn_positions, run

__all__ = ['DCN', 'dcn_columns', 'deform_conv_core']


# the implementations 'auto' chooses from (tests replace some of them)
DCN = Implementations.of_rule('DCN', dcn_positions)


def dcn_columns(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                geometry: DeformGeometry, impl: Impl = 'auto') -> torch.Tensor:
    """DCN's im2col columns, channels last.

    Args:
        input: (N, H, W, C), C = deform_groups * C'.
        offset: (N, H_out, W_out, deform_groups*K*2), (dy, dx) per tap.
        mask: (N, H_out, W_out, deform_groups*K) (ones for DCN).
        geometry: The kernel's grid; ``group`` is the deformable groups.
        impl: ``'auto'``, ``'cpu'``, ``'triton'``, ``'gather'`` or
            ``'reference'`` (:mod:`segkit.ops.deform_sampling.dispatch`).

    Returns:
        (N, H_out, W_out*K, C): tap ``k`` of output (h, w) at ``[:, h, w*K + k]``.
    """
    return run(DCN, (input, offset, mask), geometry, impl)


def deform_conv_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
                     weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, int],
                     padding: tuple[int, int], dilation: tuple[int, int],
                     impl: Impl = 'auto') -> torch.Tensor:
    """DCN (``mask`` None) or DCNv2 on NCHW maps: the module docstring's
    formula; shapes checked by the caller.

    Returns:
        (N, out_channels, H_out, W_out) in the input's dtype.
    """
    n, c, h, w = input.shape
    out_channels, group_channels, kh, kw = weight.shape
    groups, k = c // group_channels, kh * kw
    h_out, w_out = offset.shape[-2:]
    deform_groups = offset.shape[1] // (2 * k)
    geometry = DeformGeometry(kh, kw, *stride, *padding, *dilation, deform_groups,
                              c // deform_groups)
    if mask is None:  # DCN: every tap weighs 1
        mask = offset.new_ones(n, deform_groups * k, h_out, w_out)
    columns = dcn_columns(input.permute(0, 2, 3, 1).contiguous(), offset.permute(0, 2, 3, 1),
                          mask.permute(0, 2, 3, 1), geometry, impl)
    pixels = h_out * w_out
    columns = columns.reshape(n, pixels, k * c)  # each pixel's taps, then channels
    if groups == 1:
        kernel = weight.permute(0, 2, 3, 1).reshape(out_channels, k * c)
        out = F.linear(columns, kernel.to(columns.dtype), bias)  # (N, H_out*W_out, out)
        return out.transpose(1, 2).reshape(n, out_channels, h_out, w_out)
    # NOTE: grouped, as a 1x1 conv1d on (C*K, H_out*W_out) columns: no copy
    # of the kernel per image, and FLOP counters count it in full
    columns = columns.view(n, pixels, k, groups, group_channels).permute(0, 3, 4, 2, 1)
    kernel = weight.reshape(out_channels, group_channels * k, 1)
    out = F.conv1d(columns.reshape(n, c * k, pixels), kernel.to(columns.dtype), bias,
                   groups=groups)
    return out.view(n, out_channels, h_out, w_out)
