"""The DCNv3 module of InternImage (channels-last in and out).

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.errors import DensifyError

from ..deform_sampling import DeformGeometry, Impl
from ..equivalent_stride import register_dense_rule, run_phased
from .core import run_dcnv3_core

__all__ = ['DCNv3']


def _act(name: str) -> nn.Module:
    acts = {'GELU': nn.GELU, 'ReLU': nn.ReLU, 'SiLU': nn.SiLU}
    if name not in acts:
        raise ValueError(f'act_layer must be one of {sorted(acts)}, got {name!r}')
    return acts[name]()


class _ToChannelsLast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


class DCNv3(nn.Module):
    """The DCNv3 module of InternImage (channels-last in and out).

    ``input_proj`` projects the input; a depthwise conv -> LayerNorm -> GELU
    on the raw input predicts per-group offsets (``offset``) and a mask
    (``mask``, softmax over each group's K points); the core samples the
    projected input; ``output_proj`` mixes the groups. Parameter names are
    the original's, so InternImage checkpoints load.

    Args:
        channels: Input and output channels.
        kernel_size: Sampling grid size.
        dw_kernel_size: Kernel of the depthwise conv that sees the input
            (defaults to ``kernel_size``).
        stride: Stride of the sampling grid (and of the depthwise conv, so
            offsets match the output grid).
        pad: Padding of the sampling grid.
        dilation: Dilation of the sampling grid.
        group: Groups, each with its own offsets and mask.
        offset_scale: Scale of the offsets (and of the dilation grid).
        act_layer: ``'GELU'`` (or ``'ReLU'``, ``'SiLU'``).
        norm_layer: ``'LN'``.
        center_feature_scale: Blend the output with the projected input by
            a learned per-group sigmoid gate.
        impl: Core implementation (see :func:`dcnv3_core`).

    Example:
        >>> m = DCNv3(32, group=4)
        >>> m(torch.randn(2, 14, 14, 32)).shape
        torch.Size([2, 14, 14, 32])
    """

    def __init__(self, channels: int = 64, kernel_size: int = 3,
                 dw_kernel_size: int | None = None, stride: int = 1, pad: int = 1,
                 dilation: int = 1, group: int = 4, offset_scale: float = 1.0,
                 act_layer: str = 'GELU', norm_layer: str = 'LN',
                 center_feature_scale: bool = False, impl: Impl = 'auto') -> None:
        super().__init__()
        if channels % group:
            raise ValueError(f'channels ({channels}) must be divisible by group ({group})')
        if norm_layer != 'LN':
            raise ValueError(f"norm_layer must be 'LN', got {norm_layer!r}")
        dw_kernel_size = dw_kernel_size or kernel_size
        self.channels, self.group, self.group_channels = channels, group, channels // group
        self.kernel_size, self.stride, self.pad, self.dilation = kernel_size, stride, pad, dilation
        self.offset_scale, self.center_feature_scale = offset_scale, center_feature_scale
        self.impl = impl
        self.geometry = DeformGeometry(kernel_size, kernel_size, stride, stride, pad, pad,
                                      dilation, dilation, group, channels // group, offset_scale)
        self.equivalent_stride = 1
        self.dense_stride = (stride, stride)  # the stride on the maps it runs on
        k = kernel_size * kernel_size
        self.dw_conv = nn.Sequential(
            nn.Conv2d(channels, channels, dw_kernel_size, stride, (dw_kernel_size - 1) // 2,
                      groups=channels),
            nn.Sequential(_ToChannelsLast(), nn.LayerNorm(channels, eps=1e-6)),
            _act(act_layer))
        # NOTE: the depthwise conv always runs on a channels-last map (below), so
        # its weight gradient comes out channels-last, strides (k*k, 1, k, 1);
        # the (C, 1, k, k) weight has the same memory layout but strides
        # (k*k, k*k, k, 1), and DDP then warns and copies that gradient into
        # its bucket every step. Same memory, the gradient's strides:
        w = self.dw_conv[0].weight
        w.data = w.data.as_strided(w.shape, (w.shape[2] * w.shape[3], 1, w.shape[3], 1))
        self.offset = nn.Linear(channels, group * k * 2)
        self.mask = nn.Linear(channels, group * k)
        self.input_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = nn.Parameter(torch.zeros(group, channels))
            self.center_feature_scale_proj_bias = nn.Parameter(torch.zeros(group))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Offsets and mask start at zero (a plain average grid); projections xavier."""
        for layer in (self.offset, self.mask):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        for layer in (self.input_proj, self.output_proj):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        if self.center_feature_scale:
            nn.init.zeros_(self.center_feature_scale_proj_weight)
            nn.init.zeros_(self.center_feature_scale_proj_bias)

    def set_equivalent_stride(self, e: int, stride: int | None = None) -> None:
        """Runs on maps ``e`` times denser than the weights were made for,
        with stride ``stride`` there (default: its own).

        Bilinear sampling would have to interpolate between pixels ``e``
        apart, so the whole module runs at stride 1 on each of the ``e*e``
        phase sub-maps instead, and every ``stride``-th position of the
        interleaved result is kept (:func:`~segkit.ops.equivalent_stride.run_phased`):
        exact, since every part of it (depthwise conv, projections, sampling)
        is translation equivariant with zeros outside the map. Sets (does
        not accumulate); ``e=1`` undoes it.
        """
        stride = self.stride if stride is None else int(stride)
        if e < 1 or stride < 1 or self.stride % stride:
            raise ValueError(f'equivalent stride {e} with stride {stride} does not fit a '
                             f'stride-{self.stride} DCNv3')
        self.equivalent_stride, self.dense_stride = int(e), (stride, stride)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """(N, H, W, C) -> (N, H_out, W_out, C)."""
        return run_phased(self._forward, self.equivalent_stride, self.dense_stride, input,
                          channels_last=True)

    def _forward(self, input: torch.Tensor, stride: tuple[int, int]) -> torch.Tensor:
        n = input.shape[0]
        x = self.input_proj(input)
        x_proj = x
        # a permuted NHWC map is channels-last already: no copy then
        x1 = input.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        geometry = self.geometry
        if stride == (self.stride, self.stride):
            x1 = self.dw_conv(x1)
        else:  # on denser maps: the module at another stride, the same weights
            geometry = dataclasses.replace(geometry, stride_h=stride[0], stride_w=stride[1])
            conv = self.dw_conv[0]
            x1 = F.conv2d(x1, conv.weight, conv.bias, stride, conv.padding, conv.dilation,
                          conv.groups)
            x1 = self.dw_conv[2](self.dw_conv[1](x1))
        h, w = x1.shape[1:3]
        offset = self.offset(x1)
        mask = F.softmax(self.mask(x1).view(n, h, w, self.group, -1), -1).view(n, h, w, -1)
        x = run_dcnv3_core(x, offset, mask, geometry, self.impl)
        if self.center_feature_scale:
            scale = torch.sigmoid(F.linear(x1, self.center_feature_scale_proj_weight,
                                           self.center_feature_scale_proj_bias))
            scale = scale.repeat_interleave(self.group_channels, dim=-1)
            x = x * (1 - scale) + x_proj * scale
        return self.output_proj(x)


@register_dense_rule(DCNv3, channels_last=True)
def _dense_dcnv3(layer: DCNv3, e: int, stride: int) -> DCNv3:
    """Equivalent stride of a DCNv3 module: it runs on the phases of the
    dense map (:meth:`DCNv3.set_equivalent_stride`), ``stride`` kept."""
    try:
        layer.set_equivalent_stride(e, stride)
    except ValueError as err:
        raise DensifyError(str(err)) from None
    return layer
