"""``ShapedBackbone``: any registered backbone with its k x k convs shaped
(ResNet-qh), and the orientation policy for whole networks (``shape_convs``).

Sun, Ozay, Okatani, "Design of Kernels in Convolutional Neural Networks for
Image Classification", ECCV 2016, arXiv 1511.09231.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from segkit.models.checkpoint_utils import (backbone_state_dict, load_state_dict_checked,
                                           read_checkpoint)
from segkit.ops.shaped_conv import ORIENTATIONS, SHAPES, ShapedConv2d, square_to_shaped

__all__ = ['ShapedBackbone', 'shape_convs']

POLICIES = ('cycle',) + SHAPES


def shape_convs(module: nn.Module, shape: str = 'cycle',
                kernel_sizes: Sequence[int] = (3,)) -> list[str]:
    """Replaces ``module``'s k x k convs (k in ``kernel_sizes``) by shaped ones.

    Args:
        shape: ``'cycle'`` (the paper's layer-wise deployment: right, down,
            left, up, in the order the convs are registered), or one shape
            for all (``'qh-mixed'``: four orientations on the output
            quarters of every conv).
        kernel_sizes: Square kernel sizes to shape (1x1 convs never are).

    Returns:
        The names of the replaced convs. Each keeps its settings and the kept
        taps of its weight.
    """
    if shape not in POLICIES:
        raise ValueError(f'shape must be one of {POLICIES}, got {shape!r}')
    names = [name for name, m in module.named_modules()
             if type(m) is nn.Conv2d and m.kernel_size[0] == m.kernel_size[1]
             and m.kernel_size[0] in kernel_sizes and m.kernel_size[0] > 1]
    for i, name in enumerate(names):
        old = module.get_submodule(name)
        new = ShapedConv2d(old.in_channels, old.out_channels, old.kernel_size,
                           ORIENTATIONS[i % 4] if shape == 'cycle' else shape, old.stride,
                           old.padding, old.dilation, old.groups, old.bias is not None,
                           old.padding_mode).to(old.weight)
        state, _ = square_to_shaped(old.state_dict(), new)
        new.load_state_dict(state)
        parent, _, child = name.rpartition('.')
        setattr(module.get_submodule(parent), child, new)
    return names


@MODELS.register_module()
class ShapedBackbone(BaseModule):
    """Any registered backbone with its k x k convs shaped (``ResNet-qh``).

    The outputs are the backbone's. Square ImageNet weights named in the
    backbone's ``init_cfg`` (``dict(type='Pretrained', checkpoint=...)``)
    load with only their kept taps (the fraction of weight energy dropped is
    logged); any other missing or unexpected key is an error. Wrap it in
    ``DenseBackbone`` for output stride 8 or 16: a shaped conv is a conv.

    Args:
        backbone: Config of any registered backbone (e.g. ``ResNetV1c``).
        shape: ``'cycle'`` (default), ``'qh-mixed'`` or one named shape
            (see :func:`shape_convs`).
        kernel_sizes: Which square kernel sizes to shape.

    Example:
        >>> from mmseg.registry import MODELS
        >>> net = MODELS.build(dict(type='ShapedBackbone',
        ...     backbone=dict(type='ResNetV1c', depth=18)))
        >>> [o.shape[1] for o in net(torch.randn(1, 3, 64, 64))]
        [64, 128, 256, 512]
    """

    def __init__(self, backbone: dict, shape: str = 'cycle', kernel_sizes: Sequence[int] = (3,),
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        backbone = dict(backbone)
        self.pretrained = backbone.pop('init_cfg', None)
        if self.pretrained is not None and self.pretrained.get('type') != 'Pretrained':
            backbone['init_cfg'] = self.pretrained  # an init scheme, not weights: the inner one's
            self.pretrained = None
        self.backbone = MODELS.build(backbone)
        self.shape = shape
        self.shaped = shape_convs(self.backbone, shape, kernel_sizes)

    def init_weights(self) -> None:
        if self.pretrained is None:
            self.backbone.init_weights()
            return
        path = self.pretrained['checkpoint']
        state = backbone_state_dict(read_checkpoint(path), drop=('fc', 'head'))
        state, dropped = square_to_shaped(state, self.backbone)
        load_state_dict_checked(self.backbone, state, path)
        print_log(f'{path}: {len(self.shaped)} convs shaped ({self.shape}); the dropped taps '
                  f'held {100 * dropped:.1f}% of their weights\' energy', logger='current')

    def forward(self, x: torch.Tensor) -> Any:
        return self.backbone(x)

    def train(self, mode: bool = True) -> 'ShapedBackbone':
        # NOTE: mmseg backbones override train() (norm_eval, frozen stages)
        super().train(mode)
        self.backbone.train(mode)
        return self
