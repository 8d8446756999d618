"""Where a deformable layer samples: each version's rule.

- DCN and DCNv2 (:func:`dcn_positions`): mmcv's (dy, dx) offsets per tap,
  taps row major, one sample per tap (DCN contracts the taps' columns with
  a dense kernel instead of summing them);
- DCNv3 (:func:`dcnv3_positions`): offsets (N, H_out, W_out, G*K*2) as
  (dx, dy) pairs per point, group major, and a mask (N, H_out, W_out, G*K);
  positions on the original's sampling grid, which it builds in float32
  normalised by the padded size whatever the input's dtype.
- DCNv4 (:func:`dcnv4_positions`): one packed tensor (N, H_out, W_out, P)
  holding, per group, the K (dx, dy) pairs and then the K masks, P being
  G*K*3 rounded up to a multiple of 8 (the rest is padding, never read);
  positions in the input's own arithmetic, as DCNv4's kernel computes them.

Both give positions in pixels of the unpadded input (pixel centres at
integers), (N, H_out, W_out, G, K) each, for the shared samplers.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .geometry import DeformGeometry

__all__ = ['Samples', 'dcn_positions', 'dcnv3_positions', 'dcnv4_positions', 'packed_geometry',
           'packed_sizes', 'packed_width', 'split_packed']


class Samples(NamedTuple):
    """Sample positions and masks, each (N, H_out, W_out, G, K), and the sizes."""

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
    n: int
    h: int
    w: int
    h_out: int
    w_out: int
    group: int
    group_channels: int
    points: int

    @property
    def sizes(self) -> tuple[int, ...]:
        """(N, H, W, H_out, W_out, G, C', K), as the compiled kernels take them."""
        return tuple(self[3:])


def dcnv3_positions(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                    g: DeformGeometry) -> Samples:
    """DCNv3's rule: checks the shapes and computes every sample's position.

    NOTE: the original builds the sampling grid in float32, normalised by the
    padded size, whatever the input's dtype; the float32 rounding of that grid
    moves samples by up to ~1e-7 pixels. It is reproduced here so that even
    float64 results match the original to 1e-10. The grid is built on the
    CPU and then moved: CUDA's linspace rounds some points differently (seen
    on an H200), and the result must not depend on the device. Half-precision
    offsets give positions in float32.
    """
    h_out, w_out = g.check_input(input)
    n, h, w, _ = input.shape
    k = g.points
    g.check_tensor('offset', offset, (n, h_out, w_out, g.group * k * 2))
    g.check_tensor('mask', mask, (n, h_out, w_out, g.group * k))
    device, f32 = torch.device('cpu'), torch.float32
    hp, wp = h + 2 * g.pad_h, w + 2 * g.pad_w
    half_h, half_w = (g.dilation_h * (g.kernel_h - 1)) // 2, (g.dilation_w * (g.kernel_w - 1)) // 2
    ref_x = torch.linspace(half_w + 0.5, half_w + 0.5 + (w_out - 1) * g.stride_w, w_out,
                           dtype=f32, device=device) / wp
    ref_y = torch.linspace(half_h + 0.5, half_h + 0.5 + (h_out - 1) * g.stride_h, h_out,
                           dtype=f32, device=device) / hp
    grid_x = torch.linspace(-half_w, -half_w + (g.kernel_w - 1) * g.dilation_w, g.kernel_w,
                            dtype=f32, device=device) / wp
    grid_y = torch.linspace(-half_h, -half_h + (g.kernel_h - 1) * g.dilation_h, g.kernel_h,
                            dtype=f32, device=device) / hp
    i, j = (torch.tensor(t, device=device) for t in zip(*g.kernel_points()))
    base_x = (ref_x.view(1, 1, w_out, 1, 1) + grid_x[i] * g.offset_scale).to(offset.device)
    base_y = (ref_y.view(1, h_out, 1, 1, 1) + grid_y[j] * g.offset_scale).to(offset.device)
    off = offset.view(n, h_out, w_out, g.group, k, 2)
    dtype = torch.promote_types(offset.dtype, f32)
    loc_x = base_x.to(dtype) + off[..., 0].to(dtype) * g.offset_scale / wp
    loc_y = base_y.to(dtype) + off[..., 1].to(dtype) * g.offset_scale / hp
    # normalised [0, 1] over the padded map -> pixels of the unpadded input
    return Samples(loc_x * wp - 0.5 - g.pad_w, loc_y * hp - 0.5 - g.pad_h,
                   mask.view(n, h_out, w_out, g.group, k), n, h, w, h_out, w_out, g.group,
                   g.group_channels, k)


def packed_width(g: DeformGeometry) -> int:
    """DCNv4's packed width P: G*K*3 rounded up to a multiple of 8."""
    return int(math.ceil(g.group * g.points * 3 / 8) * 8)


def split_packed(offset_mask: torch.Tensor, g: DeformGeometry) -> tuple[torch.Tensor, ...]:
    """Views of DCNv4's packed tensor: (dx, dy, mask), each (N, H_out, W_out, G, K)."""
    n, h_out, w_out, _ = offset_mask.shape
    k = g.points
    rows = offset_mask[..., :g.group * k * 3].view(n, h_out, w_out, g.group, 3 * k)
    pairs = rows[..., :2 * k].unflatten(-1, (k, 2))
    return pairs[..., 0], pairs[..., 1], rows[..., 2 * k:]


def packed_geometry(g: DeformGeometry) -> tuple[list[int], float]:
    """The integer geometry and the offset scale as the packed kernels take them."""
    scale = g.offset_scale_f32  # NOTE: DCNv4's kernel receives it as a C++ float
    return [packed_width(g), g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.pad_h, g.pad_w,
            g.dilation_h, g.dilation_w, int(g.remove_center)], scale


def packed_sizes(input: torch.Tensor, offset_mask: torch.Tensor,
                 g: DeformGeometry) -> list[int]:
    """(N, H, W, H_out, W_out, G, C', K) after checking the shapes."""
    h_out, w_out = g.check_input(input)
    n, h, w, _ = input.shape
    g.check_tensor('offset_mask', offset_mask, (n, h_out, w_out, packed_width(g)))
    return [n, h, w, h_out, w_out, g.group, g.group_channels, g.points]


def dcnv4_positions(input: torch.Tensor, offset_mask: torch.Tensor,
                    g: DeformGeometry) -> Samples:
    """DCNv4's rule: checks the shapes and computes every sample's position,
    ``x = w*stride - pad + half*(1 - s) + (i*dilation + dx)*s`` with
    ``half = dilation*(k-1)//2`` and ``s = offset_scale``, in the input's
    arithmetic (float32 for half precision, as the kernel's opmath type)."""
    h_out, w_out = g.check_input(input)
    n = input.shape[0]
    g.check_tensor('offset_mask', offset_mask, (n, h_out, w_out, packed_width(g)))
    dtype = torch.promote_types(offset_mask.dtype, torch.float32)
    device = offset_mask.device
    s = g.offset_scale_f32  # NOTE: the kernel receives it as a C++ float
    half_h, half_w = (g.dilation_h * (g.kernel_h - 1)) // 2, (g.dilation_w * (g.kernel_w - 1)) // 2
    i, j = (torch.tensor(t, dtype=dtype, device=device) for t in zip(*g.kernel_points()))
    wo = torch.arange(w_out, dtype=dtype, device=device) * g.stride_w + (half_w - g.pad_w)
    ho = torch.arange(h_out, dtype=dtype, device=device) * g.stride_h + (half_h - g.pad_h)
    dx, dy, mask = split_packed(offset_mask, g)
    # the kernel's order: (centre - half*s) + (i*dilation + offset)*s
    x = (wo - half_w * s).view(1, 1, w_out, 1, 1) + (i * g.dilation_w + dx.to(dtype)) * s
    y = (ho - half_h * s).view(1, h_out, 1, 1, 1) + (j * g.dilation_h + dy.to(dtype)) * s
    return Samples(x, y, mask, n, *input.shape[1:3], h_out, w_out, g.group, g.group_channels,
                   g.points)


def dcn_positions(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                  g: DeformGeometry) -> Samples:
    """DCN's and DCNv2's rule, one sample per kernel tap (no sum over taps).

    ``offset`` (N, H_out, W_out, G*K*2) holds per deformable group ``(dy,
    dx)`` per tap, taps row major (``k = i*kernel_w + j``: mmcv's and
    torchvision's layout, channels last); ``mask`` (N, H_out, W_out, G*K)
    (ones for DCN). Tap ``k`` of output (h, w) samples at
    ``y = h*stride_h - pad_h + i*dilation_h + dy``, ``x = w*stride_w -
    pad_w + j*dilation_w + dx``. The taps are laid out as output pixels of
    a map K times wider (``w*K + k``) with one point each, so every sampler
    returns DCN's (N, H_out, W_out*K, G*C') columns, which the layer then
    contracts with its kernel.
    """
    h_out, w_out = g.check_input(input)
    n, h, w, _ = input.shape
    k = g.kernel_h * g.kernel_w
    g.check_tensor('offset', offset, (n, h_out, w_out, g.group * k * 2))
    g.check_tensor('mask', mask, (n, h_out, w_out, g.group * k))
    dtype = torch.promote_types(offset.dtype, torch.float32)
    device = offset.device
    taps_y = (torch.arange(g.kernel_h, dtype=dtype, device=device) * g.dilation_h
              ).repeat_interleave(g.kernel_w)
    taps_x = (torch.arange(g.kernel_w, dtype=dtype, device=device) * g.dilation_w
              ).repeat(g.kernel_h)
    off = offset.reshape(n, h_out, w_out, g.group, k, 2).to(dtype)
    ho = torch.arange(h_out, dtype=dtype, device=device) * g.stride_h - g.pad_h
    wo = torch.arange(w_out, dtype=dtype, device=device) * g.stride_w - g.pad_w
    y = ho.view(1, h_out, 1, 1, 1) + taps_y + off[..., 0]
    x = wo.view(1, 1, w_out, 1, 1) + taps_x + off[..., 1]
    mask = mask.reshape(n, h_out, w_out, g.group, k)

    def columns(t: torch.Tensor) -> torch.Tensor:  # (N, Ho, Wo, G, K) -> (N, Ho, Wo*K, G, 1)
        return t.transpose(3, 4).reshape(n, h_out, w_out * k, g.group, 1)

    return Samples(columns(x), columns(y), columns(mask), n, h, w, h_out, w_out * k, g.group,
                   g.group_channels, 1)
