"""A compiled sampling kernel as a pair of ``torch.library`` custom ops.

Each compiled kernel (C++ on the CPU, Triton on GPUs; one per position rule)
is a forward ``(*tensors, sizes, *params) -> out`` and a backward
``(*tensors, grad_out, sizes, *params) -> gradients of the tensors``, with
``sizes`` = (N, H, W, H_out, W_out, G, C', K). Registered as custom ops with
fake implementations (for shape propagation) and autograd, each kernel is
one opaque node for ``torch.compile``, with no graph break, and a
differentiable function.

Eager calls on plain tensors take a ``torch.autograd.Function`` over the
same two functions instead: the first call of a custom op imports all of
``torch._dynamo`` (torch 2.14 wraps its kernels in ``_disable_dynamo``,
which imports it on first use: 1.6 s and ~200 MB, sympy among 892 modules),
which a plain PyTorch script should not pay for ``torch.compile`` support
it does not use. Under ``torch.compile``, ``torch.export``, ``jit.trace``, a
dispatch mode (fake tensors, FLOP counters) or with tensor subclasses, the
custom ops run.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.autograd.function import FunctionCtx, once_differentiable

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
        The differentiable forward: the custom op where something traces or
        compiles (``.op``), a plain autograd function in eager mode.
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

    def eager_forward(ctx: FunctionCtx, *args: object) -> torch.Tensor:
        out = forward(*args)
        save(ctx, args, out)
        return out

    @once_differentiable
    def eager_backward(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple:
        grads = backward(*ctx.saved_tensors, grad_out.contiguous(), *ctx.params)
        return (*grads, *(None for _ in ctx.params))

    # named after the op, so profilers tell the kernels' backward nodes apart
    Eager = type(name, (torch.autograd.Function,),
                 dict(forward=staticmethod(eager_forward),
                      backward=staticmethod(eager_backward)))

    def sample(*args: object) -> torch.Tensor:
        if _plain_eager(args[:tensors]):
            return Eager.apply(*args)
        return forward_op(*args)

    sample.op = forward_op  # type: ignore[attr-defined]
    return sample


def _plain_eager(tensors: tuple) -> bool:
    """Eager mode on plain tensors: nothing traces, compiles or intercepts ops."""
    return not (torch.compiler.is_compiling() or torch.compiler.is_exporting()
                or torch.jit.is_tracing() or torch._C._len_torch_dispatch_stack() > 0
                or any(type(t) not in (torch.Tensor, torch.nn.Parameter) for t in tensors))
