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
