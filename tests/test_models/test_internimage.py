"""InternImage: structure, sizes, output stride, official-checkpoint loading."""
from __future__ import annotations

import pytest
import torch

from segkit.models import InternImage
from segkit.models.checkpoint_utils import CheckpointMismatchError
from tests.helpers.backbones import check_output_stride, check_shapes_and_gradients

TINY = dict(channels=16, depths=[1, 1, 2, 1], groups=[2, 2, 4, 8], layer_scale=1.0,
            post_norm=False)


def _randomise(net: InternImage) -> InternImage:
    """Non-zero offsets and masks, so DCNv3 really deforms."""
    torch.manual_seed(0)
    for name, p in net.named_parameters():
        if '.offset.' in name or '.mask.' in name:
            p.data.normal_(0, 0.2)
    return net.eval()


@pytest.mark.parametrize('arch,expected', [('tiny', 29.9e6), ('small', 50.1e6),
                                           ('base', 97.5e6)])
def test_published_parameter_counts(arch: str, expected: float) -> None:
    """InternImage-T/S/B: 30M / 50M / 97M with the ImageNet classifier (paper)."""
    net = InternImage(arch)
    c = net.channels[-1]
    classifier = c * int(c * 1.5) + 2 * int(c * 1.5) + int(c * 1.5) * 1000 + 1000
    total = sum(p.numel() for p in net.parameters()) + classifier
    assert abs(total - expected) < 0.05e6


@pytest.mark.parametrize('post_norm', [False, True])
def test_shapes_gradients_and_no_nan(post_norm: bool) -> None:
    net = InternImage(dict(TINY, post_norm=post_norm, layer_scale=1e-5 if post_norm else None),
                      drop_path_rate=0.1, out_indices=(0, 1, 2, 3))
    net.init_weights()
    check_shapes_and_gradients(net, torch.randn(2, 3, 64, 48),
                               [(2, 16, 16, 12), (2, 32, 8, 6), (2, 64, 4, 3), (2, 128, 2, 2)])


@pytest.mark.parametrize('output_stride', [16, 8])
def test_output_stride_is_exact(output_stride: int) -> None:
    check_output_stride(_randomise(InternImage(TINY)),
                        InternImage(TINY, output_stride=output_stride), output_stride,
                        torch.randn(1, 3, 70, 64))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match='arch must be one of'):
        InternImage('huge')
    with pytest.raises(ValueError, match='arch dict needs'):
        InternImage(dict(channels=16))
    with pytest.raises(ValueError, match='output_stride must be'):
        InternImage(TINY, output_stride=12)
    with pytest.raises(ValueError, match='out_indices'):
        InternImage(TINY, out_indices=(4,))


def test_checkpoint_of_another_arch_is_refused(tmp_path) -> None:
    """(Official files reproduce the original: test_official_checkpoints.py.)"""
    path = tmp_path / 'ckpt.pth'
    torch.save({'model': InternImage(TINY).state_dict()}, path)
    wrong = InternImage(dict(TINY, depths=[2, 1, 2, 1]),
                        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointMismatchError,
                       match=r'does not fit this InternImage: 22 missing \[levels\.0\.blocks\.1\.'):
        wrong.init_weights()


@pytest.mark.slow
def test_convert_tool_refuses_a_file_without_the_backbone(tmp_path) -> None:
    from tests.helpers import run_tool_in_process

    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'model': {'conv.weight': torch.zeros(1)}}, src)
    bad = run_tool_in_process('tools/convert_checkpoint.py', 'internimage', src, dst, check=False)
    assert bad.returncode == 1 and 'holds no internimage backbone weights' in bad.stderr
    assert not dst.exists()


def test_layer_decay_optimizer() -> None:
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    from segkit.engine import internimage_layer_id

    depths = [1, 1, 2, 1]
    assert internimage_layer_id('backbone.patch_embed.conv1.weight', depths) == 0
    assert internimage_layer_id('backbone.levels.2.blocks.1.dcn.offset.weight', depths) == 4
    # the original gives a level's downsampler 1 + sum(depths[:i + 1]) (segkit had one less;
    # InternImage custom_layer_decay_optimizer_constructor.py L49-58)
    assert internimage_layer_id('backbone.levels.2.downsample.conv.weight', depths) == 5
    assert internimage_layer_id('decode_head.conv_seg.weight', depths) == 6
    model = MODELS.build(dict(
        type='EncoderDecoder', backbone=dict(type='InternImage', arch=TINY),
        decode_head=dict(type='FCNHead', in_channels=128, in_index=3, channels=8,
                         num_classes=3)))
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='InternImageLayerDecayOptimizerConstructor',
        paramwise_cfg=dict(layer_decay_rate=0.5)))  # depths: the backbone's
    groups = {id(g['params'][0]): g for g in wrapper.optimizer.param_groups}
    named = dict(model.named_parameters())
    stem = groups[id(named['backbone.patch_embed.conv1.weight'])]
    head = groups[id(named['decode_head.conv_seg.weight'])]
    gamma = groups[id(named['backbone.levels.0.blocks.0.gamma1'])]
    assert stem['lr'] == pytest.approx(0.5 ** 6) and head['lr'] == pytest.approx(1.0)
    assert stem['weight_decay'] == 0.05 and gamma['weight_decay'] == 0.0


def test_layer_decay_depths_come_from_the_backbone() -> None:
    """A hand-written copy that disagrees with the backbone is an error, not
    silently wrong layer ids."""
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    model = MODELS.build(dict(
        type='EncoderDecoder', backbone=dict(type='InternImage', arch=TINY),
        decode_head=dict(type='FCNHead', in_channels=128, in_index=3, channels=8,
                         num_classes=3)))
    assert model.backbone.depths == [1, 1, 2, 1]

    def build(depths):
        return build_optim_wrapper(model, dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0),
            constructor='InternImageLayerDecayOptimizerConstructor',
            paramwise_cfg=dict(depths=depths, layer_decay_rate=0.5)))

    same = build([1, 1, 2, 1])
    with pytest.raises(ValueError, match=r"paramwise_cfg.depths \[4, 4, 18, 4\] differ from the "
                                         r"backbone's \[1, 1, 2, 1\]"):
        build([4, 4, 18, 4])
    assert len(same.optimizer.param_groups) == len(list(model.parameters()))
