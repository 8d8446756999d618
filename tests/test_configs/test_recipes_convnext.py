"""The ConvNeXt and ConvNeXt-dcls UPerNet ADE20K configs equal the original
recipes, field by field.

The originals (mmseg 0.11 + BEiT's semantic_segmentation code, apex AMP):
  ConvNeXt      facebookresearch/ConvNeXt @ 048efcea897d999aed302f2639b6270aedf8d4c8
                semantic_segmentation/configs/convnext/upernet_convnext_{size}_512_160k_ade20k_{ss,ms}.py
  ConvNeXt-dcls K-H-Ismail/ConvNeXt-dcls @ aad45f38c94eb3aca6cb4e2ca740ecfdb8605129
                semantic_segmentation/configs/convnext_dcls/
                upernet_convnext_dcls_{size}_512_160k_ade20k_{ss,ms}.py
Both inherit mmseg 0.11's configs/_base_/datasets/ade20k.py and
schedules/schedule_160k.py (not in either repository; the standard files,
line for line as InternImage's copies) and their own _base_/models and
default_runtime.py. Values are written in their mmseg 1.x form; each names
its file and line. Cityscapes ConvNeXt configs have no original (segkit's
own recipe: configs/convnext/README.md).
"""
from __future__ import annotations

import pytest
from mmengine.config import Config

from segkit.models import ConvNeXt
from segkit.models.token_mixers import TOKEN_MIXERS
from tests.helpers import REPO
from tests.helpers.recipes import default_of, mismatches, plain, without

PLAIN = 'ConvNeXt@048efcea:semantic_segmentation/'
DCLS = 'ConvNeXt-dcls@aad45f38:semantic_segmentation/'
MMSEG = 'mmseg-0.11:configs/_base_/'
DATASET = MMSEG + 'datasets/ade20k.py'
SCHEDULE = MMSEG + 'schedules/schedule_160k.py'
TEST_PY = DCLS + 'tools/test.py:90-95'  # BEiT's, which both use
NAMES = {'t': 'tiny', 's': 'small', 'b': 'base'}
SIZES = {  # the leaves' backbone and heads (depths, dims, drop path, in_channels, num_layers)
    't': dict(depths=[3, 3, 9, 3], channels=[96, 192, 384, 768], drop_path_rate=0.4,
              in_channels=[96, 192, 384, 768], aux_in_channels=384, num_layers=6,
              kernel_count=34),
    's': dict(depths=[3, 3, 27, 3], channels=[96, 192, 384, 768], drop_path_rate=0.3,
              in_channels=[96, 192, 384, 768], aux_in_channels=384, num_layers=12,
              kernel_count=40),
    'b': dict(depths=[3, 3, 27, 3], channels=[128, 256, 512, 1024], drop_path_rate=0.4,
              in_channels=[128, 256, 512, 1024], aux_in_channels=512, num_layers=12,
              kernel_count=40),
}
CASES = [(size, dcls) for dcls in (False, True) for size in 'tsb']
IDS = [f'{s}{"-dcls" if d else ""}' for s, d in CASES]
RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
CHECKPOINTS = {False: 'convnext_{}_1k_224.pth', True: 'convnext_dcls_{}_1k_224_ema.pth'}


def _segkit(size: str, dcls: bool) -> Config:
    name = f'upernet_convnext-{size}{"-dcls" if dcls else ""}_8xb2-160k_ade20k-512x512.py'
    return Config.fromfile(str(REPO / 'configs' / 'convnext' / name))


def _source(size: str, dcls: bool, line: int, ms: bool = False) -> str:
    if dcls:  # every dcls leaf has the same layout
        return (f'{DCLS}configs/convnext_dcls/upernet_convnext_dcls_{NAMES[size]}_512_160k_'
                f'ade20k_{"ms" if ms else "ss"}.py:{line}')
    # the plain small leaf has no backbone type line: one up from L17
    shift = size == 's' and line >= 17
    return (f'{PLAIN}configs/convnext/upernet_convnext_{NAMES[size]}_512_160k_ade20k_'
            f'{"ms" if ms else "ss"}.py:{line - shift}')


def _expected(size: str, dcls: bool) -> list:
    s = SIZES[size]
    # plain leaves (tiny): backbone L16-24, heads L25-32, test_cfg L33, optimizer
    # L36-40, lr L42-46, data L49, runner L51, fp16 L54-62; dcls leaves: backbone
    # L16-27, heads L28-35, test_cfg L36, optimizer L39-43, lr L45-49, data L52,
    # runner L54, fp16 L57-65

    def at(line: int) -> str:
        return _source(size, dcls, line)

    line = (dict(dpr=21, ls=22, out=23, head_in=29, head_nc=30, aux_in=33, aux_nc=34,
                 test=36, opt=40, layers=43, batch=52, runner=54, fp16=64, clip=61) if dcls else
            dict(dpr=21, ls=22, out=23, head_in=26, head_nc=27, aux_in=30, aux_nc=31,
                 test=33, opt=37, layers=40, batch=49, runner=51, fp16=61, clip=58))
    model = (DCLS + 'configs/_base_/models/upernet_convnext_dcls.py' if dcls else
             PLAIN + 'configs/_base_/models/upernet_convnext.py')
    m = dict(head=26, aux=38, test=52) if dcls else dict(head=23, aux=35, test=49)
    runtime = (DCLS if dcls else PLAIN) + 'configs/_base_/default_runtime.py'
    norm = dict(type='SyncBN', requires_grad=True)
    return [
        ('model.backbone.type', 'ConvNeXt', at(17)),
        ('model.backbone.token_mixer', dict(type='dcls' if dcls else 'dw'), at(17)),
        ('model.backbone.drop_path_rate', s['drop_path_rate'], at(line['dpr'])),
        ('model.backbone.layer_scale', 1.0, at(line['ls'])),
        ('model.backbone.out_indices', [0, 1, 2, 3], at(line['out'])),
        ('model.decode_head.type', 'UPerHead', f'{model}:{m["head"]}'),
        ('model.decode_head.in_channels', s['in_channels'], at(line['head_in'])),
        ('model.decode_head.in_index', [0, 1, 2, 3], f'{model}:{m["head"] + 2}'),
        ('model.decode_head.pool_scales', (1, 2, 3, 6), f'{model}:{m["head"] + 3}'),
        ('model.decode_head.channels', 512, f'{model}:{m["head"] + 4}'),
        ('model.decode_head.dropout_ratio', 0.1, f'{model}:{m["head"] + 5}'),
        ('model.decode_head.num_classes', 150, at(line['head_nc'])),
        ('model.decode_head.norm_cfg', norm, f'{model}:{m["head"] + 7}'),
        ('model.decode_head.align_corners', False, f'{model}:{m["head"] + 8}'),
        ('model.decode_head.loss_decode', dict(type='CrossEntropyLoss', use_sigmoid=False,
                                               loss_weight=1.0), f'{model}:{m["head"] + 9}'),
        ('model.auxiliary_head.type', 'FCNHead', f'{model}:{m["aux"]}'),
        ('model.auxiliary_head.in_channels', s['aux_in_channels'], at(line['aux_in'])),
        ('model.auxiliary_head.in_index', 2, f'{model}:{m["aux"] + 2}'),
        ('model.auxiliary_head.channels', 256, f'{model}:{m["aux"] + 3}'),
        ('model.auxiliary_head.num_convs', 1, f'{model}:{m["aux"] + 4}'),
        ('model.auxiliary_head.concat_input', False, f'{model}:{m["aux"] + 5}'),
        ('model.auxiliary_head.dropout_ratio', 0.1, f'{model}:{m["aux"] + 6}'),
        ('model.auxiliary_head.num_classes', 150, at(line['aux_nc'])),
        ('model.auxiliary_head.norm_cfg', norm, f'{model}:{m["aux"] + 8}'),
        ('model.auxiliary_head.align_corners', False, f'{model}:{m["aux"] + 9}'),
        ('model.auxiliary_head.loss_decode', dict(type='CrossEntropyLoss', use_sigmoid=False,
                                                  loss_weight=0.4), f'{model}:{m["aux"] + 10}'),
        # the _ss configs' test mode (the _ms ones: test_test_time_augmentation)
        ('model.test_cfg', dict(mode='slide', crop_size=(512, 512), stride=(341, 341)),
         at(line['test'])),
        ('model.data_preprocessor.mean', [123.675, 116.28, 103.53], DATASET + ':4-5'),
        ('model.data_preprocessor.std', [58.395, 57.12, 57.375], DATASET + ':4-5'),
        ('model.data_preprocessor.bgr_to_rgb', True, DATASET + ':5'),
        ('model.data_preprocessor.pad_val', 0, DATASET + ':15'),
        ('model.data_preprocessor.seg_pad_val', 255, DATASET + ':15'),
        ('model.data_preprocessor.size', (512, 512), at(13)),
        # apex O1 (IterBasedRunnerAmp + DistOptimizerHook(use_fp16=True)): float16
        # with dynamic loss scaling
        ('optim_wrapper.type', 'AmpOptimWrapper', at(line['fp16'])),
        ('optim_wrapper.loss_scale', 'dynamic', at(line['runner'])),
        ('optim_wrapper.dtype', 'float16', at(line['fp16'])),
        ('optim_wrapper.clip_grad', None, at(line['clip'])),
        ('optim_wrapper.optimizer', dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                                         weight_decay=0.05), at(line['opt'])),
        ('optim_wrapper.constructor', 'ConvNeXtDCLSOptimizerConstructor', at(line['opt'] - 1)),
        ('optim_wrapper.paramwise_cfg', dict(decay_rate=0.9, decay_type='stage_wise',
                                             num_layers=s['num_layers']), at(line['layers'])),
        ('train_cfg.type', 'IterBasedTrainLoop', SCHEDULE + ':7'),
        ('train_cfg.max_iters', 160000, SCHEDULE + ':7'),
        ('train_cfg.val_interval', 16000, SCHEDULE + ':9'),
        ('default_hooks.checkpoint', dict(type='CheckpointHook', by_epoch=False,
                                          interval=16000), SCHEDULE + ':8'),
        ('default_hooks.logger.interval', 50, runtime + ':3'),
        ('val_evaluator', dict(type='IoUMetric', iou_metrics=['mIoU']), SCHEDULE + ':9'),
        ('env_cfg.cudnn_benchmark', True, runtime + ':14'),
        ('custom_hooks', [], 'no clamping of DCLS positions in either repository'),
        ('train_dataloader.batch_size', 2, at(line['batch'])),
        ('train_dataloader.num_workers', 4, DATASET + ':36'),
        ('train_dataloader.dataset.type', 'ADE20KDataset', DATASET + ':2'),
        ('train_dataloader.dataset.pipeline', [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', reduce_zero_label=True),
            dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
                 keep_ratio=True),
            dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
            dict(type='PackSegInputs')], DATASET + ':7-18'),
        ('test_dataloader.dataset.pipeline', [
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(2048, 512), keep_ratio=True),
            dict(type='LoadAnnotations', reduce_zero_label=True),
            dict(type='PackSegInputs')], DATASET + ':19-33'),
    ]


@pytest.mark.parametrize('size,dcls', CASES, ids=IDS)
def test_config_equals_the_original(size: str, dcls: bool) -> None:
    cfg = _segkit(size, dcls)
    cfg.setdefault('custom_hooks', [])
    for loader in ('train_dataloader', 'test_dataloader'):  # segkit's check-only step
        cfg[loader].dataset.pipeline = without(cfg[loader].dataset.pipeline,
                                               'ValidateSegSample')
    wrong = mismatches(cfg, _expected(size, dcls))
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('size,dcls', CASES, ids=IDS)
def test_arch_mixer_and_weights_equal_the_original(size: str, dcls: bool) -> None:
    """depths / dims (leaf L19-20) through segkit's arch table; DCLS 17x17
    with 34 (T) or 40 (S, B) elements, 'v0', one position set per stage
    (dcls leaf L24-26, dcls_sync=True); the README's ImageNet files."""
    backbone = _segkit(size, dcls).model.backbone
    name = backbone.get('arch', default_of(ConvNeXt, 'arch'))
    assert name == NAMES[size]
    arch, s = ConvNeXt.arch_settings[name], SIZES[size]
    assert (arch['depths'], arch['channels']) == (s['depths'], s['channels'])
    if dcls:
        mixer = TOKEN_MIXERS.build(backbone.token_mixer, default_args=dict(arch=name))
        assert (mixer.kernel_count, mixer.dilated_kernel_size, mixer.version) == (
            s['kernel_count'], 17, 'v0')
    assert backbone.init_cfg.checkpoint.endswith('/' + CHECKPOINTS[dcls].format(NAMES[size]))


@pytest.mark.parametrize('size,dcls', CASES, ids=IDS)
def test_test_time_augmentation_equals_the_original_ms(size: str, dcls: bool) -> None:
    """--tta as the _ms config with --aug-test (TEST_PY sets the ratios and
    flip). ConvNeXt's _ms config keeps mmseg 0.11's test pipeline (Resize
    into (int(2048 r), int(512 r)), DATASET L19-33) and the base model's whole
    inference (models/upernet_convnext.py L49: the _ms leaf has no test_cfg);
    ConvNeXt-dcls's _ms config (L36, L72-90) resizes with BEiT's SETR_Resize
    and slides 512/341."""
    cfg = _segkit(size, dcls)
    tta = plain(cfg.tta_pipeline)
    if dcls:
        resize = [dict(type='SETRResize', scale=[int(2048 * r), int(512 * r)],
                       crop_size=[512, 512]) for r in RATIOS]
        assert plain(cfg.tta_model) == dict(type='SegTTAModel'), _source(size, dcls, 36, ms=True)
    else:
        resize = [dict(type='Resize', scale=[int(2048 * r), int(512 * r)], keep_ratio=True)
                  for r in RATIOS]
        assert plain(cfg.tta_model) == dict(type='SegTTAModel', module=dict(
            test_cfg=dict(mode='whole'))), PLAIN + 'configs/_base_/models/upernet_convnext.py:49'
    assert tta == [dict(type='LoadImageFromFile'), dict(type='TestTimeAug', transforms=[
        resize,
        [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
         dict(type='RandomFlip', prob=1.0, direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])], TEST_PY
