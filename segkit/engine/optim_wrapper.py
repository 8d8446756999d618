"""An optimizer wrapper that never applies a non-finite loss to the weights,
optionally under bfloat16 autocast (no loss scaling needed: bfloat16 has
float32's range)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

from segkit.errors import NonFiniteLossError

__all__ = ['NonFiniteLossError', 'NonFiniteGuardOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that checks the loss before backward and step.

    Args:
        on_non_finite: ``'raise'`` stops training with the iteration named
            (the weights are untouched, so no NaN reaches a checkpoint);
            ``'skip'`` drops that update and counts it in ``skipped_steps``.
        autocast_dtype: ``'bfloat16'`` runs forward and loss under
            ``torch.autocast`` on the model's device (mixed precision on the
            CPU, where mmengine's ``AmpOptimWrapper`` refuses to run); None
            (default) trains in the parameters' dtype. (``segkit train``
            logs the precision it chose, in one line.)
        **kwargs: As for ``OptimWrapper``.
    """

    def __init__(self, *args, on_non_finite: str = 'raise', autocast_dtype: str | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if on_non_finite not in ('raise', 'skip'):
            raise ValueError(f"on_non_finite must be 'raise' or 'skip', got {on_non_finite!r}")
        if autocast_dtype not in (None, 'bfloat16'):
            raise ValueError("autocast_dtype must be None or 'bfloat16' (float16 needs loss "
                             f"scaling: use AmpOptimWrapper), got {autocast_dtype!r}")
        self.on_non_finite = on_non_finite
        self.autocast_dtype = autocast_dtype
        self.skipped_steps = 0

    @contextlib.contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        autocast = contextlib.nullcontext() if self.autocast_dtype is None else torch.autocast(
            next(model.parameters()).device.type, dtype=getattr(torch, self.autocast_dtype))
        with super().optim_context(model), autocast:
            yield

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
