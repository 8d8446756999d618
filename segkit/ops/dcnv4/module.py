"""The DCNv4 module of FlashInternImage (channels-last tokens in and out).

Xiong et al., "Efficient Deformable ConvNets: Rethinking Dynamic and Sparse
Operator for Vision Applications", CVPR 2024, arXiv 2401.06197.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.errors import DensifyError

from ..deform_sampling import DeformGeometry, Impl, packed_width
from ..equivalent_stride import register_dense_rule, run_phased
from .core import run_dcnv4_core

__all__ = ['DCNv4']


class DCNv4(nn.Module):
    """The DCNv4 module (FlashInternImage's operator).

    ``value_proj`` projects the input; ``offset_mask`` (one linear layer, on
    the input or, with ``dw_kernel_size``, on a depthwise conv of it: no
    norm, no activation) predicts each group's offsets and masks in one
    packed tensor; the core samples the projected input with the masks as
    they are (no softmax); ``output_proj`` mixes the groups. Constructor
    arguments and parameter names are the original's, so released state
    dicts load (also ones whose ``offset_mask`` is not padded to a multiple
    of 8, as one released file is). Unlike the original's CUDA kernel there
    is no restriction on the channels per group.

    Args:
        channels: Input and output channels.
        kernel_size: Sampling grid size.
        stride, pad, dilation: Sampling grid, as for a convolution (the
            original reshapes the offsets at input resolution, so it needs
            "same" geometry; so does this module, the core does not).
        group: Groups, each with its own offsets and masks.
        offset_scale: Scale of the offsets (and of the dilation grid).
        dw_kernel_size: Depthwise conv on the input before ``offset_mask``.
        center_feature_scale: Blend the sampled map with the projected input
            by a learned per-group sigmoid gate computed from the sampled map.
        remove_center: Leave out the centre point of the kernel.
        output_bias: ``output_proj`` has a bias (FlashInternImage T/S/B: no).
        without_pointwise: No ``value_proj`` / ``output_proj``.
        impl: Core implementation (see :func:`~segkit.ops.dcnv4_core`).

    Example:
        >>> m = DCNv4(32, group=2)
        >>> m(torch.randn(2, 14 * 14, 32), (14, 14)).shape
        torch.Size([2, 196, 32])
        >>> m(torch.randn(2, 14, 14, 32)).shape  # an (N, H, W, C) map
        torch.Size([2, 14, 14, 32])
    """

    def __init__(self, channels: int = 64, kernel_size: int = 3, stride: int = 1, pad: int = 1,
                 dilation: int = 1, group: int = 4, offset_scale: float = 1.0,
                 dw_kernel_size: int | None = None, center_feature_scale: bool = False,
                 remove_center: bool = False, output_bias: bool = True,
                 without_pointwise: bool = False, impl: Impl = 'auto', **kwargs: object) -> None:
        super().__init__()
        if channels % group:
            raise ValueError(f'channels ({channels}) must be divisible by group ({group})')
        if kwargs:  # the original swallows them silently (e.g. DCNv3's act_layer)
            warnings.warn(f'DCNv4 ignores {sorted(kwargs)} (as the original does)', stacklevel=2)
        self.channels, self.group, self.group_channels = channels, group, channels // group
        self.kernel_size, self.stride, self.pad, self.dilation = kernel_size, stride, pad, dilation
        self.offset_scale, self.dw_kernel_size = offset_scale, dw_kernel_size
        self.center_feature_scale, self.remove_center = center_feature_scale, bool(remove_center)
        self.without_pointwise, self.impl = without_pointwise, impl
        self.geometry = DeformGeometry(kernel_size, kernel_size, stride, stride, pad, pad,
                                       dilation, dilation, group, channels // group,
                                       offset_scale, self.remove_center)
        self.equivalent_stride = 1
        if dw_kernel_size is not None:
            self.offset_mask_dw = nn.Conv2d(channels, channels, dw_kernel_size, stride=1,
                                            padding=(dw_kernel_size - 1) // 2, groups=channels)
        self.offset_mask = nn.Linear(channels, packed_width(self.geometry))
        if not without_pointwise:
            self.value_proj = nn.Linear(channels, channels)
            self.output_proj = nn.Linear(channels, channels, bias=output_bias)
        self.reset_parameters()
        if center_feature_scale:
            self.center_feature_scale_proj_weight = nn.Parameter(torch.zeros(group, channels))
            self.center_feature_scale_proj_bias = nn.Parameter(torch.zeros(group))

    def reset_parameters(self) -> None:
        """Offsets and masks start at zero; projections xavier (as the
        original; the depthwise conv keeps PyTorch's initialisation)."""
        nn.init.zeros_(self.offset_mask.weight)
        nn.init.zeros_(self.offset_mask.bias)
        if not self.without_pointwise:
            for layer in (self.value_proj, self.output_proj):
                nn.init.xavier_uniform_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object) -> None:
        # NOTE: a released FlashInternImage-L file holds offset_mask unpadded
        # (G*K*3 rows, not a multiple of 8; DCNv4 issue #10): the padding is
        # never read, so zero rows complete it
        width, used = packed_width(self.geometry), self.group * self.geometry.points * 3
        for name in ('weight', 'bias'):
            key = f'{prefix}offset_mask.{name}'
            t = state_dict.get(key)
            if t is not None and t.shape[0] == used != width:
                state_dict[key] = torch.cat([t, t.new_zeros(width - used, *t.shape[1:])])
        super()._load_from_state_dict(state_dict, prefix, *args)

    def set_equivalent_stride(self, e: int, stride: int = 1) -> None:
        """Runs on maps ``e`` times denser than the weights were made for, on
        each of the ``e*e`` phase sub-maps (exact: every part of the module is
        translation equivariant with zeros outside the map;
        :func:`~segkit.ops.equivalent_stride.run_phased`). Sets (does not
        accumulate); ``e=1`` undoes it. ``stride`` is accepted for the
        equivalent-stride rule's signature and must be 1: DCNv4 predicts its
        offsets at input resolution, so it runs at stride 1 only."""
        if e < 1 or stride != 1 or (e > 1 and self.stride != 1):
            raise ValueError(f'equivalent stride {e} with stride {stride}: DCNv4 runs at '
                             'stride 1 only')
        self.equivalent_stride = int(e)

    def forward(self, input: torch.Tensor, shape: tuple[int, int] | None = None) -> torch.Tensor:
        """(N, L, C) tokens with ``shape`` = (H, W) (square if None), as the
        original, or an (N, H, W, C) map; returns the same layout."""
        tokens = input.dim() == 3
        if tokens:
            n, length, c = input.shape
            h, w = shape if shape is not None else (int(length ** 0.5),) * 2
            x = input.reshape(n, h, w, c)
        else:
            x = input
        out = run_phased(lambda x, stride: self._forward(x), self.equivalent_stride, (1, 1), x,
                         channels_last=True)
        return out.reshape(out.shape[0], -1, out.shape[-1]) if tokens else out

    def _forward(self, input: torch.Tensor) -> torch.Tensor:
        n, h, w, _ = input.shape
        x = input if self.without_pointwise else self.value_proj(input)
        if self.dw_kernel_size is not None:
            # a permuted NHWC map is channels-last already: no copy then
            om_in = self.offset_mask_dw(
                input.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last))
            om_in = om_in.permute(0, 2, 3, 1)
        else:
            om_in = input
        offset_mask = self.offset_mask(om_in)
        x_proj = x
        x = run_dcnv4_core(x, offset_mask, self.geometry, self.impl)
        if self.center_feature_scale:
            # NOTE: from the sampled map, as the original (DCNv3 gates on its input)
            scale = torch.sigmoid(F.linear(x, self.center_feature_scale_proj_weight,
                                           self.center_feature_scale_proj_bias))
            x = x * (1 - scale.repeat_interleave(self.group_channels, dim=-1)) + x_proj * (
                scale.repeat_interleave(self.group_channels, dim=-1))
        return x if self.without_pointwise else self.output_proj(x)

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, kernel_size={self.kernel_size}, group={self.group}, '
                f'offset_scale={self.offset_scale}, dw_kernel_size={self.dw_kernel_size}')


@register_dense_rule(DCNv4, channels_last=True)
def _dense_dcnv4(layer: DCNv4, e: int, stride: int) -> DCNv4:
    """Equivalent stride of a DCNv4 module: it runs on the phases of the
    dense map (:meth:`DCNv4.set_equivalent_stride`)."""
    try:
        layer.set_equivalent_stride(e, stride)
    except ValueError as err:
        raise DensifyError(str(err)) from None
    return layer
