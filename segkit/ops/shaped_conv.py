"""Designed kernel shapes: convolutions whose kernel covers a chosen footprint.

Sun, Ozay, Okatani, "Design of Kernels in Convolutional Neural Networks for
Image Classification", ECCV 2016, arXiv 1511.09231: quasi-hexagonal kernels,
fewer weights, reported more accurate per parameter and more robust to
partial occlusion.

A quasi-hexagonal 3x3 kernel keeps 7 of its 9 taps by dropping two adjacent
corners; the orientation is named after the side that loses them (row 0 at
the top): ``'qh-right'`` drops (0, 2) and (2, 2), ``'qh-left'`` (0, 0) and
(2, 0), ``'qh-up'`` (0, 0) and (0, 2), ``'qh-down'`` (2, 0) and (2, 2).

Larger odd kernels (k = 2r + 1) get the same construction: the hexagonal
lattice whose rows are offset by half a tap, cut to the 1 + 3r(r + 1) points
within hexagonal distance r of the centre (row ``dy`` holds ``k - |dy|``
points, centred), and the half-offset rows moved half a tap sideways onto the
square grid: towards the left for ``'qh-right'`` (their right ends lose a
tap), towards the right for ``'qh-left'``. ``'qh-up'`` and ``'qh-down'`` are
the transposes of ``'qh-left'`` and ``'qh-right'`` (columns offset, moved
down and up). For k = 3 this is exactly the paper's 7 of 9; for 5x5 it keeps
19 of 25 taps, for 7x7 37 of 49.

``'qh-mixed'`` splits the output channels into four quarters, one
orientation each (right, down, left, up), as the authors also deploy them.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn

from segkit.utils.deprecation import renamed
from segkit.utils.pair import pair

from .constructed_kernel import ConstructedKernelConv

__all__ = ['ORIENTATIONS', 'SHAPES', 'ShapedConv2d', 'kernel_footprint', 'square_to_shaped']

ORIENTATIONS = ('qh-right', 'qh-down', 'qh-left', 'qh-up')  # the paper's layer-wise cycle
SHAPES = ORIENTATIONS + ('qh-mixed', 'square')
Shape = str | torch.Tensor | Sequence[Sequence[bool]]


def _hexagon(k: int, towards_left: bool) -> torch.Tensor:
    """Rows offset by half a tap, moved left (or right) onto the grid."""
    if k < 1 or k % 2 == 0:
        raise ValueError(f'hexagonal footprints need an odd kernel size, got {k}')
    r = k // 2
    footprint = torch.zeros(k, k, dtype=torch.bool)
    for dy in range(-r, r + 1):
        n = k - abs(dy)  # points on this row of the hexagon
        first = -(n // 2) if n % 2 else (-(n // 2) if towards_left else -(n // 2) + 1)
        footprint[dy + r, first + r:first + r + n] = True
    return footprint


def kernel_footprint(shape: str, kernel_size: int | tuple[int, int]) -> torch.Tensor:
    """The (k, k) boolean footprint of a named shape, row 0 at the top.

    Args:
        shape: ``'qh-right'``, ``'qh-left'``, ``'qh-up'``, ``'qh-down'`` or
            ``'square'`` (``'qh-mixed'`` has one footprint per output
            channel: see :class:`ShapedConv2d`).
        kernel_size: An odd size (square) for the hexagonal shapes.

    Example:
        >>> kernel_footprint('qh-right', 3).int()
        tensor([[1, 1, 0],
                [1, 1, 1],
                [1, 1, 0]], dtype=torch.int32)
    """
    kh, kw = pair(kernel_size)
    if shape == 'square':
        return torch.ones(kh, kw, dtype=torch.bool)
    if shape not in ORIENTATIONS:
        raise ValueError(f'shape must be one of {SHAPES} or a boolean footprint, got {shape!r}')
    if kh != kw:
        raise ValueError(f'hexagonal footprints are square, got kernel_size {(kh, kw)}')
    if shape in ('qh-right', 'qh-left'):
        return _hexagon(kh, towards_left=shape == 'qh-right')
    return _hexagon(kh, towards_left=shape == 'qh-down').T.contiguous()


def _footprints(shape: Shape, kernel_size: tuple[int, int], out_channels: int) -> torch.Tensor:
    """(out_channels, kh, kw) footprints, each with the same number of taps."""
    if isinstance(shape, str) and shape == 'qh-mixed':
        if out_channels % 4:
            raise ValueError(f"'qh-mixed' puts one orientation on each quarter of the outputs: "
                             f'out_channels ({out_channels}) must be divisible by 4')
        quarter = out_channels // 4
        return torch.stack([kernel_footprint(o, kernel_size) for o in ORIENTATIONS
                            for _ in range(quarter)])
    if isinstance(shape, str):
        footprint = kernel_footprint(shape, kernel_size)
    else:
        footprint = torch.as_tensor(shape, dtype=torch.bool)
        if tuple(footprint.shape) != kernel_size:
            raise ValueError(f'footprint shape {tuple(footprint.shape)} does not match '
                             f'kernel_size {kernel_size}')
        if not footprint.any():
            raise ValueError('the footprint keeps no tap')
    return footprint.expand(out_channels, *kernel_size)


class ShapedConv2d(ConstructedKernelConv, nn.Conv2d):
    """A convolution whose kernel covers only the footprint ``shape`` names.

    ``weight`` holds only the kept taps, (out, in/groups, taps), so parameter
    counts and state dicts show the saving; the forward scatters them into
    the k x k kernel and runs one ``conv2d`` (the kernel is cached in eval
    mode without gradients), so it costs what a dense conv of that size
    costs. It is an ``nn.Conv2d``: ``dilation`` spaces the footprint, and
    equivalent stride (``densify``) and export treat it as a convolution.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation,
        groups, bias, padding_mode: As for ``nn.Conv2d``.
        shape: A name (``'qh-right'``, ``'qh-left'``, ``'qh-up'``,
            ``'qh-down'``, ``'qh-mixed'``, ``'square'``) or a boolean
            (kh, kw) footprint.

    Example:
        >>> conv = ShapedConv2d(16, 32, 3, 'qh-right', padding=1)
        >>> conv.weight.shape, conv(torch.randn(1, 16, 20, 20)).shape
        (torch.Size([32, 16, 7]), torch.Size([1, 32, 20, 20]))
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int], shape: Shape = 'qh-right',
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = 'zeros') -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)
        footprints = _footprints(shape, self.kernel_size, out_channels)
        counts = footprints.flatten(1).sum(1)
        if (counts != counts[0]).any():
            raise ValueError('every output channel must keep the same number of taps')
        self.shape = shape if isinstance(shape, str) else 'custom'
        # index of each kept tap in the flattened k x k kernel, per output channel
        taps = footprints.flatten(1).nonzero()[:, 1].view(out_channels, -1)
        self.register_buffer('tap_index', taps, persistent=False)
        self.weight = nn.Parameter(self.weight.new_empty(
            out_channels, in_channels // groups, taps.shape[1]))
        self.reset_parameters()

    @property
    def footprint(self) -> torch.Tensor:
        """(out_channels, kh, kw) boolean footprint of each output channel."""
        kh, kw = self.kernel_size
        dense = torch.zeros(self.out_channels, kh * kw, dtype=torch.bool,
                            device=self.tap_index.device)
        return dense.scatter_(1, self.tap_index, True).view(-1, kh, kw)

    def reset_parameters(self) -> None:
        """As ``nn.Conv2d``, with the fan-in of the kept taps."""
        if not hasattr(self, 'tap_index'):
            return  # nn.Conv2d.__init__ calls this before the taps exist
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # fan-in: in/groups * taps
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight.shape[1] * self.weight.shape[2])
            nn.init.uniform_(self.bias, -bound, bound)

    def construct_kernel(self) -> torch.Tensor:
        """The (out, in/groups, kh, kw) kernel, zero outside the footprint."""
        out, cin, taps = self.weight.shape
        kh, kw = self.kernel_size
        index = self.tap_index.unsqueeze(1).expand(out, cin, taps)
        return self.weight.new_zeros(out, cin, kh * kw).scatter(2, index, self.weight).view(
            out, cin, kh, kw)

    def kernel_parameters(self) -> list[torch.Tensor]:
        return [self.weight]

    def dense_weight(self) -> torch.Tensor:
        """Deprecated name of :meth:`construct_kernel`."""
        renamed('ShapedConv2d.dense_weight()', 'construct_kernel()', 'ShapedConv2d')
        return self.construct_kernel()

    def extra_repr(self) -> str:
        return f'{super().extra_repr()}, shape={self.shape}, taps={self.weight.shape[2]}'


def square_to_shaped(state_dict: dict, model: nn.Module) -> tuple[dict, float]:
    """Fits a square checkpoint to ``model``'s shaped convs: each full
    (out, in/groups, kh, kw) weight of a :class:`ShapedConv2d` keeps only its
    footprint's taps. Other tensors, and weights already shaped, pass through.

    Returns:
        The converted state dict and the fraction of the converted weights'
        squared norm (their energy) that the dropped taps held.
    """
    out = dict(state_dict)
    dropped = total = 0.0
    for name, module in model.named_modules():
        key = f'{name}.weight' if name else 'weight'
        if not isinstance(module, ShapedConv2d) or key not in out:
            continue
        weight = out[key]
        kh, kw = module.kernel_size
        if weight.dim() != 4 or tuple(weight.shape[2:]) != (kh, kw):
            continue
        flat = weight.flatten(2)
        index = module.tap_index.to(flat.device).unsqueeze(1).expand(
            flat.shape[0], flat.shape[1], -1)
        kept = flat.gather(2, index)
        total += flat.double().square().sum().item()
        dropped += flat.double().square().sum().item() - kept.double().square().sum().item()
        out[key] = kept
    return out, (dropped / total if total else 0.0)

