"""DCLS: dilated convolution with learnable spacings.

Khalfaoui-Hassani, Pellegrini, Masquelier, "Dilated convolution with learnable
spacings", ICLR 2023, arXiv 2112.03740; Gaussian interpolation:
"Dilated Convolution with Learnable Spacings: beyond bilinear interpolation",
arXiv 2306.00817.

Each of the ``kernel_count`` elements of a kernel has a weight and a
learnable position ``P`` inside a dilated kernel of size
``dilated_kernel_size``; the element is spread onto the integer grid by an
interpolation (bilinear or Gaussian), and the resulting dense kernel is
applied by a plain ``conv2d``.

Conventions are those of the reference ``dcls`` package 0.1.1, so its state
dicts load unchanged for every version. Positions are centred (grid
coordinate = P + size // 2 on each axis), and which axis ``P[0]`` holds
depends on the version, as in the reference:

- ``'gauss'`` and ``'v1'``: ``P[0]`` is the x (column) position, ``P[1]``
  the y (row) position. The reference offsets and clamps ``P[0]`` with the
  *height* and ``P[1]`` with the width, which only matters for non-square
  kernels; here each axis uses its own size.
- ``'v0'``: ``P[0]`` is the y (row) position and ``P[1]`` the x (column)
  position. This is the version the original ConvNeXt-dcls uses, so its
  released checkpoints hold row-first positions.

Every interpolation used is separable (a product of an x factor and a y
factor), so the dense kernel is built as one batched product
``sum_k w_k * gy_k[r] * gx_k[c]`` over small (…, K, size) factors instead of
a (rows, cols, 2, out, in, K) grid.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn as nn

from segkit.utils.deprecation import moved_names
from segkit.utils.pair import pair

from .constructed_kernel import ConstructedKernelConv
from .equivalent_stride import register_dense_rule

__all__ = ['Dcls2d', 'grid_positions', 'interpolate_kernel', 'repulsion_loss']

Version = Literal['gauss', 'v1', 'v0']


def grid_positions(P: torch.Tensor, version: Version) -> tuple[torch.Tensor, torch.Tensor]:
    """The (row, column) centred positions held by ``P`` (2, ...) for ``version``."""
    return (P[0], P[1]) if version == 'v0' else (P[1], P[0])


def _floor_bilinear(p: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Bilinear weights of position ``p`` on the grid ``idx``, written as the
    reference's ``v0``: corners at floor(p) and floor(p) + 1, weights from the
    fractional part.

    The values equal ``relu(1 - |idx - p|)``; the gradient differs at integer
    positions, where this form gives the one-sided slope (as the reference)
    instead of the zero slope of ``|.|`` at 0, so a position clamped to the
    kernel's edge can move back in.
    """
    low = p.floor().detach()
    frac = p - low
    return (1 - frac) * (idx == low) + frac * (idx == low + 1)


def interpolate_kernel(weight: torch.Tensor, P: torch.Tensor, SIG: torch.Tensor | None,
                       dilated_kernel_size: tuple[int, int], version: Version,
                       idx_h: torch.Tensor | None = None,
                       idx_w: torch.Tensor | None = None) -> torch.Tensor:
    """Builds the dense (out, in/groups, size_h, size_w) kernel of a DCLS layer:
    each element's weight interpolated onto the grid at its position.

    Args:
        weight: (out, in/groups, K) element weights.
        P: (2, out, in/groups, K) centred positions: (x, y) for ``'gauss'``
            and ``'v1'``, (y, x) for ``'v0'`` (see the module docstring).
        SIG: (2, out, in/groups, K) Gaussian widths (sigma = |SIG| + 0.27), or
            None for the bilinear versions.
        dilated_kernel_size: (size_h, size_w).
        version: ``'gauss'``, ``'v1'`` (bilinear, normalised) or ``'v0'``
            (bilinear, not normalised).
        idx_h, idx_w: ``arange(size_h)`` and ``arange(size_w)`` (buffers).
    """
    size_h, size_w = dilated_kernel_size
    if version not in ('gauss', 'v1', 'v0'):
        raise ValueError(f"version must be 'gauss', 'v1' or 'v0', got {version!r}")
    idx_h = torch.arange(size_h, device=weight.device) if idx_h is None else idx_h
    idx_w = torch.arange(size_w, device=weight.device) if idx_w is None else idx_w
    idx_h, idx_w = idx_h.to(weight.dtype), idx_w.to(weight.dtype)
    rows, cols = grid_positions(P, version)
    px = (cols + size_w // 2).unsqueeze(-1)  # (out, in, K, 1)
    py = (rows + size_h // 2).unsqueeze(-1)
    if version == 'v0':
        gx, gy = _floor_bilinear(px, idx_w), _floor_bilinear(py, idx_h)
    else:
        dx, dy = idx_w - px, idx_h - py  # (out, in, K, size)
        if version == 'v1':
            gx, gy = (1 - dx.abs()).relu(), (1 - dy.abs()).relu()
        elif SIG is None:
            raise ValueError("version 'gauss' needs SIG")
        else:
            gx = torch.exp(-0.5 * (dx / (SIG[0].abs() + 0.27).unsqueeze(-1)) ** 2)
            gy = torch.exp(-0.5 * (dy / (SIG[1].abs() + 0.27).unsqueeze(-1)) ** 2)
    scale = weight
    if version != 'v0':
        # NOTE: normalised over the whole grid; separable, so the grid sum is
        # the product of the two 1D sums (+1e-7 as in the reference)
        scale = weight / (gx.sum(-1) * gy.sum(-1) + 1e-7)
    # in the weights' dtype even under autocast (its einsum would round the
    # interpolation weights to half precision); the convolution casts after
    with torch.autocast(weight.device.type, enabled=False):
        return torch.einsum('oikr,oikc->oirc', gy * scale.unsqueeze(-1), gx)


class Dcls2d(ConstructedKernelConv):
    """2D convolution whose kernel elements have learnable positions.

    The constructor is the reference's (``DCLS.construct.modules.Dcls2d`` of
    the ``dcls`` package, in its order), so code written for it runs
    unchanged; ``dilation`` is segkit's addition (equivalent stride).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_count: Elements per kernel (K).
        stride, padding: As for ``nn.Conv2d``.
        dilated_kernel_size: Size (h, w) of the grid the elements live on.
        groups, bias, padding_mode: As for ``nn.Conv2d``.
        version: ``'gauss'`` (default, as the reference; Gaussian
            interpolation, normalised over the grid), ``'v1'`` (bilinear,
            normalised) or ``'v0'`` (bilinear, not normalised; taps falling
            outside the grid are dropped). ``P[0]`` is the column position
            for ``'gauss'`` and ``'v1'``, the row position for ``'v0'``, as
            in the reference.
        dilation: Spaces the dense kernel's taps (as ``nn.Conv2d``'s; 1 in
            the reference).

    Example:
        >>> m = Dcls2d(8, 8, kernel_count=5, padding=3, dilated_kernel_size=7, groups=8)
        >>> m(torch.randn(2, 8, 20, 20)).shape
        torch.Size([2, 8, 20, 20])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_count: int,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilated_kernel_size: int | tuple[int, int] = 1, groups: int = 1,
                 bias: bool = True, padding_mode: str = 'zeros', version: Version = 'gauss',
                 dilation: int | tuple[int, int] = 1) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'in_channels ({in_channels}) and out_channels ({out_channels}) '
                             f'must be divisible by groups ({groups})')
        if version not in ('gauss', 'v1', 'v0'):
            raise ValueError(f"version must be 'gauss', 'v1' or 'v0', got {version!r}")
        if kernel_count < 1:
            raise ValueError(f'kernel_count must be >= 1, got {kernel_count}')
        if kernel_count > 1 and pair(dilated_kernel_size) == (1, 1):
            # NOTE: before segkit 0.2 the fourth positional argument was the
            # kernel size; in the reference's order it is the stride
            raise ValueError(f'{kernel_count} elements on a 1 x 1 grid: give dilated_kernel_size= '
                             '(arguments are in the dcls package\'s order: in_channels, '
                             'out_channels, kernel_count, stride, padding, dilated_kernel_size)')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_count, self.version, self.groups = kernel_count, version, groups
        self.padding_mode = padding_mode
        self.dilated_kernel_size = pair(dilated_kernel_size)
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        self._own_spacing = (self.dilation, self.padding)
        self.equivalent_stride = 1
        shape = (out_channels, in_channels // groups, kernel_count)
        self.weight = nn.Parameter(torch.empty(shape))
        self.P = nn.Parameter(torch.empty(2, *shape))
        self.SIG = nn.Parameter(torch.empty(2, *shape)) if version == 'gauss' else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.register_buffer('idx_h', torch.arange(self.dilated_kernel_size[0]).float(),
                             persistent=False)
        self.register_buffer('idx_w', torch.arange(self.dilated_kernel_size[1]).float(),
                             persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights as ``nn.Conv2d``; positions N(0, 0.5) clamped; SIG = 0.23."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight.shape[1] * self.weight.shape[2])
            nn.init.uniform_(self.bias, -bound, bound)
        with torch.no_grad():
            self.P.normal_(0, 0.5)
            self.clamp_parameters()
            if self.SIG is not None:
                self.SIG.fill_(0.23)

    @torch.no_grad()
    def clamp_parameters(self) -> None:
        """Keeps every position inside the dilated kernel (call after each step)."""
        size_h, size_w = self.dilated_kernel_size
        rows, cols = grid_positions(self.P, self.version)
        rows.clamp_(-(size_h // 2), size_h // 2)
        cols.clamp_(-(size_w // 2), size_w // 2)

    # conv-layer interface (mmcv's ConvModule reads these)
    transposed = False
    output_padding = (0, 0)

    @property
    def kernel_size(self) -> tuple[int, int]:
        return self.dilated_kernel_size

    def set_equivalent_stride(self, e: int) -> None:
        """Runs on maps ``e`` times denser than the weights were made for: the
        dense kernel's taps and the padding are spaced by ``e`` times the
        layer's own dilation and padding. Sets (does not accumulate), as
        :meth:`segkit.ops.DCNv3.set_equivalent_stride`; ``e=1`` undoes it."""
        dilation, padding = self._own_spacing
        self.dilation = tuple(d * e for d in dilation)
        self.padding = tuple(p * e for p in padding)
        self.equivalent_stride = int(e)

    def construct_kernel(self) -> torch.Tensor:
        """The dense (out, in/groups, size_h, size_w) kernel."""
        return interpolate_kernel(self.weight, self.P, self.SIG, self.dilated_kernel_size,
                                  self.version, self.idx_h, self.idx_w)

    def kernel_parameters(self) -> list[torch.Tensor]:
        return [p for p in (self.weight, self.P, self.SIG) if p is not None]

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_count={self.kernel_count}, '
                f'dilated_kernel_size={self.dilated_kernel_size}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, groups={self.groups}, '
                f'version={self.version}')


@register_dense_rule(Dcls2d)
def _dense_dcls(layer: Dcls2d, e: int, stride: int) -> Dcls2d:
    """Equivalent stride of a DCLS layer: its constructed kernel's taps and its
    padding spaced by ``e`` (as a convolution's), ``stride`` kept."""
    layer.set_equivalent_stride(e)
    layer.stride = pair(stride)
    return layer


def repulsion_loss(P: torch.Tensor) -> torch.Tensor:
    """Penalty that keeps the elements of each kernel at least 1 pixel apart.

    ``mean(clamp_min(1 - ||P_i - P_j||, 0))`` over the pairs i != j of the K
    elements of every kernel (Khalfaoui-Hassani et al., arXiv 2112.03740).

    Args:
        P: (2, out, in/groups, K) positions.
    """
    pts = P.permute(1, 2, 3, 0).reshape(-1, P.shape[-1], 2)  # (kernels, K, 2)
    diff = pts.unsqueeze(1) - pts.unsqueeze(2)
    # NOTE: sqrt has an infinite gradient at 0; the diagonal is masked out
    # before the square root sees it
    k = P.shape[-1]
    off_diagonal = ~torch.eye(k, dtype=torch.bool, device=P.device)
    dist = diff[:, off_diagonal].pow(2).sum(-1).clamp_min(1e-12).sqrt()
    return (1 - dist).clamp_min(0).mean()


# the free function's name until this release: every constructed-kernel conv
# has a construct_kernel() method, which this was easily taken for
__getattr__ = moved_names(__name__, {'construct_kernel': 'segkit.ops.dcls.interpolate_kernel'})
