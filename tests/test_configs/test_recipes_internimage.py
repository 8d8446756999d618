"""The InternImage UPerNet configs equal the original recipe, field by field.

The original: OpenGVLab/InternImage @ 31c962dc6c1ceb23e580772f7daaa6944694fbe6,
segmentation/ (mmseg 0.27); each value below names its file and line there,
written in its mmseg 1.x form (mmseg 0.x ``Normalize``/``Pad`` are the data
preprocessor, ``MultiScaleFlipAug`` + ``Resize`` a ``Resize`` placed before
``LoadAnnotations``, ``evaluation.save_best`` the CheckpointHook's).
Deliberate differences are asserted as such and listed in
configs/internimage/README.md.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from segkit.models import InternImage
from tests.helpers import REPO
from tests.helpers.recipes import default_of, mismatches, plain, without

REPO_AT = 'InternImage@31c962dc:segmentation/'
BASE_MODEL = REPO_AT + 'configs/_base_/models/upernet_r50.py'
RUNTIME = REPO_AT + 'configs/_base_/default_runtime.py'
SCHEDULE = REPO_AT + 'configs/_base_/schedules/schedule_160k.py'
TEST_PY = REPO_AT + 'test.py'
DATASET = {'ade20k': REPO_AT + 'configs/_base_/datasets/ade20k.py',
           'cityscapes': REPO_AT + 'configs/_base_/datasets/cityscapes.py'}
LEAF = {('t', 'ade20k'): 'configs/ade20k/upernet_internimage_t_512_160k_ade20k.py',
        ('s', 'ade20k'): 'configs/ade20k/upernet_internimage_s_512_160k_ade20k.py',
        ('b', 'ade20k'): 'configs/ade20k/upernet_internimage_b_512_160k_ade20k.py',
        ('t', 'cityscapes'): 'configs/cityscapes/upernet_internimage_t_512x1024_160k_cityscapes.py',
        ('s', 'cityscapes'): 'configs/cityscapes/upernet_internimage_s_512x1024_160k_cityscapes.py',
        ('b', 'cityscapes'): 'configs/cityscapes/upernet_internimage_b_512x1024_160k_cityscapes.py'}
# leaf L16-20, L24, L28-29
SIZES = {
    't': dict(channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32], drop_path_rate=0.2,
              post_norm=False, in_channels=[64, 128, 256, 512], aux_in_channels=256,
              checkpoint='internimage_t_1k_224.pth'),
    's': dict(channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40], drop_path_rate=0.3,
              post_norm=True, in_channels=[80, 160, 320, 640], aux_in_channels=320,
              checkpoint='internimage_s_1k_224.pth'),
    'b': dict(channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56], drop_path_rate=0.4,
              post_norm=True, in_channels=[112, 224, 448, 896], aux_in_channels=448,
              checkpoint='internimage_b_1k_224.pth'),
}
CASES = [(size, dataset) for dataset in ('ade20k', 'cityscapes') for size in 'tsb']
CROP = {'ade20k': (512, 512), 'cityscapes': (512, 1024)}
SCALE = {'ade20k': (2048, 512), 'cityscapes': (2048, 1024)}
RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def _segkit(size: str, dataset: str) -> Config:
    crop = 'ade20k-512x512' if dataset == 'ade20k' else 'cityscapes-512x1024'
    return Config.fromfile(str(REPO / 'configs' / 'internimage' /
                               f'upernet_internimage-{size}_8xb2-160k_{crop}.py'))


def _leaf(size: str, dataset: str, line: int) -> str:
    # Cityscapes-S has no out_indices line: its lines from L26 on are one up
    shift = size == 's' and dataset == 'cityscapes' and line >= 26
    return f'{REPO_AT}{LEAF[size, dataset]}:{line - shift}'


def _expected(size: str, dataset: str) -> list:
    s, leaf = SIZES[size], (lambda n: _leaf(size, dataset, n))
    data = DATASET[dataset]
    norm = dict(type='SyncBN', requires_grad=True)
    crop, ade = CROP[dataset], dataset == 'ade20k'
    num_classes = 150 if ade else 19  # Cityscapes: see test_cityscapes_num_classes
    train = [dict(type='LoadImageFromFile'),
             dict(type='LoadAnnotations', reduce_zero_label=True) if ade
             else dict(type='LoadAnnotations'),
             dict(type='RandomResize', scale=SCALE[dataset], ratio_range=(0.5, 2.0),
                  keep_ratio=True),
             dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
             dict(type='RandomFlip', prob=0.5),
             dict(type='PhotoMetricDistortion'),
             dict(type='PackSegInputs')]
    test = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=SCALE[dataset], keep_ratio=True),
            *([dict(type='ResizeToMultiple', size_divisor=32)] if ade else []),
            dict(type='LoadAnnotations', reduce_zero_label=True) if ade
            else dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]
    return [
        # backbone
        ('model.backbone.type', 'InternImage', leaf(14)),
        ('model.backbone.drop_path_rate', s['drop_path_rate'], leaf(20)),
        ('model.backbone.layer_scale', 1.0, leaf(22)),
        ('model.backbone.offset_scale', 1.0, leaf(23)),
        ('model.backbone.out_indices', (0, 1, 2, 3), leaf(26)),
        ('model.backbone.init_cfg.type', 'Pretrained', leaf(27)),
        # heads
        ('model.decode_head.type', 'UPerHead', BASE_MODEL + ':18'),
        ('model.decode_head.in_channels', s['in_channels'], leaf(28)),
        ('model.decode_head.in_index', [0, 1, 2, 3], BASE_MODEL + ':20'),
        ('model.decode_head.pool_scales', (1, 2, 3, 6), BASE_MODEL + ':21'),
        ('model.decode_head.channels', 512, BASE_MODEL + ':22'),
        ('model.decode_head.dropout_ratio', 0.1, BASE_MODEL + ':23'),
        ('model.decode_head.num_classes', num_classes, leaf(28)),
        ('model.decode_head.norm_cfg', norm, BASE_MODEL + ':2,25'),
        ('model.decode_head.align_corners', False, BASE_MODEL + ':26'),
        ('model.decode_head.loss_decode', dict(type='CrossEntropyLoss', use_sigmoid=False,
                                               loss_weight=1.0), BASE_MODEL + ':27-28'),
        ('model.auxiliary_head.type', 'FCNHead', BASE_MODEL + ':30'),
        ('model.auxiliary_head.in_channels', s['aux_in_channels'], leaf(29)),
        ('model.auxiliary_head.in_index', 2, BASE_MODEL + ':32'),
        ('model.auxiliary_head.channels', 256, BASE_MODEL + ':33'),
        ('model.auxiliary_head.num_convs', 1, BASE_MODEL + ':34'),
        ('model.auxiliary_head.concat_input', False, BASE_MODEL + ':35'),
        ('model.auxiliary_head.dropout_ratio', 0.1, BASE_MODEL + ':36'),
        ('model.auxiliary_head.num_classes', num_classes, leaf(29)),
        ('model.auxiliary_head.norm_cfg', norm, BASE_MODEL + ':38'),
        ('model.auxiliary_head.align_corners', False, BASE_MODEL + ':39'),
        ('model.auxiliary_head.loss_decode', dict(type='CrossEntropyLoss', use_sigmoid=False,
                                                  loss_weight=0.4), BASE_MODEL + ':40-41'),
        ('model.test_cfg', dict(mode='whole'), leaf(30)),
        # Normalize(to_rgb) and Pad(crop, 0, 255) of the 0.x pipeline
        ('model.data_preprocessor.mean', [123.675, 116.28, 103.53], data + ':4-5'),
        ('model.data_preprocessor.std', [58.395, 57.12, 57.375], data + ':4-5'),
        ('model.data_preprocessor.bgr_to_rgb', True, data + ':5'),
        ('model.data_preprocessor.pad_val', 0, data + ':15'),
        ('model.data_preprocessor.seg_pad_val', 255, data + ':15'),
        ('model.data_preprocessor.size', crop, data + ':6,15'),
        # optimizer; fp32: the fp16 line is commented out (L67)
        ('optim_wrapper.type', 'OptimWrapper', leaf(67)),
        ('optim_wrapper.optimizer', dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999),
                                         weight_decay=0.05), leaf(51)),
        ('optim_wrapper.constructor', 'InternImageLayerDecayOptimizerConstructor', leaf(52)),
        ('optim_wrapper.paramwise_cfg.layer_decay_rate', 1.0, leaf(53)),
        ('optim_wrapper.clip_grad', None, SCHEDULE + ':3'),
        # schedule (the lr values: tests/test_configs/test_lr_schedule.py)
        ('train_cfg.type', 'IterBasedTrainLoop', leaf(64)),
        ('train_cfg.max_iters', 160000, SCHEDULE + ':7'),
        ('train_cfg.val_interval', 16000, leaf(66)),
        ('default_hooks.checkpoint.by_epoch', False, leaf(65)),
        ('default_hooks.checkpoint.interval', 1000, leaf(65)),
        ('default_hooks.checkpoint.max_keep_ckpts', 1, leaf(65)),
        ('default_hooks.checkpoint.save_best', 'mIoU', leaf(66)),
        ('default_hooks.logger.interval', 50, RUNTIME + ':3'),
        ('val_evaluator', dict(type='IoUMetric', iou_metrics=['mIoU']), leaf(66)),
        ('env_cfg.cudnn_benchmark', True, RUNTIME + ':14'),
        # data
        ('train_dataloader.batch_size', 2, leaf(61 if ade else 43)),
        ('train_dataloader.num_workers', 4 if ade else 2, data + ':36'),
        ('train_dataloader.dataset.type', 'ADE20KDataset' if ade else 'CityscapesDataset',
         data + ':2'),
        ('train_dataloader.dataset.data_prefix.img_path',
         'images/training' if ade else 'leftImg8bit/train', data + ':40'),
        ('train_dataloader.dataset.data_prefix.seg_map_path',
         'annotations/training' if ade else 'gtFine/train', data + ':41'),
        ('val_dataloader.dataset.data_prefix.img_path',
         'images/validation' if ade else 'leftImg8bit/val', data + ':46'),
        ('val_dataloader.dataset.data_prefix.seg_map_path',
         'annotations/validation' if ade else 'gtFine/val', data + ':47'),
        ('train_dataloader.dataset.pipeline', train, data + ':7-18'),
        ('val_dataloader.dataset.pipeline', test,
         leaf(34) + '-49,61-63' if ade else data + ':19-33'),
        ('test_dataloader.dataset.pipeline', test,
         leaf(34) + '-49,61-63' if ade else data + ':19-33'),
    ]


def _checkable(cfg: Config) -> Config:
    """segkit's check-only pipeline step removed (ValidateSegSample: it
    changes no data)."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.pipeline = without(cfg[loader].dataset.pipeline,
                                               'ValidateSegSample')
    return cfg


@pytest.mark.parametrize('size,dataset', CASES, ids=[f'{s}-{d}' for s, d in CASES])
def test_config_equals_the_original(size: str, dataset: str) -> None:
    cfg = _checkable(_segkit(size, dataset))
    wrong = mismatches(cfg, _expected(size, dataset))
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('size,dataset', CASES, ids=[f'{s}-{d}' for s, d in CASES])
def test_arch_and_weights_equal_the_original(size: str, dataset: str) -> None:
    """Channels, depths, groups, post-norm (leaf L16-18, L24) through segkit's
    arch table; MLP ratio 4 (L19); the ImageNet file of the original's L10."""
    backbone = _segkit(size, dataset).model.backbone
    arch = InternImage.arch_settings[backbone.get('arch', default_of(InternImage, 'arch'))]
    s = SIZES[size]
    assert (arch['channels'], arch['depths'], arch['groups'], arch['post_norm']) == (
        s['channels'], s['depths'], s['groups'], s['post_norm'])
    assert backbone.get('mlp_ratio', default_of(InternImage, 'mlp_ratio')) == 4.0
    assert backbone.get('dw_kernel_size', default_of(InternImage, 'dw_kernel_size')) is None
    assert backbone.init_cfg.checkpoint.endswith('/' + s['checkpoint'])


def test_cityscapes_num_classes_is_a_deliberate_difference() -> None:
    """The original's Cityscapes heads have num_classes=150 (leaf L28-29, a
    copy of the ADE20K value); segkit's have the 19 classes, and the config
    says why."""
    text = ' '.join((REPO / 'configs/internimage/upernet_internimage-t_8xb2-160k_'
                     'cityscapes-512x1024.py').read_text().replace('#', ' ').split())
    assert 'num_classes=150' in text and 'deliberate difference' in text
    for size in 'tsb':
        cfg = _segkit(size, 'cityscapes')
        assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == 19


@pytest.mark.parametrize('dataset', ['ade20k', 'cityscapes'])
def test_tta_equals_the_original_aug_test(dataset: str) -> None:
    """--tta as the original's --aug-test (test.py L137-142: ratios and flip
    on its MultiScaleFlipAug(img_scale) of the dataset base L22-25):
    Resize into (int(w r), int(h r)) with the ratio kept, then (ADE20K, leaf
    L43) ResizeToMultiple(32), each with and without a horizontal flip."""
    for size in 'tsb':
        tta = plain(_segkit(size, dataset).tta_pipeline)
        assert tta[0] == dict(type='LoadImageFromFile')
        w, h = SCALE[dataset]
        expected = [[dict(type='Resize', scale=[int(w * r), int(h * r)], keep_ratio=True)
                     for r in RATIOS]]
        if dataset == 'ade20k':
            expected.append([dict(type='ResizeToMultiple', size_divisor=32)])
        expected += [[dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                      dict(type='RandomFlip', prob=1.0, direction='horizontal')],
                     [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]]
        assert tta[1] == dict(type='TestTimeAug', transforms=expected), (size, TEST_PY)


def test_resize_to_multiple_computes_what_mmseg_027_did() -> None:
    """mmseg 0.27 ``ResizeToMultiple`` (mmseg/datasets/pipelines/transforms.py
    L13-60 of the 0.27.0 wheel) resizes the image bilinearly to
    ``ceil(side / 32) * 32`` on each side (``mmcv.imresize_to_multiple(img,
    32, scale_factor=1)``, i.e. cv2.resize with INTER_LINEAR); mmseg 1.2.2's
    does the same."""
    from mmseg.datasets.transforms import ResizeToMultiple

    img = np.random.default_rng(0).integers(0, 256, (70, 41, 3), dtype=np.uint8)
    out = ResizeToMultiple(size_divisor=32).transform(dict(img=img.copy()))
    reference = cv2.resize(img, (64, 96), interpolation=cv2.INTER_LINEAR)
    assert out['img'].shape == (96, 64, 3) and out['img_shape'] == (96, 64)
    np.testing.assert_array_equal(out['img'], reference)
