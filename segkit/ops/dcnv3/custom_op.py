"""A DCNv3 sampling kernel as a pair of ``torch.library`` custom ops.

Both compiled kernels (C++ on the CPU, Triton on GPUs) take the value map,
the float sampling positions ``x``, ``y`` and the mask, with the sizes of
:attr:`.geometry.Samples.sizes`, and have a backward that returns the
gradients of all four. Registered as custom ops with fake implementations
(for shape propagation) and autograd, each kernel is one opaque node for
``torch.compile``, with no graph break, and a differentiable function.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.autograd.function import FunctionCtx

Forward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[int]],
                   torch.Tensor]
Backward = Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]


def sampling_op(name: str, forward: Forward, backward: Backward) -> Forward:
    """Registers ``segkit::{name}_forward`` and ``segkit::{name}_backward``.

    Args:
        name: prefix of the op names, e.g. ``'dcnv3_cpu'``.
        forward: ``(value, x, y, mask, sizes) -> out`` with ``out`` of shape
            (N, H_out, W_out, G*C) in ``value``'s dtype.
        backward: ``(value, x, y, mask, grad_out, sizes) -> (grad_value,
            grad_x, grad_y, grad_mask)``, each like its input.

    Returns:
        The differentiable forward op.
    """
    forward_op = torch.library.custom_op(f'segkit::{name}_forward', forward, mutates_args=())
    backward_op = torch.library.custom_op(f'segkit::{name}_backward', backward,
                                          mutates_args=())

    @forward_op.register_fake
    def _(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
          sizes: list[int]) -> torch.Tensor:
        n, _, _, h_out, w_out, group, channels, _ = sizes
        return value.new_empty(n, h_out, w_out, group * channels)

    @backward_op.register_fake
    def _(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
          grad_out: torch.Tensor, sizes: list[int]
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return tuple(torch.empty_like(t) for t in (value, x, y, mask))

    def save(ctx: FunctionCtx, inputs: tuple, output: torch.Tensor) -> None:
        value, x, y, mask, sizes = inputs
        ctx.save_for_backward(value, x, y, mask)
        ctx.sizes = sizes

    def gradients(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple:
        value, x, y, mask = ctx.saved_tensors
        return (*backward_op(value, x, y, mask, grad_out.contiguous(), ctx.sizes), None)

    forward_op.register_autograd(gradients, setup_context=save)
    return forward_op
