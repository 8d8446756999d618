"""Training hooks."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from segkit.ops.dcls import Dcls2d

if TYPE_CHECKING:
    from mmengine.runner import Runner

__all__ = ['DCLSClampHook', 'RNGStateHook']


@HOOKS.register_module()
class DCLSClampHook(Hook):
    """Clamps every DCLS layer's positions into its kernel after each step.

    Khalfaoui-Hassani et al., arXiv 2112.03740: positions are clamped to
    ``[-size//2, size//2]`` after every optimiser update (the reference
    package leaves it to the training loop). ConvNeXt-dcls's ImageNet
    training clamps so; its segmentation code never does, so the ADE20K
    recipes leave this hook out (the sample configs use it).
    """

    priority = 'LOW'

    def after_train_iter(self, runner: Runner, batch_idx: int, data_batch: Any = None,
                         outputs: Any = None) -> None:
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        for module in model.modules():
            if isinstance(module, Dcls2d):
                module.clamp_parameters()


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Saves torch's random state in checkpoints and restores it on resume.

    mmengine 0.10 re-seeds on resume but does not restore generator states,
    so dropout and drop path would diverge from an uninterrupted run. On
    resume the loop replays the data it skips, which reproduces the data
    pipeline's numpy / Python random streams exactly; torch's stream (used
    by the model) is what needs restoring, at the first training iteration
    after that replay. Validation during training is also kept from
    consuming the training stream (its state is put back afterwards), so a
    run resumed after a validation point matches one that went through it.
    The state is a plain uint8 tensor (safe to load).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: dict | None = None
        self._before_val: torch.Tensor | None = None

    def before_val(self, runner: Runner) -> None:
        self._before_val = torch.get_rng_state()

    def after_val(self, runner: Runner) -> None:
        if self._before_val is not None:
            torch.set_rng_state(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_iter(self, runner: Runner, batch_idx: int, data_batch: Any = None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
