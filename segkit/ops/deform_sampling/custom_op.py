"""A compiled sampling kernel as a pair of ``torch.library`` custom ops.

Each compiled kernel (C++ on the CPU, Triton on GPUs; one per position rule)
is a forward ``(*tensors, sizes, *params) -> out`` and a backward
``(*tensors, grad_out, sizes, *params) -> gradients of the tensors``, with
``sizes`` = (N, H, W, H_out, W_out, G, C', K). Registered as custom ops with
fake implementations (for shape propagation) and autograd, each kernel is
one opaque node for ``torch.compile``, with no graph break, and a
differentiable function.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.autograd.function import FunctionCtx

__all__ = ['sampling_op']


def sampling_op(name: str, forward: Callable[..., torch.Tensor],
                backward: Callable[..., tuple[torch.Tensor, ...]],
                tensors: int) -> Callable[..., torch.Tensor]:
    """Registers ``segkit::{name}_forward`` and ``segkit::{name}_backward``.

    Args:
        name: prefix of the op names, e.g. ``'deform_sampling_cpu'``.
        forward: the kernel, typed (``torch.library`` reads its schema from
            the annotations): ``tensors`` tensors, then ``sizes: list[int]``
            and any other parameters; returns (N, H_out, W_out, G*C') in the
            first tensor's dtype.
        backward: the same arguments with ``grad_out`` after the tensors;
            returns the gradient of each tensor, shaped like it.
        tensors: how many leading arguments are differentiable tensors.

    Returns:
        The differentiable forward op.
    """
    forward_op = torch.library.custom_op(f'segkit::{name}_forward', forward, mutates_args=())
    backward_op = torch.library.custom_op(f'segkit::{name}_backward', backward,
                                          mutates_args=())

    @forward_op.register_fake
    def _(*args: object) -> torch.Tensor:
        value, sizes = args[0], args[tensors]
        n, _, _, h_out, w_out, group, channels, _ = sizes
        return value.new_empty(n, h_out, w_out, group * channels)

    @backward_op.register_fake
    def _(*args: object) -> tuple[torch.Tensor, ...]:
        return tuple(torch.empty_like(t) for t in args[:tensors])

    def save(ctx: FunctionCtx, inputs: tuple, output: torch.Tensor) -> None:
        ctx.save_for_backward(*inputs[:tensors])
        ctx.params = inputs[tensors:]

    def gradients(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple:
        grads = backward_op(*ctx.saved_tensors, grad_out.contiguous(), *ctx.params)
        return (*grads, *(None for _ in ctx.params))

    forward_op.register_autograd(gradients, setup_context=save)
    return forward_op
