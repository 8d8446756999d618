"""Designed kernel shapes in mmseg: the 'Shaped' conv layer, the orientation
policy, ShapedBackbone (ResNet-qh) and ConvNeXt's 'shaped' mixer."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import torch
from mmcv.cnn import build_conv_layer
from mmengine.logging import MMLogger
from mmseg.registry import MODELS

from segkit.models import ConvNeXt, shape_convs
from segkit.models.checkpoint_utils import CheckpointMismatchError
from segkit.ops import ShapedConv2d, kernel_footprint
from tests.helpers import REPO, SAMPLE_CONFIG, run_tool_in_process, sample_cfg_options
from tests.helpers.backbones import check_output_stride, check_shapes_and_gradients

R18 = dict(type='ResNetV1c', depth=18)


def _log_of(fn) -> list[str]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        fn()
    finally:
        logger.removeHandler(handler)
    return [r.getMessage() for r in records]


def test_conv_layer_shapes_kxk_and_leaves_1x1() -> None:
    conv = build_conv_layer(dict(type='Shaped', shape='qh-up'), 8, 16, 3, padding=1)
    assert isinstance(conv, ShapedConv2d) and conv.shape == 'qh-up'
    assert conv(torch.randn(1, 8, 12, 12)).shape == (1, 16, 12, 12)
    pointwise = build_conv_layer(dict(type='Shaped', shape='qh-up'), 8, 16, 1)
    assert type(pointwise) is torch.nn.Conv2d


def test_resnet18_qh_has_seven_ninths_of_the_3x3_weights() -> None:
    square = MODELS.build(R18)
    shaped = MODELS.build(dict(type='ShapedBackbone', backbone=R18))

    def weights(net: torch.nn.Module, taps: int) -> int:
        return sum(p.numel() for n, p in net.named_parameters()
                   if n.endswith('weight') and p.dim() >= 3 and p.shape[2:].numel() == taps)

    assert weights(square, 9) == 9 * weights(shaped.backbone, 7) // 7
    assert weights(shaped.backbone, 9) == 0  # every 3x3 conv shaped, the stem's included
    other = sum(p.numel() for p in square.parameters()) - weights(square, 9)
    total = sum(p.numel() for p in shaped.parameters())
    assert total == other + weights(square, 9) * 7 // 9
    # the paper's layer-wise deployment: orientations cycle in registration order
    shapes = [m.shape for m in shaped.modules() if isinstance(m, ShapedConv2d)]
    assert len(shapes) == len(shaped.shaped) == 19 and shapes[:5] == [
        'qh-right', 'qh-down', 'qh-left', 'qh-up', 'qh-right']


def test_policy_qh_mixed_and_bad_names() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Conv2d(8, 8, 1),
                              torch.nn.Conv2d(8, 8, 5))
    assert shape_convs(net, 'qh-mixed', kernel_sizes=(3, 5)) == ['0', '2']
    assert net[0].shape == net[2].shape == 'qh-mixed' and type(net[1]) is torch.nn.Conv2d
    with pytest.raises(ValueError, match='shape must be one of'):
        shape_convs(net, 'hexagonal')


def test_square_imagenet_weights_load_with_their_kept_taps(tmp_path: Path) -> None:
    square = MODELS.build(R18)
    path = tmp_path / 'resnet18_v1c.pth'
    torch.save({'state_dict': {**square.state_dict(), 'fc.weight': torch.zeros(2, 512)}}, path)
    shaped = MODELS.build(dict(type='ShapedBackbone', backbone=dict(
        R18, init_cfg=dict(type='Pretrained', checkpoint=str(path)))))
    said = _log_of(shaped.init_weights)
    conv = shaped.backbone.layer2[0].conv1
    mask = conv.footprint[:, None].expand_as(square.layer2[0].conv1.weight)
    torch.testing.assert_close(conv.construct_kernel(), square.layer2[0].conv1.weight * mask,
                               rtol=0, atol=0)
    torch.testing.assert_close(shaped.backbone.layer2[0].bn1.weight,
                               square.layer2[0].bn1.weight)
    line = next(m for m in said if '19 convs shaped (cycle)' in m)
    assert re.search(r'the dropped taps held \d+\.\d% of their weights', line)
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)}}, path)
    with pytest.raises(CheckpointMismatchError,
                       match=r'does not fit this ResNetV1c: 132 missing \[stem'):
        shaped.init_weights()


@pytest.mark.parametrize('output_stride', [16, 8])
def test_dense_shaped_resnet_is_exact(output_stride: int) -> None:
    torch.manual_seed(0)
    shaped = MODELS.build(dict(type='ShapedBackbone', backbone=R18))
    dense = MODELS.build(dict(type='DenseBackbone', output_stride=output_stride,
                              backbone=dict(type='ShapedBackbone', backbone=R18)))
    dense.load_state_dict({f'backbone.{k}': v for k, v in shaped.state_dict().items()})
    shaped.eval()
    dense.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        refs, outs = shaped(x), dense(x)
    for i, (ref, out) in enumerate(zip(refs, outs, strict=True)):
        e = max(1, 4 * 2 ** i // output_stride)
        torch.testing.assert_close(out[..., ::e, ::e], ref, rtol=1e-4, atol=1e-4)


ARCH = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])


def test_convnext_hex_mixers() -> None:
    net = ConvNeXt(ARCH, token_mixer='shaped')
    mixers = [block.dwconv for stage in net.stages for block in stage]
    assert [m.shape for m in mixers] == ['qh-right', 'qh-down', 'qh-left', 'qh-up', 'qh-right']
    assert all(m.weight.shape[2] == 37 and torch.equal(m.footprint[0],
                                                        kernel_footprint(m.shape, 7))
               for m in mixers)
    check_shapes_and_gradients(net, torch.randn(2, 3, 64, 48),
                               [(2, 8, 16, 12), (2, 16, 8, 6), (2, 32, 4, 3), (2, 64, 2, 1)])
    mixed = ConvNeXt(ARCH, token_mixer=dict(type='shaped', shape='qh-mixed'))
    assert {block.dwconv.shape for stage in mixed.stages for block in stage} == {'qh-mixed'}


@pytest.mark.parametrize('output_stride', [16, 8])
def test_convnext_hex_output_stride_is_exact(output_stride: int) -> None:
    torch.manual_seed(0)
    check_output_stride(ConvNeXt(ARCH, token_mixer='shaped'),
                        ConvNeXt(ARCH, token_mixer='shaped', output_stride=output_stride),
                        output_stride, torch.randn(1, 3, 70, 64))


def test_convnext_hex_from_the_released_square_layout(tmp_path: Path) -> None:
    """A ConvNeXt file in the released layout (tests/data/official/convnext.pt,
    made with the original class) loads into a 'shaped' model: the kept taps of
    each 7x7 depthwise kernel, everything else unchanged."""
    golden = torch.load(REPO / 'tests/data/official/convnext.pt', weights_only=True)
    path = tmp_path / 'convnext_tiny_1k_224.pth'
    torch.save(golden['checkpoint'], path)
    args = golden['args']
    net = ConvNeXt(dict(depths=args['depths'], channels=args['dims']), token_mixer='shaped',
                   init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    said = _log_of(net.init_weights)
    assert any('shaped mixers (cycle) keep 37 of 49 taps' in m for m in said)
    square = golden['checkpoint']['model']
    for name, module in net.named_modules():
        if isinstance(module, ShapedConv2d):
            weight = square[f'{name}.weight']
            mask = module.footprint[:, None].expand_as(weight)
            torch.testing.assert_close(module.construct_kernel(), weight * mask, rtol=0, atol=0)
    torch.testing.assert_close(net.stages[2][1].pwconv1.weight,
                               square['stages.2.1.pwconv1.weight'])


@pytest.mark.slow
def test_a_tiny_shaped_model_trains_and_its_loss_falls(sample_root: Path,
                                                       tmp_path: Path) -> None:
    config = SAMPLE_CONFIG.parent / 'fcn_dense-r18-qh_sample-128x128.py'
    result = run_tool_in_process('tools/train.py', config, '--work-dir', tmp_path, '--cfg-options',
                                 *sample_cfg_options(sample_root, max_iters=30, interval=30),
                                 'default_hooks.logger.interval=10')
    log = result.stdout + result.stderr
    losses = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/30\].*? loss: ([\d.]+)', log)]
    assert len(losses) >= 3 and losses[-1] < losses[0], losses
    assert (tmp_path / 'iter_30.pth').is_file()
