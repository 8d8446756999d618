"""The dense and shaped ResNet-50 configs equal mmseg's FCN / DeepLabV3 /
UPerNet R-50 recipes, field by field.

The originals: mmsegmentation v1.2.2 (the installed version), configs/
fcn/fcn_r50-d8_*, deeplabv3/deeplabv3_r50-d8_*, upernet/upernet_r50_* on
_base_/models/{fcn_r50-d8,deeplabv3_r50-d8,upernet_r50}.py,
_base_/datasets/{ade20k,cityscapes}.py, _base_/schedules/schedule_{160k,80k}.py
and _base_/default_runtime.py; each value names its file and line. The
backbone differs on purpose: segkit's ResNetV1c-50 is made dense by
equivalent stride (the exact dense version of mmseg's hand-dilated D8, tested
in tests/test_models/test_dense_backbone.py), UPerNet runs at output stride 8
in dense_resnet (mmseg's at 32; no published number) and the shaped configs
have quasi-hexagonal kernels (segkit's own models).
"""
from __future__ import annotations

from pathlib import Path

import mmseg
import pytest
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.recipes import MISSING, get, mismatches, plain, without

MMSEG = 'mmseg@v1.2.2:configs/'
MODELS = {'fcn': '_base_/models/fcn_r50-d8.py', 'deeplabv3': '_base_/models/deeplabv3_r50-d8.py',
          'upernet': '_base_/models/upernet_r50.py'}
ORIGINAL = {  # algo, dataset -> mmseg 1.2.2 leaf
    ('fcn', 'ade20k'): 'fcn/fcn_r50-d8_4xb4-160k_ade20k-512x512.py',
    ('fcn', 'cityscapes'): 'fcn/fcn_r50-d8_4xb2-80k_cityscapes-512x1024.py',
    ('deeplabv3', 'ade20k'): 'deeplabv3/deeplabv3_r50-d8_4xb4-160k_ade20k-512x512.py',
    ('deeplabv3', 'cityscapes'): 'deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py',
    ('upernet', 'ade20k'): 'upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    ('upernet', 'cityscapes'): 'upernet/upernet_r50_4xb2-80k_cityscapes-512x1024.py',
}
SEGKIT = {  # segkit config -> (algo, dataset)
    'dense_resnet/fcn_dense-r50-os8_4xb4-160k_ade20k-512x512.py': ('fcn', 'ade20k'),
    'dense_resnet/fcn_dense-r50-os8_4xb2-80k_cityscapes-512x1024.py': ('fcn', 'cityscapes'),
    'dense_resnet/deeplabv3_dense-r50-os8_4xb4-160k_ade20k-512x512.py': ('deeplabv3', 'ade20k'),
    'dense_resnet/deeplabv3_dense-r50-os8_4xb2-80k_cityscapes-512x1024.py':
        ('deeplabv3', 'cityscapes'),
    'dense_resnet/upernet_dense-r50-os8_4xb4-160k_ade20k-512x512.py': ('upernet', 'ade20k'),
    'dense_resnet/upernet_dense-r50-os8_4xb2-80k_cityscapes-512x1024.py': ('upernet', 'cityscapes'),
    'shaped_resnet/deeplabv3_dense-r50-qh-os8_4xb4-160k_ade20k-512x512.py':
        ('deeplabv3', 'ade20k'),
    'shaped_resnet/deeplabv3_dense-r50-qh-os8_4xb2-80k_cityscapes-512x1024.py':
        ('deeplabv3', 'cityscapes'),
    'shaped_resnet/upernet_r50-qh_4xb4-160k_ade20k-512x512.py': ('upernet', 'ade20k'),
    'shaped_resnet/upernet_r50-qh_4xb2-80k_cityscapes-512x1024.py': ('upernet', 'cityscapes'),
}
RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def _heads(algo: str, num_classes: int) -> list:
    model = MMSEG + MODELS[algo]
    norm = dict(type='SyncBN', requires_grad=True)
    ce = dict(type='CrossEntropyLoss', use_sigmoid=False)
    decode = {
        'fcn': dict(type='FCNHead', in_channels=2048, in_index=3, channels=512, num_convs=2,
                    concat_input=True),
        'deeplabv3': dict(type='ASPPHead', in_channels=2048, in_index=3, channels=512,
                          dilations=(1, 12, 24, 36)),
        'upernet': dict(type='UPerHead', in_channels=[256, 512, 1024, 2048],
                        in_index=[0, 1, 2, 3], pool_scales=(1, 2, 3, 6), channels=512),
    }[algo]
    decode.update(dropout_ratio=0.1, num_classes=num_classes, norm_cfg=norm,
                  align_corners=False, loss_decode=dict(ce, loss_weight=1.0))
    aux = dict(type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1,
               concat_input=False, dropout_ratio=0.1, num_classes=num_classes, norm_cfg=norm,
               align_corners=False, loss_decode=dict(ce, loss_weight=0.4))
    lines = dict(fcn=('25-37', '38-50', '53')).get(algo, ('25-36', '37-49', '52'))
    classes = ' (num_classes: the ADE20K leaves, L9-10)'
    return [('model.decode_head', decode, f'{model}:{lines[0]}{classes}'),
            ('model.auxiliary_head', aux, f'{model}:{lines[1]}{classes}'),
            ('model.test_cfg', dict(mode='whole'), f'{model}:{lines[2]}')]


def _expected(algo: str, dataset: str) -> list:
    ade = dataset == 'ade20k'
    leaf, data = MMSEG + ORIGINAL[algo, dataset], MMSEG + f'_base_/datasets/{dataset}.py'
    iters = 160000 if ade else 80000
    schedule = MMSEG + f'_base_/schedules/schedule_{iters // 1000}k.py'
    crop, scale = ((512, 512), (2048, 512)) if ade else ((512, 1024), (2048, 1024))
    labels = dict(type='LoadAnnotations', reduce_zero_label=True) if ade else dict(
        type='LoadAnnotations')
    return [
        *_heads(algo, 150 if ade else 19),
        ('model.data_preprocessor', dict(
            type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255,
            size=crop), MMSEG + MODELS[algo] + ':3-9, ' + leaf + ':5-6'),
        ('optim_wrapper', dict(type='OptimWrapper', optimizer=dict(
            type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005), clip_grad=None),
         schedule + ':2-3'),
        ('param_scheduler', [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=iters,
                                  by_epoch=False)], schedule + ':5-13'),
        ('train_cfg', dict(type='IterBasedTrainLoop', max_iters=iters,
                           val_interval=iters // 10), schedule + ':15-16'),
        ('default_hooks.checkpoint', dict(type='CheckpointHook', by_epoch=False,
                                          interval=iters // 10), schedule + ':22-23'),
        ('default_hooks.logger', dict(type='LoggerHook', interval=50,
                                      log_metric_by_epoch=False), schedule + ':20-21'),
        ('env_cfg.cudnn_benchmark', True, MMSEG + '_base_/default_runtime.py:3'),
        ('train_dataloader.batch_size', 4 if ade else 2, data + ':43'),
        ('train_dataloader.num_workers', 4 if ade else 2, data + ':44'),
        ('train_dataloader.dataset.type', 'ADE20KDataset' if ade else 'CityscapesDataset',
         data + ':2'),
        ('train_dataloader.dataset.pipeline', [
            dict(type='LoadImageFromFile'), labels,
            dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
            dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5), dict(type='PhotoMetricDistortion'),
            dict(type='PackSegInputs')], data + ':5-17'),
        ('test_dataloader.dataset.pipeline', [
            dict(type='LoadImageFromFile'), dict(type='Resize', scale=scale, keep_ratio=True),
            labels, dict(type='PackSegInputs')], data + ':18-25'),
        ('tta_pipeline.1', dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in RATIOS],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]]), data + ':26-41'),
        ('val_evaluator', dict(type='IoUMetric', iou_metrics=['mIoU']),
         data + (':67' if ade else ':66')),
    ]


def _checkable(cfg: Config) -> Config:
    for loader in ('train_dataloader', 'test_dataloader'):  # segkit's check-only step
        cfg[loader].dataset.pipeline = without(cfg[loader].dataset.pipeline,
                                               'ValidateSegSample')
    return cfg


@pytest.mark.parametrize('path', list(SEGKIT))
def test_config_equals_mmseg(path: str) -> None:
    cfg = _checkable(Config.fromfile(str(REPO / 'configs' / path)))
    wrong = mismatches(cfg, _expected(*SEGKIT[path]))
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('path', list(SEGKIT))
def test_backbone_is_resnet50_v1c_from_mmseg_weights(path: str) -> None:
    """mmseg's ResNetV1c-50 (model file L14-24; pretrained
    'open-mmlab://resnet50_v1c', L13), read here from a local copy of that file."""
    backbone = Config.fromfile(str(REPO / 'configs' / path)).model.backbone
    while 'backbone' in backbone:  # DenseBackbone / ShapedBackbone wrap it
        backbone = backbone.backbone
    assert plain({k: backbone[k] for k in ('type', 'depth', 'num_stages', 'out_indices',
                                           'norm_cfg', 'norm_eval', 'style')}) == plain(dict(
        type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False, style='pytorch'))
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint='checkpoints/resnet50_v1c.pth')


MIM = Path(mmseg.__file__).parent / '.mim' / 'configs'


@pytest.mark.skipif(not MIM.is_dir(), reason="mmseg's configs are not installed")
@pytest.mark.parametrize('algo,dataset', list(ORIGINAL))
def test_held_values_are_mmseg_122s(algo: str, dataset: str) -> None:
    """The values held above are those of the installed mmseg 1.2.2 configs
    (a typo here would otherwise make both sides agree on a wrong value)."""
    assert mmseg.__version__ == '1.2.2'
    original = Config.fromfile(str(MIM / ORIGINAL[algo, dataset]))
    expected = _expected(algo, dataset)
    assert all(get(original, path) is not MISSING for path, _, _ in expected)
    original.tta_pipeline = plain(original.tta_pipeline)
    wrong = mismatches(original, expected)
    assert not wrong, '\n'.join(wrong)
