"""densify: whole networks made dense, exactly; each compared with the strided
original sampled every eST pixels, and the layers it refuses named."""
from __future__ import annotations


import pytest
import torch
import torch.nn as nn
import torchvision

from segkit.ops import Dcls2d, DensifyError, densify
from tests.test_ops.test_equivalent_stride import _close, _randomise_bn

torch.manual_seed(0)


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


@pytest.mark.parametrize('output_stride', [4, 2])
def test_network_with_dcls_layers(output_stride: int) -> None:
    """A strided CNN whose 5x5 convs are DCLS layers (one strided)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(),
                        Dcls2d(8, 8, 6, 2, 3, 7, groups=8, version='v0'), nn.ReLU(),
                        Dcls2d(8, 8, 4, 1, 2, 5, version='gauss'),
                        nn.Conv2d(8, 4, 3, 2, 1)).double().eval()
    dense = densify(net, output_stride)
    x = torch.randn(1, 3, 48, 40, dtype=torch.float64)
    with torch.no_grad():
        _close(dense(x), net(x), dense.dense_info.est(8), rtol=1e-10)


def _dcn_resnet(dcn: str, base_channels: int) -> nn.Module:
    """mmseg's ResNetV1c-50 with DCN / DCNv2 in conv3-conv5 (the DCNv2 paper's
    setting: every 3x3 of stages 2-4, the three strided ones included), in
    float64 with non-trivial BatchNorm and offsets of several pixels."""
    from mmseg.models.backbones import ResNetV1c

    torch.manual_seed(0)
    net = ResNetV1c(depth=50, stem_channels=base_channels, base_channels=base_channels,
                    out_indices=(0, 1, 2, 3), stage_with_dcn=(False, True, True, True),
                    dcn=dict(type=dcn, deform_groups=1, fallback_on_stride=False))
    net = _randomise_bn(net.double())
    with torch.no_grad():
        for name, m in net.named_modules():
            if name.endswith('conv_offset'):
                m.weight.normal_(0, 0.5 / (m.in_channels * 9) ** 0.5)
                m.bias.normal_(0, 2.0)  # offsets of a few pixels (and masks away from 0.5)
    return net


def _check_dcn_network(net: nn.Module, output_stride: int, size: tuple[int, int]) -> None:
    from segkit.ops import DeformConv2dPack, ModulatedDeformConv2dPack

    packs = (DeformConv2dPack, ModulatedDeformConv2dPack)
    assert sum(isinstance(m, packs) for m in net.modules()) == 13
    dense = densify(net, output_stride, probe_size=64)
    assert dense.layer3[0].conv2.stride == ((1, 1) if output_stride == 8 else (2, 2))
    assert dense.layer4[1].conv2.equivalent_stride == 32 // output_stride
    assert dense.layer4[1].conv2.conv_offset.dilation == (1, 1)  # inside the phases
    x = torch.randn(1, 3, *size, dtype=torch.float64)
    with torch.no_grad():
        refs, outs = _features(net, x), _features(dense, x)
    for ref, out, f in zip(refs, outs, [4, 8, 16, 32]):
        _close(out, ref, dense.dense_info.est(f), rtol=1e-8)
        assert out.shape[-1] >= ref.shape[-1] * min(f, output_stride) // f


@pytest.mark.parametrize('output_stride', [16, 8])
@pytest.mark.parametrize('dcn', ['DCN', 'DCNv2'])
def test_mmseg_dcn_resnet50_slim(dcn: str, output_stride: int) -> None:
    """A slim ResNetV1c-50 (16 base channels) with DCN / DCNv2 in conv3-conv5."""
    _check_dcn_network(_dcn_resnet(dcn, 16), output_stride, (64, 80))


@pytest.mark.slow
@pytest.mark.parametrize('output_stride', [16, 8])
def test_mmseg_dcnv2_resnet50(output_stride: int) -> None:
    """The full-width ResNetV1c-50-DCNv2 (float64, seconds per run)."""
    _check_dcn_network(_dcn_resnet('DCNv2', 64), output_stride, (64, 48))


def test_mmseg_dilated_dcn_resnet_is_not_the_strided_one() -> None:
    """Why densify for deformable ResNets: mmseg's hand-dilated D8 (strides
    (1, 2, 1, 1), dilations (1, 1, 2, 4)) spaces a DCN layer's taps but
    interpolates between neighbouring pixels of the dense map and reads its
    offsets in dense pixels, so with the strided network's weights it
    computes something else, except at zero offsets."""
    from mmseg.models.backbones import ResNetV1c

    net = _dcn_resnet('DCNv2', 16)
    d8 = ResNetV1c(depth=50, stem_channels=16, base_channels=16, out_indices=(3,),
                   stage_with_dcn=(False, True, True, True), strides=(1, 2, 1, 1),
                   dilations=(1, 1, 2, 4), contract_dilation=True,
                   dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False))
    d8 = _randomise_bn(d8.double())
    d8.load_state_dict(net.state_dict())
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        ref, dilated = net(x)[3], d8(x)[0]
        assert ((dilated[..., ::4, ::4] - ref).abs().max() / ref.abs().max()) > 1e-2
        for name, m in net.named_modules():
            if name.endswith('conv_offset'):
                m.weight.zero_()
                m.bias.zero_()
        d8.load_state_dict(net.state_dict())
        _close(d8(x)[0], net(x)[3], 4, rtol=1e-10)


# -- every operator family after a removed stride ---------------------------

class _ToNHWC(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


class _ToNCHW(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


def _family_layer(family: str, stride: int) -> nn.Module:
    """One layer of ``family`` with 8 channels and ``stride`` (the channels-last
    operators between permutes, as a plain PyTorch model would hold them)."""
    from segkit.ops import (DCNv3, DCNv4, DeformConv2dPack, ModulatedDeformConv2dPack,
                            ShapedConv2d)

    if family == 'DCN':
        return DeformConv2dPack(8, 8, 3, stride, 1)
    if family == 'DCNv2':
        return ModulatedDeformConv2dPack(8, 8, 3, stride, 1)
    if family == 'DCNv3':
        return nn.Sequential(_ToNHWC(), DCNv3(8, 3, stride=stride, pad=1, group=2), _ToNCHW())
    if family == 'DCNv4':  # stride 1 only, as the original module
        return nn.Sequential(_ToNHWC(), DCNv4(8, 3, pad=1, group=2, dw_kernel_size=3),
                             _ToNCHW())
    if family == 'DCLS':
        return Dcls2d(8, 8, 5, stride, 3, 7, version='gauss')
    if family == 'shaped':
        return ShapedConv2d(8, 8, 3, 'qh-mixed', stride, 1)
    if family == 'maxpool':
        return nn.MaxPool2d(3, stride, 1)
    assert family == 'avgpool'
    return nn.AvgPool2d(3, stride, 1, count_include_pad=False)


FAMILIES = ['DCN', 'DCNv2', 'DCNv3', 'DCNv4', 'DCLS', 'shaped', 'maxpool', 'avgpool']
# (family, the operator's own stride); DCNv4 predicts its offsets at input
# resolution, so it has stride 1 only (as the original module)
CASES = [(f, s) for f in FAMILIES for s in (1, 2) if (f, s) != ('DCNv4', 2)]


def _randomised(net: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter random (offset and mask predictors included: they are
    zero-initialised, which makes a deformable layer's output constant), in
    float64, eval mode."""
    generator = torch.Generator().manual_seed(seed)
    net = net.double()
    net.eval()  # NOTE: mmseg's ResNet.train() returns None, so no chaining
    with torch.no_grad():
        for p in net.parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) / fan_in ** 0.5)
    return net


@pytest.mark.parametrize('family,layer_stride', CASES)
def test_every_family_after_a_removed_stride(family: str, layer_stride: int) -> None:
    """``Conv(s2) -> Conv(s2) -> operator -> Conv(s2)`` densified to output
    stride 2: the operator runs on a map 2x denser than its weights were made
    for (4x after its own stride); with random weights and offsets the dense
    network equals the strided one at every stride position."""
    net = _randomised(nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1),
        _family_layer(family, layer_stride), nn.ReLU(), nn.Conv2d(8, 4, 3, 2, 1)))
    dense = densify(net, 2, probe_size=64)
    est = dense.dense_info.est(8 * layer_stride)
    for size in ((64, 64), (75, 90)):
        x = torch.randn(1, 3, *size, dtype=torch.float64)
        with torch.no_grad():
            ref, out = net(x), dense(x)
        _close(out, ref, est, rtol=1e-10)
        # the operator's own output, every position of the original's map
        with torch.no_grad():
            ref3, out3 = net[:4](x), dense[:4](x)
        _close(out3, ref3, dense.dense_info.est(4 * layer_stride), rtol=1e-10)


def test_a_wrong_deformable_rule_is_caught_at_build_time() -> None:
    """A DCNv4 rule that dilates the sampling grid as for a convolution
    leaves the offsets in pixels of the original map and interpolates
    between dense neighbours: exact only at zero offsets, so with its
    zero-initialised offset/mask predictor (a constant output) the old
    check passed it. The build-time check runs on randomised weights and
    names the layer."""
    import dataclasses

    from segkit.ops import DCNv4
    from segkit.ops.equivalent_stride import _RULES, register_dense_rule

    class ScaledOffsets(DCNv4):
        pass

    def wrong(layer: DCNv4, e: int, stride: int) -> DCNv4:
        g = layer.geometry
        layer.geometry = dataclasses.replace(g, pad_h=g.pad_h * e, pad_w=g.pad_w * e,
                                             dilation_h=g.dilation_h * e,
                                             dilation_w=g.dilation_w * e)
        return layer

    register_dense_rule(ScaledOffsets, channels_last=True)(wrong)
    try:
        net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), _ToNHWC(), ScaledOffsets(8, group=2),
                            _ToNCHW()).eval()  # fresh: zero offsets and masks
        with pytest.raises(DensifyError, match=r'^2 \(ScaledOffsets\): dense output differs'):
            densify(net, 1)
        # what the old check (the fresh weights only) saw
        dense = densify(net, 1, verify=False)
        x = torch.randn(1, 3, 32, 32)
        with torch.no_grad():
            _close(dense(x), net(x), 2, rtol=1e-6)
    finally:
        del _RULES[ScaledOffsets]
