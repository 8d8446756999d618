"""Training hooks."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segkit.ops.dcls import Dcls2d

__all__ = ['DCLSClampHook']


@HOOKS.register_module()
class DCLSClampHook(Hook):
    """Clamps every DCLS layer's positions into its kernel after each step.

    Khalfaoui-Hassani et al., arXiv 2112.03740: positions are clamped to
    ``[-size//2, size//2]`` after every optimiser update (the reference
    package leaves it to the training loop).
    """

    priority = 'LOW'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        for module in model.modules():
            if isinstance(module, Dcls2d):
                module.clamp_parameters()
