"""The FlashInternImage UPerNet configs equal the original recipe, field by field.

The original: OpenGVLab/DCNv4 @ 4b848f7dd7da74ff03f7d278f902c6fd05b391b5,
segmentation/configs/ade20k/upernet_flash_internimage_{t,s,b}_512_160k_ade20k.py
(mmseg 0.27). Its ``_base_`` files (models/upernet_r50.py, datasets/ade20k.py,
default_runtime.py, schedules/schedule_160k.py) are InternImage @ 31c962dc's
byte for byte (``diff`` of the two checkouts is empty), so the values that
come from them are test_recipes_internimage's expectations with their
sources; the leaf values are written here with the DCNv4 file's lines.
"""
from __future__ import annotations

import pytest
from mmengine.config import Config

from segkit.models import FlashInternImage, InternImage
from tests.helpers import REPO
from tests.helpers.recipes import default_of, mismatches, plain
from tests.test_configs import test_recipes_internimage as internimage

REPO_AT = 'DCNv4@4b848f7d:segmentation/configs/ade20k/'
SIZES = {  # leaf L12-31
    't': dict(channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], drop_path_rate=0.2,
              offset_scale=1.0, post_norm=False, dw_kernel_size=None,
              in_channels=[64, 128, 256, 512], aux_in_channels=256),
    's': dict(channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40], drop_path_rate=0.3,
              offset_scale=1.0, post_norm=True, dw_kernel_size=3,
              in_channels=[80, 160, 320, 640], aux_in_channels=320),
    'b': dict(channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56], drop_path_rate=0.3,
              offset_scale=0.5, post_norm=True, dw_kernel_size=3,
              in_channels=[112, 224, 448, 896], aux_in_channels=448),
}
RESIZE = dict(type='Resize', scale=(2048, 512), keep_ratio=True)


def _segkit(size: str) -> Config:
    return Config.fromfile(str(REPO / 'configs' / 'flash_internimage' /
                               f'upernet_flashinternimage-{size}_8xb2-160k_ade20k-512x512.py'))


# the leaf lines of each field: S and B have one more backbone line
# (dw_kernel_size, L26) and one fewer data line (T's val/test are commented)
LINES = {
    't': dict(type=14, dpr=20, ls=22, os=23, out=26, init=27, head=28, aux=29, test_cfg=30,
              pipeline='34-49', lr=51, constructor=52, rate=53, batch=61),
    's': dict(type=14, dpr=20, ls=22, os=23, out=27, init=28, head=29, aux=30, test_cfg=31,
              pipeline='35-50,63-64', lr=52, constructor=53, rate=54, batch=62),
}
LINES['b'] = LINES['s']


def _leaf(size: str, field: str | int) -> str:
    line = field if isinstance(field, int) else LINES[size][field]
    return f'{REPO_AT}upernet_flash_internimage_{size}_512_160k_ade20k.py:{line}'


def _expected(size: str) -> list:
    s, leaf = SIZES[size], (lambda field: _leaf(size, field))
    # the base files' values (InternImage's, byte for byte), but the leaf's
    base = internimage._expected('t', 'ade20k')
    shared = [e for e in base if 'configs/ade20k/upernet_internimage_' not in e[2]]
    train = next(e for e in base if e[0] == 'train_dataloader.dataset.pipeline')
    # T: the leaf's test_pipeline override is commented out (L62-63), so the
    # dataset base's pipeline (no ResizeToMultiple) evaluates
    resize = [RESIZE] if size == 't' else [RESIZE, dict(type='ResizeToMultiple',
                                                         size_divisor=32)]
    test = [dict(type='LoadImageFromFile'), *resize,
            dict(type='LoadAnnotations', reduce_zero_label=True), dict(type='PackSegInputs')]
    test_from = (internimage.DATASET['ade20k'] + ':19-33' if size == 't' else leaf('pipeline'))
    return shared + [
        train,
        ('model.backbone.type', 'FlashInternImage', leaf('type')),
        ('model.backbone.drop_path_rate', s['drop_path_rate'], leaf('dpr')),
        ('model.backbone.layer_scale', 1.0, leaf('ls')),
        ('model.backbone.offset_scale', s['offset_scale'], leaf('os')),
        ('model.backbone.out_indices', (0, 1, 2, 3), leaf('out')),
        ('model.backbone.init_cfg.type', 'Pretrained', leaf('init')),
        ('model.decode_head.in_channels', s['in_channels'], leaf('head')),
        ('model.decode_head.num_classes', 150, leaf('head')),
        ('model.auxiliary_head.in_channels', s['aux_in_channels'], leaf('aux')),
        ('model.auxiliary_head.num_classes', 150, leaf('aux')),
        ('model.test_cfg', dict(mode='whole'), leaf('test_cfg')),
        # fp32: the fp16 line is commented out (L68)
        ('optim_wrapper.type', 'OptimWrapper', leaf(68)),
        ('optim_wrapper.optimizer', dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999),
                                         weight_decay=0.05), leaf('lr')),
        ('optim_wrapper.constructor', 'InternImageLayerDecayOptimizerConstructor',
         leaf('constructor')),
        ('optim_wrapper.paramwise_cfg.layer_decay_rate', 1.0, leaf('rate')),
        ('train_cfg.type', 'IterBasedTrainLoop', leaf(65)),
        ('train_cfg.val_interval', 16000, leaf(67)),
        ('default_hooks.checkpoint.by_epoch', False, leaf(66)),
        ('default_hooks.checkpoint.interval', 1000, leaf(66)),
        ('default_hooks.checkpoint.max_keep_ckpts', 1, leaf(66)),
        ('default_hooks.checkpoint.save_best', 'mIoU', leaf(67)),
        ('val_evaluator', dict(type='IoUMetric', iou_metrics=['mIoU']), leaf(67)),
        ('train_dataloader.batch_size', 2, leaf('batch')),
        ('val_dataloader.dataset.pipeline', test, test_from),
        ('test_dataloader.dataset.pipeline', test, test_from),
    ]


@pytest.mark.parametrize('size', 'tsb')
def test_config_equals_the_original(size: str) -> None:
    cfg = internimage._checkable(_segkit(size))
    wrong = mismatches(cfg, _expected(size))
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('size', 'tsb')
def test_arch_and_weights_equal_the_original(size: str) -> None:
    """Channels, depths, groups, post-norm, the offset branch's depthwise
    kernel (leaf L16-18, L24, S/B L26) through segkit's arch table; MLP ratio
    4 (L19); no bias on mlp.fc2 and dcn.output_proj (the original class's
    defaults); the released ImageNet file of the leaf's L10."""
    backbone = _segkit(size).model.backbone
    arch = FlashInternImage.arch_settings[backbone.get('arch', default_of(InternImage, 'arch'))]
    s = SIZES[size]
    assert (arch['channels'], arch['depths'], arch['groups'], arch['post_norm'],
            arch['dw_kernel_size']) == (s['channels'], s['depths'], s['groups'],
                                        s['post_norm'], s['dw_kernel_size'])
    assert 'dw_kernel_size' not in backbone and 'post_norm' not in backbone
    assert (arch['mlp_fc2_bias'], arch['dcn_output_bias']) == (False, False)
    assert backbone.get('mlp_ratio', default_of(InternImage, 'mlp_ratio')) == 4.0
    assert backbone.init_cfg.checkpoint == f'checkpoints/flash_intern_image_{size}_1k_224.pth'


def test_tta_equals_the_original_aug_test() -> None:
    """--tta as test.py --aug-test (the same file as InternImage's) on each
    leaf's test pipeline: S and B resize to a multiple of 32 after each
    scale, T (the dataset base's pipeline) does not."""
    for size in 'tsb':
        steps = plain(_segkit(size).tta_pipeline)[1]['transforms']
        assert [s['type'] for s in steps[0]] == ['Resize'] * 6
        multiple = [dict(type='ResizeToMultiple', size_divisor=32)]
        assert (steps[1] == multiple) == (size != 't'), size

