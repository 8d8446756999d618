"""DCN and DCNv2 in mmseg's ResNets (``dcn=dict(type='DCN' | 'DCNv2')``, the
conv layers mmcv registers) on mmcv-lite, their initialisation inside a model
as mmcv's, and ImageNet weights loaded strictly with the offset convs fresh
(``init_cfg=dict(type='StrictPretrained', fresh=('conv_offset',))``)."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmseg.registry import MODELS

from segkit.models.checkpoint_utils import CheckpointMismatchError
from segkit.ops import DeformConv2dPack, ModulatedDeformConv2dPack

PACKS = {'DCN': DeformConv2dPack, 'DCNv2': ModulatedDeformConv2dPack}


def _resnet(dcn: str | None = 'DCNv2', **kwargs) -> dict:
    """A slim ResNetV1c-50 (16 base channels: stages of 64, 128, 256, 512),
    deformable in conv3-conv5 as in the DCNv2 paper."""
    cfg = dict(type='ResNetV1c', depth=50, stem_channels=16, base_channels=16,
               out_indices=(0, 1, 2, 3), **kwargs)
    if dcn is not None:
        cfg.update(dcn=dict(type=dcn, deform_groups=1, fallback_on_stride=False),
                   stage_with_dcn=(False, True, True, True))
    return cfg


@pytest.mark.parametrize('dcn', ['DCN', 'DCNv2'])
def test_builds_runs_and_trains(dcn: str) -> None:
    # NOTE: zero_init_residual would give conv2 (and its offsets) no gradient at first
    net = MODELS.build(_resnet(dcn, zero_init_residual=False))
    net.init_weights()
    layers = [n for n, m in net.named_modules() if isinstance(m, PACKS[dcn])]
    assert len(layers) == 13 and layers[0] == 'layer2.0.conv2'  # every 3x3 of stages 2-4
    assert type(net.layer1[0].conv2) is nn.Conv2d
    conv2 = net.layer3[0].conv2
    assert conv2.stride == conv2.conv_offset.stride == (2, 2)
    assert getattr(conv2, 'bias', None) is None  # mmseg builds it with bias=False
    x = torch.randn(2, 3, 64, 48)
    outs = net(x)
    assert [tuple(o.shape[1:]) for o in outs] == [(64, 16, 12), (128, 8, 6), (256, 4, 3),
                                                 (512, 2, 2)]
    sum(o.square().mean() for o in outs).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.isfinite().all(), name
    offsets = [p.grad for n, p in net.named_parameters() if n.endswith('conv_offset.weight')]
    assert all(g.abs().max() > 0 for g in offsets)  # the offsets learn from the start


def test_init_weights_per_class_as_mmcv() -> None:
    """Inside mmseg's ResNet (default init: Kaiming for every Conv2d, then
    each child's own init_weights()): DCNv2's init_weights() zeros its offset
    conv again and redraws its weight (U(+-1/sqrt(in*9))); DCN has none, so its
    offset conv keeps the parent's Kaiming init, as with mmcv 2.1.0."""
    torch.manual_seed(0)
    v2 = MODELS.build(_resnet('DCNv2'))
    v2.init_weights()
    conv2 = v2.layer4[1].conv2
    assert (conv2.conv_offset.weight == 0).all() and (conv2.conv_offset.bias == 0).all()
    assert conv2.weight.abs().max() <= 1 / math.sqrt(conv2.in_channels * 9)
    v1 = MODELS.build(_resnet('DCN'))
    v1.init_weights()
    assert v1.layer4[1].conv2.conv_offset.weight.abs().max() > 0
    v1.layer4[1].conv2.init_offset()  # mmcv's method for zero offsets
    assert (v1.layer4[1].conv2.conv_offset.weight == 0).all()


def test_resnext_with_dcn() -> None:
    """mmseg's ResNeXt passes its groups to the deformable conv."""
    net = MODELS.build(dict(type='ResNeXt', depth=50, groups=4, base_width=4, stem_channels=16,
                            base_channels=16, out_indices=(3,), stage_with_dcn=(False, True,
                                                                                True, True),
                            dcn=dict(type='DCNv2', deform_groups=2, fallback_on_stride=False)))
    conv2 = net.layer2[0].conv2
    assert isinstance(conv2, ModulatedDeformConv2dPack)
    assert (conv2.groups, conv2.deform_groups, conv2.conv_offset.out_channels) == (4, 2, 54)
    assert net(torch.randn(1, 3, 64, 64))[0].shape == (1, 512, 2, 2)


@pytest.fixture
def imagenet_file(tmp_path: Path) -> tuple[Path, dict]:
    """The square ResNetV1c's weights as an ImageNet file: a classifier too."""
    torch.manual_seed(1)
    plain = MODELS.build(_resnet(None, zero_init_residual=False))
    plain.init_weights()
    for m in plain.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    state = plain.state_dict()
    path = tmp_path / 'resnet50_v1c.pth'
    torch.save({'state_dict': {**state, 'fc.weight': torch.randn(10, 512 * 4),
                               'fc.bias': torch.randn(10)}}, path)
    return path, state


@pytest.mark.parametrize('dcn', ['DCN', 'DCNv2'])
def test_strict_pretrained_starts_only_the_offset_convs_fresh(
        dcn: str, imagenet_file: tuple[Path, dict], caplog: pytest.LogCaptureFixture) -> None:
    path, state = imagenet_file
    init = dict(type='StrictPretrained', checkpoint=str(path), fresh=('conv_offset',))
    net = MODELS.build(_resnet(dcn, init_cfg=init))
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO):
            net.init_weights()
    finally:
        logger.removeHandler(caplog.handler)
    loaded = net.state_dict()
    for key, value in state.items():  # the deformable convs' weights too
        assert torch.equal(loaded[key], value), key
    fresh = sorted(set(loaded) - set(state))
    assert len(fresh) == 26 and all('.conv_offset.' in k for k in fresh)
    assert all((loaded[k] == 0).all() for k in fresh)  # zero offsets: the square network
    assert '26 keys of 13 layers start fresh' in caplog.text
    if dcn == 'DCN':  # zero offsets: the square ResNet it was loaded from
        x = torch.randn(1, 3, 64, 64)
        plain = MODELS.build(_resnet(None, zero_init_residual=False))
        plain.load_state_dict(state)
        net.eval()
        plain.eval()
        with torch.no_grad():
            for a, b in zip(net(x), plain(x)):
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_strict_pretrained_refuses_anything_else_missing_or_unexpected(
        imagenet_file: tuple[Path, dict], tmp_path: Path) -> None:
    path, state = imagenet_file

    def load(checkpoint: Path, fresh: tuple[str, ...] = ('conv_offset',)) -> None:
        init = dict(type='StrictPretrained', checkpoint=str(checkpoint), fresh=fresh)
        MODELS.build(_resnet('DCNv2', init_cfg=init)).init_weights()

    with pytest.raises(CheckpointMismatchError, match=r'missing \[layer2\.0\.conv2\.conv_offset'):
        load(path, fresh=())
    partial = dict(state)
    del partial['layer3.2.bn1.running_var']
    torch.save(partial, tmp_path / 'partial.pth')
    with pytest.raises(CheckpointMismatchError, match=r"1 missing \[layer3\.2\.bn1\.running_var\]"):
        load(tmp_path / 'partial.pth')
    torch.save({**state, 'layer5.conv.weight': torch.zeros(1)}, tmp_path / 'extra.pth')
    with pytest.raises(CheckpointMismatchError, match=r"1 unexpected \[layer5\.conv\.weight\]"):
        load(tmp_path / 'extra.pth')


def test_dense_dcn_backbone_loads_and_equals_the_strided_one(
        imagenet_file: tuple[Path, dict]) -> None:
    """DenseBackbone over the DCNv2 ResNet: the same keys load (densifying
    renames nothing) and, with random offsets, sampled at its eST it is the
    strided network."""
    path, _ = imagenet_file
    init = dict(type='StrictPretrained', checkpoint=str(path), fresh=('conv_offset',))
    dense = MODELS.build(dict(type='DenseBackbone', output_stride=8, probe_size=64,
                              backbone=_resnet('DCNv2', init_cfg=init)))
    dense.init_weights()
    strided = MODELS.build(_resnet('DCNv2'))
    with torch.no_grad():
        for name, p in dense.backbone.named_parameters():
            if 'conv_offset' in name:
                p.normal_(0, 0.05)
    strided.load_state_dict(dense.backbone.state_dict())
    dense.eval()
    strided.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs, refs = dense(x), strided(x)
    for out, ref, est in zip(outs, refs, (1, 1, 2, 4)):
        torch.testing.assert_close(out[..., ::est, ::est], ref, rtol=1e-4, atol=1e-4)
