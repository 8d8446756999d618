"""Equivalent stride, layer by layer: dense(x)[..., ::E, ::E] == strided(x), with
the strided layer itself as the reference; and the table of per-type rules."""
from __future__ import annotations

import copy
import itertools

import pytest
import torch
import torch.nn as nn

from segkit.ops import (Dcls2d, DensifyError, EAvgPool2d, EMaxPool2d, PhaseDecomposed,
                        dense_layer, econv2d_, register_dense_rule)
from segkit.ops.equivalent_stride import _RULES

torch.manual_seed(0)


def _close(dense_out: torch.Tensor, ref: torch.Tensor, est: int, rtol: float = 1e-5) -> None:
    sampled = dense_out[..., ::est, ::est]
    assert sampled.shape == ref.shape, (sampled.shape, ref.shape)
    scale = ref.abs().max().clamp_min(1e-6)
    err = ((sampled - ref).abs().max() / scale).item()
    assert err <= rtol, f'relative error {err:.2e}'


def _randomise_bn(model: nn.Module) -> nn.Module:
    """Non-trivial eval-mode BatchNorm, so per-position layers are really tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()  # NOTE: mmseg's ResNet.train() returns None, so no chaining
    return model


# -- single layers ----------------------------------------------------------

CONV_CASES = [c for c in itertools.product(
    (1, 2, 3, 4),   # kernel
    (1, 2, 4),      # stride
    (0, 1, 2),      # padding
    (1, 2),         # dilation
    (1, 2, 3),      # eST of the input
    (False, True),  # keep the stride
) if not (c[0] == 1 and c[3] == 2)]


@pytest.mark.parametrize('k,s,p,d,e,keep', CONV_CASES)
def test_econv(k: int, s: int, p: int, d: int, e: int, keep: bool) -> None:
    conv = nn.Conv2d(3, 5, k, s, p, d).double()
    x = torch.randn(2, 3, 29, 34, dtype=torch.float64)
    ref = conv(x[..., ::e, ::e])
    dense = econv2d_(copy.deepcopy(conv), e, s if keep else 1)
    _close(dense(x), ref, e if keep else e * s, rtol=1e-12)


def test_econv_patchify_shrinks_by_e_k_minus_1() -> None:
    conv = nn.Conv2d(3, 8, 4, 4).double()  # ConvNeXt stem: kernel == stride
    x = torch.randn(1, 3, 61, 64, dtype=torch.float64)
    dense = econv2d_(copy.deepcopy(conv), 2, 1)
    out = dense(x)
    assert out.shape[-2:] == (61 - 2 * 3, 64 - 2 * 3)
    _close(out, conv(x[..., ::2, ::2]), 8, rtol=1e-12)


POOL_CASES = [c for c in itertools.product(
    (2, 3),          # kernel
    (1, 2, 3),       # stride
    (0, 1),          # padding
    (False, True),   # ceil_mode
    (1, 2, 3),       # eST of the input
    (False, True),   # keep the stride
) if c[2] <= c[0] // 2]


@pytest.mark.parametrize('k,s,p,ceil,e,keep', POOL_CASES)
@pytest.mark.parametrize('count_include_pad', [True, False])
def test_eavgpool(k: int, s: int, p: int, ceil: bool, e: int, keep: bool,
                  count_include_pad: bool) -> None:
    pool = nn.AvgPool2d(k, s, p, ceil_mode=ceil, count_include_pad=count_include_pad)
    x = torch.randn(2, 3, 23, 26, dtype=torch.float64)
    ref = pool(x[..., ::e, ::e])
    dense = EAvgPool2d.from_pool(pool, e, s if keep else 1)
    _close(dense(x), ref, e if keep else e * s, rtol=1e-12)


@pytest.mark.parametrize('k,s,p,ceil,e,keep', POOL_CASES)
@pytest.mark.parametrize('d', [1, 2])
def test_emaxpool(k: int, s: int, p: int, ceil: bool, e: int, keep: bool, d: int) -> None:
    pool = nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil)
    x = torch.randn(2, 3, 23, 26, dtype=torch.float64)
    ref = pool(x[..., ::e, ::e])
    dense = EMaxPool2d.from_pool(pool, e, s if keep else 1)
    _close(dense(x), ref, e if keep else e * s, rtol=0)


def test_avgpool_divisor_by_hand() -> None:
    """Corner of a 3x3 window with padding 1: 4 real pixels out of 9 taps."""
    x = torch.ones(1, 1, 8, 8, dtype=torch.float64)
    with_pad = EAvgPool2d(3, e=2, stride=1, padding=1, count_include_pad=True)(x)
    without = EAvgPool2d(3, e=2, stride=1, padding=1, count_include_pad=False)(x)
    assert with_pad[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert without[0, 0, 0, 0].item() == pytest.approx(1.0)


@pytest.mark.parametrize('e', [2, 3, 4])
def test_phase_decomposition(e: int) -> None:
    conv = nn.Conv2d(4, 6, 3, padding=1).double()
    x = torch.randn(2, 4, 31, 26, dtype=torch.float64)
    dense = PhaseDecomposed(conv, e)
    out = dense(x)
    assert out.shape[-2:] == x.shape[-2:]
    _close(out, conv(x[..., ::e, ::e]), e, rtol=1e-12)
    # a stride-1 layer's every phase is the layer on that sub-grid
    _close(out[..., 1:, e - 1:], conv(x[..., 1::e, e - 1::e]), e, rtol=1e-12)


def test_phase_decomposition_of_deformable_conv() -> None:
    """Bilinear sampling must interpolate between pixels e apart: phases do that."""
    from torchvision.ops import deform_conv2d

    class Deform(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 4, 3, 3, dtype=torch.float64))
            self.offset = nn.Conv2d(4, 18, 3, padding=1).double()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return deform_conv2d(x, self.offset(x), self.weight, padding=1)

    layer = Deform()
    x = torch.randn(1, 4, 20, 22, dtype=torch.float64)
    _close(PhaseDecomposed(layer, 2)(x), layer(x[..., ::2, ::2]), 2, rtol=1e-10)


@pytest.mark.parametrize('stride,e,keep', [(1, 2, 1), (2, 2, 1), (2, 1, 2), (1, 3, 1)])
def test_dcls_rule(stride: int, e: int, keep: int) -> None:
    """A DCLS layer after removed strides: its constructed kernel's taps spaced
    by e, the stride kept or removed."""
    torch.manual_seed(0)
    layer = Dcls2d(4, 6, 5, stride, 3, 7, version='v1').double().eval()
    x = torch.randn(1, 4, 30, 33, dtype=torch.float64)
    with torch.no_grad():
        ref = layer(x[..., ::e, ::e])
        dense = dense_layer(copy.deepcopy(layer), e, keep)
        _close(dense(x), ref, e * stride // keep, rtol=1e-10)


def test_rules_by_type_and_errors() -> None:
    class Blur(nn.Module):  # a stride-1 layer with its own (phase) rule
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)

    layer = Blur()
    with pytest.raises(DensifyError, match='Blur has no equivalent-stride rule'):
        dense_layer(layer, 2, 1)
    register_dense_rule(Blur)(lambda m, e, stride: PhaseDecomposed(m, e))
    try:
        x = torch.randn(1, 2, 16, 18)
        _close(dense_layer(layer, 2, 1)(x), layer(x[..., ::2, ::2]), 2, rtol=1e-6)
    finally:
        del _RULES[Blur]
    # subclasses take their base's rule: a designed-shape conv is a Conv2d
    from segkit.ops import ShapedConv2d

    conv = ShapedConv2d(2, 2, 3, 'qh-left', padding=1)
    assert dense_layer(conv, 2, 1) is conv and conv.dilation == (2, 2)
