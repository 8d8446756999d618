"""DenseBackbone: densified ResNetV1c equals mmseg's own dilated ResNetV1c."""
from __future__ import annotations

import pytest
import torch
from mmseg.registry import MODELS

from tests.test_ops.test_equivalent_stride import _randomise_bn


def test_equals_mmseg_dilated_resnetv1c_50() -> None:
    dense = MODELS.build(dict(type='DenseBackbone', output_stride=8,
                              backbone=dict(type='ResNetV1c', depth=50)))
    dilated = MODELS.build(dict(type='ResNetV1c', depth=50, strides=(1, 2, 1, 1),
                                dilations=(1, 1, 2, 4), contract_dilation=True))
    _randomise_bn(dense.backbone)
    # same weights: densifying renames nothing
    missing = dilated.load_state_dict(dense.backbone.state_dict(), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    dense.eval()
    dilated.eval()
    x = torch.randn(1, 3, 72, 88)
    with torch.no_grad():
        ours, theirs = dense(x), dilated(x)
    assert [o.shape[1:] for o in ours] == [o.shape[1:] for o in theirs]
    assert [o.shape[-1] for o in ours] == [22, 11, 11, 11]
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_output_strides_channels_and_gradients() -> None:
    net = MODELS.build(dict(type='DenseBackbone', output_stride=16,
                            backbone=dict(type='ResNetV1c', depth=18, stem_channels=16,
                                          base_channels=8)))
    net.train()
    x = torch.randn(2, 3, 64, 64)
    outs = net(x)
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 16, 16), (16, 8, 8), (32, 4, 4),
                                                   (64, 4, 4)]
    sum(o.mean() for o in outs).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in net.parameters() if p.requires_grad)


def test_bad_arguments() -> None:
    with pytest.raises(Exception, match='output_stride must be >= 1'):
        MODELS.build(dict(type='DenseBackbone', output_stride=0,
                          backbone=dict(type='ResNetV1c', depth=18)))
    with pytest.raises(KeyError, match='NoSuchNet'):
        MODELS.build(dict(type='DenseBackbone', backbone=dict(type='NoSuchNet')))


def test_pretrained_init_cfg_loads_into_dense_copy(tmp_path) -> None:
    source = MODELS.build(dict(type='ResNetV1c', depth=18, base_channels=8, stem_channels=8))
    path = tmp_path / 'r18.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    net = MODELS.build(dict(type='DenseBackbone', output_stride=8, backbone=dict(
        type='ResNetV1c', depth=18, base_channels=8, stem_channels=8,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))))
    net.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(net.backbone.state_dict()[key], value)


def _dcnv3_resnet(**kwargs) -> dict:
    """A slim ResNetV1c-50 whose 3x3 convs of stages 2-4 are DCNv3 conv layers
    (the strided ones included)."""
    return dict(type='ResNetV1c', depth=50, stem_channels=8, base_channels=8,
                stage_with_dcn=(False, True, True, True),
                dcn=dict(type='DCNv3', deform_groups=2, fallback_on_stride=False), **kwargs)


def test_dcnv3_resnet_dense_after_loading_weights(tmp_path) -> None:
    """DenseBackbone over a ResNet with DCNv3 conv layers: verified at build
    time on random weights, and by verify() again once a checkpoint with
    offsets of a few pixels is loaded; the outputs equal the strided
    network's with the same weights."""
    from tests.test_ops.test_densify import _randomised
    from tests.test_ops.test_equivalent_stride import _close

    source = _randomised(MODELS.build(_dcnv3_resnet())).float()
    path = tmp_path / 'r50-dcnv3.pth'
    torch.save({'state_dict': source.state_dict()}, path)
    net = MODELS.build(dict(type='DenseBackbone', output_stride=8, probe_size=64,
                            backbone=_dcnv3_resnet(init_cfg=dict(type='Pretrained',
                                                                 checkpoint=str(path)))))
    net.init_weights()
    net.eval()
    net.verify()
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        for out, ref, f in zip(net(x), source(x), (4, 8, 16, 32)):
            _close(out, ref, f // min(f, 8), rtol=1e-4)


def test_verify_catches_a_wrong_rule_after_loading(tmp_path) -> None:
    """A DenseBackbone built without its check, with a wrong rule for the
    DCNv3 conv layer (its grid dilated as for a convolution, the offsets
    left as they are): fresh, its zero offsets hide the error; verify() with
    loaded offsets names it."""
    from segkit.errors import DensifyError
    from segkit.models.conv_layers import ChannelsLastDeformConv
    from segkit.ops.equivalent_stride import _RULES, register_dense_rule
    from tests.test_ops.test_densify import _randomised

    def wrong(layer: ChannelsLastDeformConv, e: int, stride: int) -> ChannelsLastDeformConv:
        import dataclasses

        from segkit.ops import econv2d_

        g, dcn = layer.dcn.geometry, layer.dcn
        dcn.geometry = dataclasses.replace(g, stride_h=stride, stride_w=stride,
                                           pad_h=g.pad_h * e, pad_w=g.pad_w * e,
                                           dilation_h=g.dilation_h * e,
                                           dilation_w=g.dilation_w * e)
        econv2d_(dcn.dw_conv[0], e, stride)
        dcn.stride, dcn.dense_stride = stride, (stride, stride)
        return layer

    saved = _RULES[ChannelsLastDeformConv]
    register_dense_rule(ChannelsLastDeformConv)(wrong)
    try:
        source = _randomised(MODELS.build(_dcnv3_resnet())).float()
        path = tmp_path / 'r50-dcnv3.pth'
        torch.save({'state_dict': source.state_dict()}, path)
        net = MODELS.build(dict(type='DenseBackbone', output_stride=16, probe_size=64,
                                verify=False, backbone=_dcnv3_resnet(
                                    init_cfg=dict(type='Pretrained', checkpoint=str(path)))))
        net.verify()  # fresh: zero offsets, samples on integer positions
        net.init_weights()
        # layer4.0.conv2 (stride 2 removed, e = 1) is right; layer4.1.conv2 sees e = 2
        with pytest.raises(DensifyError, match=r'^layer4\.1\.conv2 \(DCNv3Conv2d\): dense '
                                               'output differs'):
            net.verify()
    finally:
        _RULES[ChannelsLastDeformConv] = saved
