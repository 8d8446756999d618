"""``DenseBackbone``: any registered backbone, densified by equivalent stride.

Wu, Xie, Luo, "Dense CNN Learning with Equivalent Mappings", arXiv 1605.07251.
"""
from __future__ import annotations

from typing import Any

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from segkit.ops.densify import densify, verify_dense


@MODELS.register_module()
class DenseBackbone(BaseModule):
    """Builds a backbone and turns it into its exact dense version.

    The backbone's outputs keep their channels; a map at original stride
    ``f`` comes out at stride ``min(f, output_stride)``, and its values at
    every ``f / min(f, output_stride)``-th position are exactly the
    original's (eval mode). Weights named in the backbone's ``init_cfg``
    load as usual: densifying renames nothing.

    Args:
        backbone: Config of any registered backbone (e.g. ``ResNetV1c`` with
            its standard strides).
        output_stride: Stride of the densest output, e.g. 8 or 16.
        probe_size: Side of the image used to trace the strides.
        verify: Check exactness layer by layer on the probe when building,
            with randomised weights (see :func:`~segkit.ops.densify`); call
            :meth:`verify` to check again with the weights it holds, e.g.
            after ``init_weights`` loaded a checkpoint.
        init_cfg: Initialisation of this wrapper (usually None: the inner
            backbone's own ``init_cfg`` loads its weights).

    Example:
        >>> from mmseg.registry import MODELS
        >>> net = MODELS.build(dict(type='DenseBackbone', output_stride=8,
        ...     backbone=dict(type='ResNetV1c', depth=18)))
        >>> [o.shape[-1] for o in net(torch.randn(1, 3, 64, 64))]
        [16, 8, 8, 8]
    """

    def __init__(self, backbone: dict, output_stride: int = 8, probe_size: int = 128,
                 verify: bool = True, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        built = MODELS.build(backbone)
        self.backbone_cfg, self.probe_size = dict(backbone), probe_size
        self.output_stride = output_stride
        # traced in eval mode; training the dense network afterwards is the
        # point (its BatchNorm then sees dense-map statistics, as documented)
        built.eval()
        self.backbone = densify(built, output_stride, probe_size=probe_size, verify=verify)
        self.backbone.train(self.training)

    def verify(self, atol: float = 1e-4) -> None:
        """Checks the dense backbone, with the weights it holds now, against
        the strided one built anew from its config with the same weights.

        Raises:
            DensifyError: naming the first layer that differs.
        """
        param = next(self.backbone.parameters())
        original = MODELS.build(self.backbone_cfg).to(param.device, param.dtype)
        original.load_state_dict(self.backbone.state_dict())
        verify_dense(original, self.backbone, self.probe_size, atol, randomise=False)

    def forward(self, x: torch.Tensor) -> Any:
        return self.backbone(x)

    def train(self, mode: bool = True) -> 'DenseBackbone':
        # NOTE: mmseg backbones override train() (norm_eval, frozen stages);
        # delegate so their rules still apply.
        super().train(mode)
        self.backbone.train(mode)
        return self
