"""Checks every backbone test makes (as segmentation_models_pytorch's base
tester): output shapes per stage, a gradient for every parameter, no NaN, and
exact equivalent stride."""
from __future__ import annotations

import torch
import torch.nn as nn


def check_shapes_and_gradients(net: nn.Module, x: torch.Tensor,
                               shapes: list[tuple[int, ...]]) -> None:
    """``net(x)`` gives ``shapes``; every parameter gets a finite gradient."""
    net.train()
    outs = net(x)
    assert [tuple(o.shape) for o in outs] == shapes
    sum(o.square().mean() for o in outs).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def check_output_stride(plain: nn.Module, dense: nn.Module, output_stride: int,
                        x: torch.Tensor) -> None:
    """``dense`` (the same weights at ``output_stride``) sampled every eST
    pixels equals ``plain``, stage by stage (stage i at stride 4 * 2**i)."""
    dense.load_state_dict(plain.state_dict())
    plain.eval()
    dense.eval()
    with torch.no_grad():
        refs, outs = plain(x), dense(x)
    for i, (ref, out) in enumerate(zip(refs, outs, strict=True)):
        e = max(1, 4 * 2 ** i // output_stride)
        assert out.shape[-1] >= ref.shape[-1] * e - e
        torch.testing.assert_close(out[..., ::e, ::e], ref, rtol=1e-4, atol=1e-4)
