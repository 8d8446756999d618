"""The sampling grid of a deformable layer (DCNv3, DCNv4).

Maps are channels-last, (N, H, W, C), with C = group * group_channels. Each
output pixel (h, w) and group g has K sampling points, p = i * kernel_h + j
with the x index i the OUTER loop (the originals' order), the centre point
left out when ``remove_center``; each point sits at its grid position plus a
learned offset (dx, dy), where and in what arithmetic is the version's rule
(:mod:`.positions`).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import torch

__all__ = ['DeformGeometry']


@dataclass(frozen=True)
class DeformGeometry:
    """The sampling grid of a deformable layer (the originals' scalar
    arguments, in their order).

    Example:
        >>> DeformGeometry(3, 3, 1, 1, 1, 1, 1, 1, group=4, group_channels=16).output_size(56, 56)
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
    remove_center: bool = False

    def __post_init__(self) -> None:
        if self.remove_center and (self.kernel_h % 2 == 0 or self.kernel_w % 2 == 0):
            raise ValueError('remove_center needs an odd kernel, got '
                             f'{self.kernel_h} x {self.kernel_w}')

    @property
    def points(self) -> int:
        """Sampling points per group (K)."""
        return self.kernel_h * self.kernel_w - int(self.remove_center)

    @property
    def offset_scale_f32(self) -> float:
        """``offset_scale`` rounded to float32, as DCNv4's kernel receives it
        (a C++ float), computed without tensors (no graph break under
        ``torch.compile``)."""
        return struct.unpack('f', struct.pack('f', self.offset_scale))[0]

    @property
    def channels(self) -> int:
        return self.group * self.group_channels

    def kernel_points(self) -> list[tuple[int, int]]:
        """(i, j) = (x index, y index) of each point p, in order."""
        centre = (self.kernel_w // 2, self.kernel_h // 2)
        return [(i, j) for i in range(self.kernel_w) for j in range(self.kernel_h)
                if not (self.remove_center and (i, j) == centre)]

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """(H_out, W_out) for an (H, W) input, as for a convolution."""
        h_out = (h + 2 * self.pad_h - (self.dilation_h * (self.kernel_h - 1) + 1)) // self.stride_h
        w_out = (w + 2 * self.pad_w - (self.dilation_w * (self.kernel_w - 1) + 1)) // self.stride_w
        return h_out + 1, w_out + 1

    def smallest_input(self) -> tuple[int, int]:
        """An input size that gives at least a 2 x 2 output (for probes)."""
        return (self.dilation_h * (self.kernel_h - 1) + 1 + self.stride_h,
                self.dilation_w * (self.kernel_w - 1) + 1 + self.stride_w)

    def probe(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Zero tensors like ``tensors`` (the input, then tensors at output
        resolution, channels last) on the smallest input with a 2 x 2 output."""
        h, w = self.smallest_input()
        h_out, w_out = self.output_size(h, w)
        return (tensors[0].new_zeros(1, h, w, tensors[0].shape[-1]),
                *(t.new_zeros(1, h_out, w_out, t.shape[-1]) for t in tensors[1:]))

    def check_input(self, input: torch.Tensor) -> tuple[int, int]:
        """Raises ValueError unless ``input`` is (N, H, W, C) with this
        geometry's channels; returns (H_out, W_out)."""
        if input.dim() != 4:
            raise ValueError(f'input must be (N, H, W, C), got {tuple(input.shape)}')
        n, h, w, c = input.shape
        if c != self.channels:
            raise ValueError(f'input has {c} channels, expected group * group_channels = '
                             f'{self.group} * {self.group_channels}')
        h_out, w_out = self.output_size(h, w)
        if h_out < 1 or w_out < 1:
            raise ValueError(f'a {h} x {w} input is smaller than the sampling window')
        return h_out, w_out

    def check_tensor(self, name: str, t: torch.Tensor, shape: tuple[int, ...]) -> None:
        if tuple(t.shape) != shape:
            raise ValueError(f'{name} must be {shape}, got {tuple(t.shape)}')
