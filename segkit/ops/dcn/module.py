"""DCN and DCNv2 with mmcv 2.1.0's classes and functions, on the shared
deformable-sampling core.

Dai et al., "Deformable Convolutional Networks", ICCV 2017, arXiv 1703.06211 (DCN);
Zhu et al., "Deformable ConvNets v2: More Deformable, Better Results", CVPR 2019,
arXiv 1811.11168 (DCNv2: a learned modulation per tap; deformable 3x3 convs
in every bottleneck of ResNet conv3-conv5).

The classes reproduce mmcv 2.1.0's (``mmcv/ops/deform_conv.py``,
``mmcv/ops/modulated_deform_conv.py``): constructor signatures, the
deprecated ``deformable_groups`` keyword, parameter names and shapes
(``conv_offset`` of the Packs), the bias rules, the initialisation, and the
renaming of old ``<name>_offset`` keys, so mmcv-layout checkpoints load
unchanged and ``conv_cfg=dict(type='DCN' | 'DCNv2')`` builds what mmcv
builds. The computation (:func:`.core.deform_conv_core`) takes the
implementation of the shared core that ``impl`` (or ``SEGKIT_DEFORM_IMPL``)
picks, like DCNv3 and DCNv4: the C++ kernel on the CPU, Triton on GPUs, the
``grid_sample`` formulation under tracers (ONNX export, FLOP counters); all
compute the sampling in float32 (float64 for float64 inputs) and return the
input's dtype, so autocast works.

Equivalent stride (:meth:`DeformConv2d.set_equivalent_stride`): after removed
strides, bilinear sampling would have to interpolate between pixels ``e``
apart; the layer runs on the ``e*e`` phases of the dense map instead, offset
conv included, which is exact.
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable

import torch
import torch.nn as nn

from segkit.errors import DensifyError
from segkit.utils.pair import pair

from ..deform_sampling import Impl
from ..equivalent_stride import register_dense_rule, run_phased
from .core import deform_conv_core

__all__ = ['DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
           'ModulatedDeformConv2dPack', 'deform_conv2d', 'modulated_deform_conv2d']

Pair = int | tuple[int, int]


# ---------------------------------------------------------------------------
# mmcv's functions
# ---------------------------------------------------------------------------

def _check(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
           weight: torch.Tensor, groups: int, deform_groups: int) -> None:
    if input.dim() != 4:
        raise ValueError(f'Expected 4D tensor as input, got {input.dim()}D tensor instead.')
    k = weight.shape[2] * weight.shape[3]
    if input.shape[1] != weight.shape[1] * groups:
        raise ValueError(f'input has {input.shape[1]} channels; weight {tuple(weight.shape)} '
                         f'with groups={groups} takes {weight.shape[1] * groups}')
    if input.shape[1] % deform_groups:
        raise ValueError(f'{input.shape[1]} input channels do not split into '
                         f'deform_groups={deform_groups}')
    if offset.shape[1] != deform_groups * 2 * k:
        raise ValueError(f'offset has {offset.shape[1]} channels; deform_groups={deform_groups} '
                         f'with {k} taps need {deform_groups * 2 * k} (dy, dx per tap)')
    if mask is not None and mask.shape[1] != deform_groups * k:
        raise ValueError(f'mask has {mask.shape[1]} channels; deform_groups={deform_groups} '
                         f'with {k} taps need {deform_groups * k}')


def deform_conv2d(input: torch.Tensor, offset: torch.Tensor, weight: torch.Tensor,
                  stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups: int = 1,
                  deform_groups: int = 1, bias: bool = False,
                  im2col_step: int = 32) -> torch.Tensor:
    """DCN with mmcv's functional signature (``mmcv.ops.deform_conv2d``).

    Note the argument order differs from ``torchvision.ops.deform_conv2d``.

    Args:
        input: (N, C, H, W).
        offset: (N, deform_groups*2*kh*kw, H_out, W_out), (dy, dx) per tap.
        weight: (out, C/groups, kh, kw).
        bias: Must be False (as in mmcv).
        im2col_step: Accepted for mmcv's signature; unused.

    Returns:
        (N, out, H_out, W_out).
    """
    if bias:
        raise ValueError('bias=True is not supported in deform_conv2d (as in mmcv)')
    _check(input, offset, None, weight, groups, deform_groups)
    return deform_conv_core(input, offset, None, weight, None, pair(stride), pair(padding),
                            pair(dilation))


def modulated_deform_conv2d(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                            weight: torch.Tensor, bias: torch.Tensor | None = None,
                            stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1,
                            groups: int = 1, deform_groups: int = 1) -> torch.Tensor:
    """DCNv2 with mmcv's functional signature (``mmcv.ops.modulated_deform_conv2d``).

    Args:
        input: (N, C, H, W).
        offset: (N, deform_groups*2*kh*kw, H_out, W_out), (dy, dx) per tap.
        mask: (N, deform_groups*kh*kw, H_out, W_out), the modulation of each
            tap (the Pack passes ``sigmoid`` of its prediction).
        weight: (out, C/groups, kh, kw).
        bias: (out,) or None.

    Returns:
        (N, out, H_out, W_out).
    """
    _check(input, offset, mask, weight, groups, deform_groups)
    return deform_conv_core(input, offset, mask, weight, bias, pair(stride), pair(padding),
                            pair(dilation))


# ---------------------------------------------------------------------------
# the layers
# ---------------------------------------------------------------------------

def _deformable_groups_renamed(cls_name: str) -> Callable:
    """mmcv's ``@deprecated_api_warning({'deformable_groups': 'deform_groups'})``:
    the old keyword still works, with a DeprecationWarning."""
    def decorate(init: Callable) -> Callable:
        @functools.wraps(init)
        def wrapper(self: nn.Module, *args: Any, **kwargs: Any) -> None:
            if 'deformable_groups' in kwargs:
                if 'deform_groups' in kwargs:
                    raise TypeError(f'{cls_name}: give deform_groups only '
                                    '(deformable_groups is its old name)')
                warnings.warn(f'"deformable_groups" is deprecated in `{cls_name}.__init__`, '
                              'please use "deform_groups" instead', DeprecationWarning,
                              stacklevel=2)
                kwargs['deform_groups'] = kwargs.pop('deformable_groups')
            init(self, *args, **kwargs)
        return wrapper
    return decorate


class _DeformConv(nn.Module):
    """What DCN and DCNv2 share: arguments, and running on denser maps."""

    def _setup(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair,
               padding: Pair, dilation: Pair, groups: int, deform_groups: int,
               impl: Impl) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'in_channels {in_channels} and out_channels {out_channels} '
                             f'must be divisible by groups {groups}')
        if deform_groups < 1 or in_channels % deform_groups:
            raise ValueError(f'in_channels {in_channels} must be divisible by '
                             f'deform_groups {deform_groups}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size)
        self.stride, self.padding, self.dilation = pair(stride), pair(padding), pair(dilation)
        self.groups, self.deform_groups, self.impl = groups, deform_groups, impl
        # enable compatibility with nn.Conv2d (as mmcv: ConvModule reads these)
        self.transposed = False
        self.output_padding = (0,)
        self.equivalent_stride = 1
        self._own_stride = self.stride
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups,
                                               *self.kernel_size))

    def set_equivalent_stride(self, e: int, stride: Pair | None = None) -> None:
        """Runs on maps ``e`` times denser than the weights were made for.

        Bilinear sampling would have to interpolate between pixels ``e``
        apart, so the layer (a Pack with its offset conv) runs at stride 1 on
        each of the ``e*e`` phase sub-maps of the dense map and the phases
        are interleaved: exact, since the layer is translation equivariant
        with zeros outside the map, and phase (0, 0) is the original map.
        ``stride`` is the layer's stride on the dense map (default: its own),
        taken by subsampling the interleaved result when ``e > 1``. Sets (does
        not accumulate); ``set_equivalent_stride(1)`` restores the layer.

        Raises:
            ValueError: ``e > 1`` with a stride for a layer given its offsets
                (they would have to come at stride 1, the phases' grid).
        """
        stride = self._own_stride if stride is None else pair(stride)
        if e < 1 or min(stride) < 1:
            raise ValueError(f'equivalent stride and stride must be >= 1, got {e}, {stride}')
        packed = hasattr(self, 'conv_offset')
        if e > 1 and stride != (1, 1) and not packed:
            raise ValueError(f'{type(self).__name__} is given its offsets: on a map {e} times '
                             f'denser it runs at stride 1 only, got stride {stride}')
        self.equivalent_stride, self.stride = int(e), stride
        if packed:
            self.conv_offset.stride = stride if e == 1 else (1, 1)

    def _phased(self, run: Callable[..., torch.Tensor], x: torch.Tensor,
                *maps: torch.Tensor) -> torch.Tensor:
        """``run(x, *maps, stride)`` directly, or on the phases of the dense map."""
        return run_phased(run, self.equivalent_stride, self.stride, x, *maps)

    def _upgrade_offset_keys(self, state_dict: dict, prefix: str,
                             local_metadata: dict) -> None:
        """mmcv's Packs (version 2) renamed the offset conv: checkpoints
        without a version, or of version 1, name it ``<layer>_offset`` next
        to the layer (mmdet's first DCN ResNets); moved unless the new key is
        there too."""
        version = local_metadata.get('version', None)
        if version is None or version < 2:
            for name in ('weight', 'bias'):
                old, new = f'{prefix[:-1]}_offset.{name}', f'{prefix}conv_offset.{name}'
                if new not in state_dict and old in state_dict:
                    state_dict[new] = state_dict.pop(old)

    def extra_repr(self) -> str:
        s = (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, '
             f'stride={self.stride}, padding={self.padding}, dilation={self.dilation}, '
             f'groups={self.groups}, deform_groups={self.deform_groups}, '
             f'bias={getattr(self, "bias", None) is not None}')
        return s + (f', equivalent_stride={self.equivalent_stride}'
                    if self.equivalent_stride > 1 else '')


class DeformConv2d(_DeformConv):
    """DCN (Dai et al., arXiv 1703.06211), ``mmcv.ops.DeformConv2d``: a
    convolution whose taps move by the given offsets, sampled bilinearly.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation,
        groups: As for ``nn.Conv2d``.
        deform_groups: Groups of input channels with their own offsets
            (``deformable_groups=`` is the deprecated name).
        bias: Must be False (mmcv's DCN has no bias, and no ``bias`` attribute).
        im2col_step: Kept for mmcv's signature; unused.
        impl: Core implementation (see :func:`~segkit.ops.dcn.dcn_columns`).

    Example:
        >>> conv = DeformConv2d(4, 8, 3, padding=1)
        >>> offset = torch.zeros(2, 18, 16, 16)  # (dy, dx) per tap
        >>> conv(torch.randn(2, 4, 16, 16), offset).shape
        torch.Size([2, 8, 16, 16])
    """

    @_deformable_groups_renamed('DeformConv2d')
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair,
                 stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups: int = 1,
                 deform_groups: int = 1, bias: bool = False, im2col_step: int = 32,
                 impl: Impl = 'auto') -> None:
        super().__init__()
        if bias:
            raise ValueError(f'bias={bias} is not supported in DeformConv2d (as in mmcv).')
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation,
                    groups, deform_groups, impl)
        self.im2col_step = im2col_step
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """mmcv's: Kaiming uniform for ReLU, U(+-sqrt(6 / fan_in)), fan_in =
        in/groups * kh * kw."""
        nn.init.kaiming_uniform_(self.weight, nonlinearity='relu')

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: (N, in_channels, H, W).
            offset: (N, deform_groups*2*kh*kw, H_out, W_out), ``[y0, x0, y1,
                x1, ...]`` per deformable group.
        """
        return self._phased(self._deform, x, offset)

    def _deform(self, x: torch.Tensor, offset: torch.Tensor,
                stride: tuple[int, int]) -> torch.Tensor:
        _check(x, offset, None, self.weight, self.groups, self.deform_groups)
        return deform_conv_core(x, offset, None, self.weight, None, stride, self.padding,
                                self.dilation, self.impl)


class DeformConv2dPack(DeformConv2d):
    """DCN that predicts its offsets with a conv (mmcv's ``'DCN'`` conv layer).

    ``conv_offset``: ``nn.Conv2d(in_channels, deform_groups*2*kh*kw)`` with the
    layer's kernel size, stride, padding and dilation (dense over all input
    channels), zero-initialised, so a fresh layer is the plain convolution.
    Like mmcv's, it has no ``init_weights()``: inside an mmengine model the
    parent's initializers reach ``conv_offset`` (mmseg's ResNet: Kaiming for
    every ``Conv2d``) and nothing zeros it again; call :meth:`init_offset`.
    Takes :class:`DeformConv2d`'s arguments.

    Example:
        >>> conv = DeformConv2dPack(4, 8, 3, padding=1)
        >>> x = torch.randn(2, 4, 16, 16)
        >>> torch.allclose(conv(x), F.conv2d(x, conv.weight, padding=1), atol=1e-5)
        True
    """

    _version = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        self.conv_offset = nn.Conv2d(self.in_channels, self.deform_groups * 2 * kh * kw,
                                     kernel_size=self.kernel_size, stride=self.stride,
                                     padding=self.padding, dilation=self.dilation, bias=True)
        self.init_offset()

    def init_offset(self) -> None:
        """Zero offsets: the layer computes the plain convolution."""
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self._phased(self._packed, x)

    def _packed(self, x: torch.Tensor, stride: tuple[int, int]) -> torch.Tensor:
        return self._deform(x, self.conv_offset(x), stride)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              *args: Any) -> None:
        self._upgrade_offset_keys(state_dict, prefix, local_metadata)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


class ModulatedDeformConv2d(_DeformConv):
    """DCNv2 (Zhu et al., arXiv 1811.11168), ``mmcv.ops.ModulatedDeformConv2d``:
    DCN whose every tap is also scaled by a given mask.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation,
        groups: As for ``nn.Conv2d``.
        deform_groups: Groups of input channels with their own offsets and
            mask (``deformable_groups=`` is the deprecated name).
        bias: A bias parameter if truthy (``'auto'`` included, as in mmcv).
        impl: Core implementation (see :func:`~segkit.ops.dcn.dcn_columns`).

    Example:
        >>> conv = ModulatedDeformConv2d(4, 8, 3, padding=1)
        >>> offset, mask = torch.zeros(2, 18, 16, 16), torch.ones(2, 9, 16, 16)
        >>> conv(torch.randn(2, 4, 16, 16), offset, mask).shape
        torch.Size([2, 8, 16, 16])
    """

    @_deformable_groups_renamed('ModulatedDeformConv2d')
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair,
                 stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups: int = 1,
                 deform_groups: int = 1, bias: bool | str = True,
                 impl: Impl = 'auto') -> None:
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation,
                    groups, deform_groups, impl)
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter('bias', None)
        self.init_weights()

    def init_weights(self) -> None:
        """mmcv's: weight U(+-1/sqrt(in_channels * kh * kw)) (the fan-in
        *without* dividing by groups, as mmcv), bias 0."""
        n = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        stdv = 1.0 / math.sqrt(n)
        with torch.no_grad():
            self.weight.uniform_(-stdv, stdv)
            if self.bias is not None:
                self.bias.zero_()

    def reset_parameters(self) -> None:
        """:meth:`init_weights` (mmcv's name), under PyTorch's name."""
        self.init_weights()

    def forward(self, x: torch.Tensor, offset: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """
        Args:
            x: (N, in_channels, H, W).
            offset: (N, deform_groups*2*kh*kw, H_out, W_out), ``[y0, x0, y1,
                x1, ...]`` per deformable group.
            mask: (N, deform_groups*kh*kw, H_out, W_out).
        """
        return self._phased(self._deform, x, offset, mask)

    def _deform(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                stride: tuple[int, int]) -> torch.Tensor:
        _check(x, offset, mask, self.weight, self.groups, self.deform_groups)
        return deform_conv_core(x, offset, mask, self.weight, self.bias, stride, self.padding,
                                self.dilation, self.impl)


class ModulatedDeformConv2dPack(ModulatedDeformConv2d):
    """DCNv2 that predicts offsets and mask with one conv (mmcv's ``'DCNv2'``
    conv layer).

    ``conv_offset``: ``nn.Conv2d(in_channels, deform_groups*3*kh*kw)`` with the
    layer's kernel size, stride, padding and dilation; its first 2/3 of the
    channels are the offsets (mmcv's layout), the last third goes through a
    sigmoid to give the mask. It starts at zero, so a fresh layer computes
    half the plain convolution (mask ``sigmoid(0) = 0.5``) plus the bias,
    exactly as mmcv's; :meth:`init_weights` (which mmengine calls from a
    model's ``init_weights()``) redraws the weight and zeros it again.
    Takes :class:`ModulatedDeformConv2d`'s arguments.

    Example:
        >>> conv = ModulatedDeformConv2dPack(4, 8, 3, padding=1, bias=False)
        >>> x = torch.randn(2, 4, 16, 16)
        >>> torch.allclose(conv(x), 0.5 * F.conv2d(x, conv.weight, padding=1), atol=1e-5)
        True
    """

    _version = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        self.conv_offset = nn.Conv2d(self.in_channels, self.deform_groups * 3 * kh * kw,
                                     kernel_size=self.kernel_size, stride=self.stride,
                                     padding=self.padding, dilation=self.dilation, bias=True)
        self.init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        if hasattr(self, 'conv_offset'):  # the base's __init__ calls this first
            nn.init.zeros_(self.conv_offset.weight)
            nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self._phased(self._packed, x)

    def _packed(self, x: torch.Tensor, stride: tuple[int, int]) -> torch.Tensor:
        out = self.conv_offset(x)
        split = 2 * out.shape[1] // 3
        # mmcv chunks into three and concatenates the first two back: the
        # same as these two slices
        return self._deform(x, out[:, :split], out[:, split:].sigmoid(), stride)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              *args: Any) -> None:
        self._upgrade_offset_keys(state_dict, prefix, local_metadata)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)


@register_dense_rule(DeformConv2d, ModulatedDeformConv2d)
def _dense_deform_conv(layer: _DeformConv, e: int, stride: int) -> _DeformConv:
    """Equivalent stride of a DCN / DCNv2 layer: run on the phases of the
    dense map (see :meth:`DeformConv2d.set_equivalent_stride`), ``stride``
    kept. A Pack's offset conv is part of the layer."""
    try:
        layer.set_equivalent_stride(e, stride)
    except ValueError as err:
        raise DensifyError(str(err)) from None
    return layer
