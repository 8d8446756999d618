"""DCNv3 as an mmcv conv layer and the DCNv3 UPerNet head."""
from __future__ import annotations

import pytest
import torch
from mmcv.cnn import ConvModule, build_conv_layer
from mmseg.registry import MODELS

from segkit.models import DCNv3Conv2d
from segkit.ops import DCNv3


def test_conv_layer_matches_the_module_it_wraps() -> None:
    layer = build_conv_layer(dict(type='DCNv3', deform_groups=2), 8, 8, 3, padding=1)
    assert isinstance(layer, DCNv3Conv2d)
    x = torch.randn(2, 8, 10, 11)
    torch.testing.assert_close(layer(x), layer.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
    wider = build_conv_layer(dict(type='DCNv3', deform_groups=2), 8, 12, 3, padding=1)
    assert wider(x).shape == (2, 12, 10, 11)
    with pytest.raises(ValueError, match='offset groups are deform_groups'):
        build_conv_layer(dict(type='DCNv3'), 8, 8, 3, groups=8)


def test_conv_module_with_dcnv3_trains() -> None:
    block = ConvModule(8, 8, 3, padding=1, conv_cfg=dict(type='DCNv3', deform_groups=4),
                       norm_cfg=dict(type='BN'))
    block.init_weights()
    out = block(torch.randn(2, 8, 9, 9))
    out.mean().backward()
    assert all(p.grad is not None for p in block.parameters())


def test_dcnv3_uperhead() -> None:
    channels = [8, 16, 32, 64]
    head = MODELS.build(dict(type='DCNv3UPerHead', in_channels=channels, in_index=[0, 1, 2, 3],
                             channels=16, num_classes=5, deform_groups=4,
                             norm_cfg=dict(type='BN')))
    assert all(isinstance(m.conv, DCNv3Conv2d) for m in head.fpn_convs)
    assert isinstance(head.fpn_bottleneck.conv, DCNv3Conv2d)
    feats = [torch.randn(2, c, 32 // 2 ** i, 32 // 2 ** i) for i, c in enumerate(channels)]
    out = head(feats)
    assert out.shape == (2, 5, 32, 32) and torch.isfinite(out).all()
    out.square().mean().backward()
    dcn = [m for m in head.modules() if isinstance(m, DCNv3)]
    assert len(dcn) == 4 and all(m.input_proj.weight.grad is not None for m in dcn)


def test_dcnv4_conv_layer() -> None:
    from segkit.models import DCNv4Conv2d

    layer = build_conv_layer(dict(type='DCNv4', deform_groups=2), 16, 24, 3, padding=1)
    assert isinstance(layer, DCNv4Conv2d) and layer.dcn.group == 2
    x = torch.randn(2, 16, 9, 10)
    expected = layer.proj(layer.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
    torch.testing.assert_close(layer(x), expected)
    with pytest.raises(ValueError, match='stride 1 and "same" padding'):
        build_conv_layer(dict(type='DCNv4'), 16, 16, 3, stride=2, padding=1)


@pytest.mark.parametrize('layer,stride', [('DCNv3', 1), ('DCNv3', 2), ('DCNv4', 1)])
def test_conv_layers_densify_exactly(layer: str, stride: int) -> None:
    """``conv_cfg=dict(type='DCNv3' | 'DCNv4')`` layers after a stride that
    densify removes (the case that failed, or for DCNv4 passed a zero-offset
    check and was silently wrong): with random weights and offsets the dense
    network equals the strided one at every stride position."""
    from segkit.ops import densify
    from tests.test_ops.test_densify import _randomised
    from tests.test_ops.test_equivalent_stride import _close

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, 2, 1), torch.nn.Conv2d(8, 8, 3, 2, 1),
        build_conv_layer(dict(type=layer, deform_groups=2), 8, 12, 3, stride=stride,
                         padding=1),
        torch.nn.Conv2d(12, 4, 3, 2, 1))
    net = _randomised(net)
    dense = densify(net, 2, probe_size=64)
    assert dense[2].dcn.equivalent_stride == 2
    x = torch.randn(1, 3, 70, 58, dtype=torch.float64)
    with torch.no_grad():
        _close(dense(x), net(x), dense.dense_info.est(8 * stride), rtol=1e-10)


def test_segkit_conv_layers_are_registered_on_every_install() -> None:
    """build_conv_layer builds segkit's classes for the six conv-layer types,
    also where compiled mmcv registered its own 'DCN' / 'DCNv2' first (a
    registry holding other classes under those names, as mmcv.ops leaves it)."""
    from mmengine.registry import MODELS as MMENGINE_MODELS
    from mmengine.registry import Registry

    from segkit.models.conv_layers import CONV_LAYERS, register_conv_layers
    from segkit.ops import DeformConv2dPack, ModulatedDeformConv2dPack

    assert set(CONV_LAYERS) == {'DCN', 'DCNv2', 'DCNv3', 'DCNv4', 'DCLS', 'Shaped'}
    for name, layer in CONV_LAYERS.items():
        assert MMENGINE_MODELS.get(name) is layer
    assert isinstance(build_conv_layer(dict(type='DCN'), 4, 4, 3), DeformConv2dPack)
    assert isinstance(build_conv_layer(dict(type='DCNv2'), 4, 4, 3), ModulatedDeformConv2dPack)
    with_mmcv = Registry('models with compiled mmcv')
    for name in ('DCN', 'DCNv2'):
        with_mmcv.register_module(name, module=type(f'Mmcv{name}', (torch.nn.Module,), {}))
    register_conv_layers(with_mmcv)
    assert with_mmcv.get('DCN') is DeformConv2dPack
    assert with_mmcv.get('DCNv2') is ModulatedDeformConv2dPack
