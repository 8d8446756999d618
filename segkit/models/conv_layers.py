"""segkit's conv layers, for ``conv_cfg=dict(type=...)`` in any mmseg module.

mmcv's ``build_conv_layer`` builds a registered class with ``nn.Conv2d``'s
arguments; segkit registers one per way of shaping what a convolution sees:

- ``'DCN'``, ``'DCNv2'``: ``DeformConv2dPack``, ``ModulatedDeformConv2dPack``,
  mmcv 2.1.0's classes (:mod:`segkit.ops.dcn`);
- ``'DCNv3'``, ``'DCNv4'``: :class:`DCNv3Conv2d`, :class:`DCNv4Conv2d`, the
  channels-last modules behind an NCHW conv layer;
- ``'DCLS'``: :class:`DCLSConv2d` (:class:`~segkit.ops.Dcls2d`);
- ``'Shaped'``: :func:`shaped_conv_layer` (:class:`~segkit.ops.ShapedConv2d`).

They are segkit's classes on every install: with mmcv's compiled ops
present, mmcv registers its own ``'DCN'`` and ``'DCNv2'`` when ``mmcv.ops``
is imported (mmseg imports it first), and segkit's replace them, so a
segkit config means the same thing everywhere and densifies (mmcv's classes
have no equivalent-stride rule). The offset groups of every deformable conv
layer are ``deform_groups`` (mmcv's word; ``ConvModule`` passes the conv's
channel ``groups``).

Dai et al., ICCV 2017 (DCN); Zhu et al., CVPR 2019 (DCNv2); Wang et al.,
CVPR 2023 (DCNv3); Xiong et al., CVPR 2024 (DCNv4); Khalfaoui-Hassani et
al., ICLR 2023 (DCLS); Sun, Ozay, Okatani, ECCV 2016 (designed shapes).
"""
from __future__ import annotations

import mmcv.ops  # noqa: F401  (compiled mmcv registers its DCN layers on import: first)
import torch
import torch.nn as nn
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

from segkit.errors import DensifyError
from segkit.ops import Dcls2d, DeformConv2dPack, ModulatedDeformConv2dPack, ShapedConv2d
from segkit.ops.dcnv3 import DCNv3
from segkit.ops.dcnv4 import DCNv4
from segkit.ops.equivalent_stride import register_dense_rule
from segkit.utils.deprecation import renamed
from segkit.utils.pair import pair

__all__ = ['CONV_LAYERS', 'ChannelsLastDeformConv', 'DCLSConv2d', 'DCNv3Conv2d', 'DCNv4Conv2d',
           'register_conv_layers', 'shaped_conv_layer']


class ChannelsLastDeformConv(nn.Module):
    """A channels-last deformable module (DCNv3, DCNv4) behind a conv-layer
    interface (NCHW), for ``conv_cfg=dict(type=...)`` in any mmseg module.

    The deformable sampling keeps ``in_channels``; a 1x1 conv follows when
    ``out_channels`` differs. ``bias`` is accepted for the interface only
    (the modules' projections carry their own biases).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation:
            As for ``nn.Conv2d`` (``padding`` defaults to "same").
        groups: The conv's channel groups, which ``ConvModule`` passes; must
            be 1 (the module samples each channel on its own, then mixes them).
        bias: Ignored, see above.
        deform_groups: Groups, each with its own offsets and mask (the
            operator's ``group``; mmcv's word for DCN's offset groups, since
            ``groups`` is taken); ``in_channels`` must divide by it.
        offset_scale: The module's offset scale.
    """

    transposed = False
    output_padding = (0, 0)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 groups: int = 1, bias: bool | str = True, deform_groups: int = 4,
                 offset_scale: float = 1.0, group: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if group is not None:
            renamed(f"conv_cfg=dict(type='{self.op.__name__}', group=...)", 'deform_groups',
                    name)
            deform_groups = group
        if groups != 1:
            raise ValueError(f'{self.op.__name__} conv layers have channel groups=1 (their '
                             f'offset groups are deform_groups), got groups={groups}')
        kernel_size = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        stride = stride if isinstance(stride, int) else stride[0]
        dilation = dilation if isinstance(dilation, int) else dilation[0]
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        padding = padding if isinstance(padding, int) else padding[0]
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = (kernel_size,) * 2, (stride,) * 2
        self.padding, self.dilation, self.groups = (padding,) * 2, (dilation,) * 2, 1
        self.dcn = self.op(in_channels, kernel_size, stride=stride, pad=padding,
                           dilation=dilation, group=deform_groups, offset_scale=offset_scale)
        self.proj = (nn.Conv2d(in_channels, out_channels, 1)
                     if out_channels != in_channels else None)

    op: type[nn.Module] = nn.Module  # the channels-last module

    def init_weights(self) -> None:
        self.dcn.reset_parameters()

    def set_equivalent_stride(self, e: int, stride: int | None = None) -> None:
        """See :meth:`segkit.ops.DCNv3.set_equivalent_stride` (the 1x1
        projection after it is per-position)."""
        self.dcn.set_equivalent_stride(e, *(() if stride is None else (stride,)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.proj(x) if self.proj is not None else x


@register_dense_rule(ChannelsLastDeformConv)
def _dense_conv_layer(layer: ChannelsLastDeformConv, e: int,
                      stride: int) -> ChannelsLastDeformConv:
    """Equivalent stride of a DCNv3 / DCNv4 conv layer: its operator's rule."""
    try:
        layer.set_equivalent_stride(e, stride)
    except ValueError as err:
        raise DensifyError(str(err)) from None
    return layer


class DCNv3Conv2d(ChannelsLastDeformConv):
    """DCNv3 as a conv layer (``conv_cfg=dict(type='DCNv3', deform_groups=4)``);
    arguments as :class:`ChannelsLastDeformConv`."""

    op = DCNv3


class DCNv4Conv2d(ChannelsLastDeformConv):
    """DCNv4 as a conv layer (``conv_cfg=dict(type='DCNv4', deform_groups=4)``);
    arguments as :class:`ChannelsLastDeformConv`. Stride 1 and "same"
    padding only, as DCNv4's module (its offsets are predicted at input
    resolution)."""

    op = DCNv4

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, dilation: int = 1,
                 **kwargs) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         **kwargs)
        k, d = self.kernel_size[0], self.dilation[0]
        if self.stride != (1, 1) or self.padding[0] != d * (k - 1) // 2:
            raise ValueError('DCNv4 conv layers take stride 1 and "same" padding, got '
                             f'stride {self.stride}, padding {self.padding}')


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


def shaped_conv_layer(in_channels: int, out_channels: int,
                      kernel_size: int | tuple[int, int], stride: int = 1, padding: int = 0,
                      dilation: int = 1, groups: int = 1, bias: bool | str = True, *,
                      shape: str = 'qh-right') -> nn.Conv2d:
    """The conv layer ``conv_cfg=dict(type='Shaped', shape=...)`` builds: a
    :class:`~segkit.ops.ShapedConv2d`, or a plain ``nn.Conv2d`` for 1x1
    kernels (nothing to shape)."""
    args = (in_channels, out_channels, kernel_size)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                  bias=bool(bias))
    if pair(kernel_size) == (1, 1):
        return nn.Conv2d(*args, **kwargs)
    return ShapedConv2d(*args, shape=shape, **kwargs)


# type -> what build_conv_layer builds
CONV_LAYERS = {'DCN': DeformConv2dPack, 'DCNv2': ModulatedDeformConv2dPack,
               'DCNv3': DCNv3Conv2d, 'DCNv4': DCNv4Conv2d, 'DCLS': DCLSConv2d,
               'Shaped': shaped_conv_layer}


def register_conv_layers(registry: Registry = MMENGINE_MODELS) -> None:
    """Registers :data:`CONV_LAYERS` in ``registry`` (mmengine's ``MODELS``,
    which ``build_conv_layer`` reads), replacing mmcv's ``'DCN'`` and
    ``'DCNv2'`` where compiled mmcv registered them."""
    for name, layer in CONV_LAYERS.items():
        registry.register_module(name, module=layer, force=True)


register_conv_layers()
