"""Equivalent stride: dense(x)[..., ::E, ::E] == strided(x), layer by layer and
for whole networks, with the strided original itself as the reference."""
from __future__ import annotations

import copy
import itertools

import pytest
import torch
import torch.nn as nn
import torchvision

from segkit.ops import (DensifyError, EAvgPool2d, EMaxPool2d, PhaseDecomposed, densify,
                        econv2d_)

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


# -- whole networks ---------------------------------------------------------

def _features(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    out = net(x)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _check_network(net: nn.Module, strides: list[int], output_stride: int,
                   sizes: tuple[tuple[int, int], ...] = ((64, 64), (75, 90))) -> None:
    net = _randomise_bn(net)
    dense = densify(net, output_stride)
    assert dense is not net
    for size in sizes:
        x = torch.randn(1, 3, *size)
        with torch.no_grad():
            refs, outs = _features(net, x), _features(dense, x)
        for ref, out, f in zip(refs, outs, strides):
            _close(out, ref, dense.dense_info.est(f), rtol=2e-5)
            assert out.shape[-1] >= ref.shape[-1] * min(f, output_stride) // f


@pytest.mark.parametrize('output_stride', [16, 8])
@pytest.mark.parametrize('arch', ['resnet18', 'resnet50'])
def test_torchvision_resnet(arch: str, output_stride: int) -> None:
    net = getattr(torchvision.models, arch)()
    body = torchvision.models._utils.IntermediateLayerGetter(
        net, {'layer1': '1', 'layer2': '2', 'layer3': '3', 'layer4': '4'})

    class Body(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = body

        def forward(self, x: torch.Tensor) -> tuple:
            return tuple(self.body(x).values())

    _check_network(Body(), [4, 8, 16, 32], output_stride)


@pytest.mark.parametrize('output_stride', [16, 8])
def test_torchvision_resnet_classifier_end(output_stride: int) -> None:
    """A global pooling at the very end pools only the original positions."""
    net = _randomise_bn(torchvision.models.resnet18())
    dense = densify(net, output_stride)
    x = torch.randn(2, 3, 70, 64)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), net(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('output_stride', [16, 8])
def test_torchvision_vgg11_bn(output_stride: int) -> None:
    _check_network(torchvision.models.vgg11_bn().features, [32], output_stride)


@pytest.mark.parametrize('output_stride', [16, 8])
def test_torchvision_convnext(output_stride: int) -> None:
    net = torchvision.models.convnext_tiny().features
    for block in net.modules():  # non-trivial layer scale
        if hasattr(block, 'layer_scale'):
            block.layer_scale.data.uniform_(0.5, 1.0)
    _check_network(net, [32], output_stride)


@pytest.mark.parametrize('output_stride', [16, 8])
@pytest.mark.parametrize('depth', [18, 50])
def test_mmseg_resnetv1c(depth: int, output_stride: int) -> None:
    from mmseg.models.backbones import ResNetV1c

    net = ResNetV1c(depth=depth, out_indices=(0, 1, 2, 3))
    _check_network(net, [4, 8, 16, 32], output_stride)


def test_mmseg_resnetv1d_avgpool_shortcut() -> None:
    """ResNetV1d downsamples its shortcut with AvgPool2d(ceil_mode, no pad count)."""
    from mmseg.models.backbones import ResNetV1d

    _check_network(ResNetV1d(depth=18, out_indices=(0, 1, 2, 3)), [4, 8, 16, 32], 8,
                   sizes=((64, 64), (77, 69)))


def test_original_is_untouched() -> None:
    net = torchvision.models.resnet18().eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    dense = densify(net, 8)
    assert net.layer4[0].conv1.stride == (2, 2) and net.layer4[0].conv1.dilation == (1, 1)
    assert dense.layer4[0].conv1.stride == (1, 1) and dense.layer4[0].conv1.dilation == (2, 2)
    assert dense.layer4[1].conv1.dilation == (4, 4) and dense.layer4[1].conv1.padding == (4, 4)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert dense.state_dict().keys() == net.state_dict().keys()


# -- limits -----------------------------------------------------------------

class _SqueezeExcite(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(self.pool(x)).sigmoid()


class _GRN(nn.Module):
    """ConvNeXt-V2's global response normalisation (channels first)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x.norm(p=2, dim=(2, 3), keepdim=True)
        return x * (g / (g.mean(dim=1, keepdim=True) + 1e-6))


def _net(*middle: nn.Module) -> nn.Sequential:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 2, 1), *middle,
                        nn.Conv2d(8, 8, 3, 2, 1))
    return net.eval()


def test_refuses_global_pool_in_the_middle() -> None:
    with pytest.raises(DensifyError, match=r'2\.pool \(AdaptiveAvgPool2d\) is a global pooling'):
        densify(_net(_SqueezeExcite(8)), 2)


def test_refuses_global_op_it_cannot_see() -> None:
    with pytest.raises(DensifyError, match=r'^2 \(_GRN\): dense output differs'):
        densify(_net(_GRN()), 2)


def test_refuses_unknown_resolution_change() -> None:
    with pytest.raises(DensifyError, match=r'2 \(PixelUnshuffle\) has no equivalent-stride'):
        densify(_net(nn.PixelUnshuffle(2), nn.Conv2d(32, 8, 1)), 2)

    class Halve(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[..., ::2, ::2]

    with pytest.raises(DensifyError, match=r'2 \(Halve\) changes the map'):
        densify(_net(Halve()), 2)


def test_train_mode_is_flagged() -> None:
    net = _net(nn.BatchNorm2d(8)).train()
    with pytest.warns(UserWarning, match='eval mode only'):
        dense = densify(net, 2)
    assert dense.training and net.training
