"""``EncoderDecoder`` with DCLS's repulsion loss.

Khalfaoui-Hassani et al., "Dilated Convolution with Learnable Spacings",
ICLR 2023, arXiv 2112.03740.
"""
from __future__ import annotations

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from segkit.ops.dcls import Dcls2d, repulsion_loss

__all__ = ['DCLSEncoderDecoder']


@MODELS.register_module()
class DCLSEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` that adds the DCLS repulsion loss to training.

    ``loss_repulsion = repulsion_weight * mean over position sets of
    repulsion_loss(P)`` keeps a kernel's elements from collapsing onto each
    other (arXiv 2112.03740). Shared positions count once.
    """

    def __init__(self, repulsion_weight: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.repulsion_weight = repulsion_weight

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        losses = super().loss(inputs, data_samples)
        if self.repulsion_weight > 0:
            sets = {id(m.P): m.P for m in self.modules() if isinstance(m, Dcls2d)}
            if sets:
                losses['loss_repulsion'] = self.repulsion_weight * torch.stack(
                    [repulsion_loss(P) for P in sets.values()]).mean()
        return losses
