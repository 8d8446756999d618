"""An optimizer wrapper that never applies a non-finite loss to the weights."""
from __future__ import annotations

import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

__all__ = ['NonFiniteLossError', 'NonFiniteGuardOptimWrapper']


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that checks the loss before backward and step.

    Args:
        on_non_finite: ``'raise'`` stops training with the iteration named
            (the weights are untouched, so no NaN reaches a checkpoint);
            ``'skip'`` drops that update and counts it in ``skipped_steps``.
        **kwargs: As for ``OptimWrapper``.
    """

    def __init__(self, *args, on_non_finite: str = 'raise', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if on_non_finite not in ('raise', 'skip'):
            raise ValueError(f"on_non_finite must be 'raise' or 'skip', got {on_non_finite!r}")
        self.on_non_finite = on_non_finite
        self.skipped_steps = 0

    def update_params(self, loss: torch.Tensor, step_kwargs: dict | None = None,
                      zero_kwargs: dict | None = None) -> None:
        if not torch.isfinite(loss.detach()).all():
            iteration = self._inner_count + 1
            if self.on_non_finite == 'raise':
                raise NonFiniteLossError(
                    f'loss is {loss.detach().item()} at training step {iteration}; stopping '
                    'before the update so the weights stay finite (set '
                    "optim_wrapper.on_non_finite='skip' to drop such steps)")
            self.skipped_steps += 1
            self._inner_count += 1
            self.zero_grad(**(zero_kwargs or {}))
            return
        super().update_params(loss, step_kwargs, zero_kwargs)
