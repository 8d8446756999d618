"""Where DCNv3 samples: the sampling grid of one layer and the sample positions.

Maps are channels-last, (N, H, W, C). For output pixel (h, w), group g and
kernel point p = i * kernel_h + j (i walks x, the outer loop), the sample sits
at (pixel centres at integers, unpadded input):

    x = (dil_w*(k_w-1))//2 - pad_w + w*stride_w + (i*dil_w - (dil_w*(k_w-1))//2 + dx) * offset_scale
    y = (dil_h*(k_h-1))//2 - pad_h + h*stride_h + (j*dil_h - (dil_h*(k_h-1))//2 + dy) * offset_scale

with offsets laid out as (dx, dy) pairs per point, group major: the
original's order and layout, so its weights load.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

__all__ = ['DCNv3Geometry', 'Samples', 'sampling_points']


@dataclass(frozen=True)
class DCNv3Geometry:
    """The sampling grid of a DCNv3 layer (the original's scalar arguments,
    in its order).

    Example:
        >>> DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, group=4, group_channels=16).output_size(56, 56)
        (56, 56)
    """

    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dilation_h: int
    dilation_w: int
    group: int
    group_channels: int
    offset_scale: float = 1.0

    @property
    def points(self) -> int:
        """Sampling points per group (K)."""
        return self.kernel_h * self.kernel_w

    @property
    def channels(self) -> int:
        return self.group * self.group_channels

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(H_out, W_out) for an (H, W) input, as for a convolution."""
        h_out = (h + 2 * self.pad_h - (self.dilation_h * (self.kernel_h - 1) + 1)) // self.stride_h
        w_out = (w + 2 * self.pad_w - (self.dilation_w * (self.kernel_w - 1) + 1)) // self.stride_w
        return h_out + 1, w_out + 1

    def smallest_input(self) -> tuple[int, int]:
        """An input size that gives at least a 2 x 2 output (for probes)."""
        return (self.dilation_h * (self.kernel_h - 1) + 1 + self.stride_h,
                self.dilation_w * (self.kernel_w - 1) + 1 + self.stride_w)

    def check(self, input: torch.Tensor, offset: torch.Tensor,
              mask: torch.Tensor) -> tuple[int, int]:
        """Raises ValueError unless the shapes fit; returns (H_out, W_out)."""
        if input.dim() != 4:
            raise ValueError(f'input must be (N, H, W, C), got {tuple(input.shape)}')
        n, h, w, c = input.shape
        if c != self.channels:
            raise ValueError(f'input has {c} channels, expected group * group_channels = '
                             f'{self.group} * {self.group_channels}')
        h_out, w_out = self.output_size(h, w)
        k = self.points
        if tuple(offset.shape) != (n, h_out, w_out, self.group * k * 2):
            raise ValueError(f'offset must be {(n, h_out, w_out, self.group * k * 2)}, '
                             f'got {tuple(offset.shape)}')
        if tuple(mask.shape) != (n, h_out, w_out, self.group * k):
            raise ValueError(f'mask must be {(n, h_out, w_out, self.group * k)}, '
                             f'got {tuple(mask.shape)}')
        return h_out, w_out


class Samples(NamedTuple):
    """Sample positions, each (N, H_out, W_out, G, K), in input pixels, and the sizes."""

    x: torch.Tensor
    y: torch.Tensor
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
        return tuple(self[2:])


def sampling_points(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                    g: DCNv3Geometry) -> Samples:
    """Checks the shapes and computes every sample's position.

    NOTE: the original builds the sampling grid in float32, normalised by the
    padded size, whatever the input's dtype; the float32 rounding of that grid
    moves samples by up to ~1e-7 pixels. It is reproduced here so that even
    float64 results match the original to 1e-10. Half-precision offsets give
    positions in float32.
    """
    h_out, w_out = g.check(input, offset, mask)
    n, h, w, _ = input.shape
    k = g.points
    device, f32 = offset.device, torch.float32
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
    # point p = i * kernel_h + j: the x index i is the outer loop
    grid_x = grid_x.repeat_interleave(g.kernel_h)
    grid_y = grid_y.repeat(g.kernel_w)
    base_x = ref_x.view(1, 1, w_out, 1, 1) + grid_x * g.offset_scale
    base_y = ref_y.view(1, h_out, 1, 1, 1) + grid_y * g.offset_scale
    off = offset.view(n, h_out, w_out, g.group, k, 2)
    dtype = torch.promote_types(offset.dtype, f32)
    loc_x = base_x.to(dtype) + off[..., 0].to(dtype) * g.offset_scale / wp
    loc_y = base_y.to(dtype) + off[..., 1].to(dtype) * g.offset_scale / hp
    # normalised [0, 1] over the padded map -> pixels of the unpadded input
    return Samples(loc_x * wp - 0.5 - g.pad_w, loc_y * hp - 0.5 - g.pad_h,
                   n, h, w, h_out, w_out, g.group, g.group_channels, k)
