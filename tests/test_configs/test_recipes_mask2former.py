"""The Mask2Former configs equal their originals, field by field.

FlashInternImage: OpenGVLab/DCNv4 @ 4b848f7dd7da74ff03f7d278f902c6fd05b391b5,
segmentation/configs/ade20k/mask2former_flash_internimage_{t_512,s_640,b_640}_
160k_ade20k_ss.py (mmseg 0.27, mmcv-full 1.5, mmdet 2.28) on
_base_/models/mask2former_beit.py, _base_/datasets/ade20k.py,
_base_/default_runtime.py and _base_/schedules/schedule_160k.py; the code that
runs them is segmentation/mmseg_custom/ (head, pixel decoder, transformer
layers, losses, match costs, assigner) and mmcv_custom/ (the layer-decay
constructor). Each value below names its file and line there, written in its
mmseg 1.x / mmdet 3.x form: the pixel decoder's DetrTransformerEncoder of
BaseTransformerLayers is mmdet's Mask2FormerTransformerEncoder, the
DetrTransformerDecoder of DetrTransformerDecoderLayers is
Mask2FormerTransformerDecoder (``layer_cfg`` with ``self_attn_cfg`` /
``cross_attn_cfg`` / ``ffn_cfg`` for ``attn_cfgs`` / ``ffn_cfgs``; the
operation orders are the classes' own, checked in
tests/test_models/test_mask2former_head.py), MaskHungarianAssigner(cls_cost,
mask_cost, dice_cost) is HungarianAssigner(match_costs), the segmentor-level
train_cfg is the head's, ToMask is the head's _seg_data_to_instance_data,
Normalize/Pad the data preprocessor. Deliberate differences are asserted as
such (test names say so) and listed in configs/mask2former/README.md.

R-50: mmseg 1.2.2's own configs/mask2former/*.py, as installed: segkit's
configs inherit them and change only what the README lists.
"""
from __future__ import annotations

import re
from pathlib import Path

import mmseg
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from segkit.models import FlashInternImage, InternImage
from tests.helpers import REPO
from tests.helpers.original_constructors import original_flash_internimage
from tests.helpers.recipes import default_of, mismatches, plain
from tests.test_configs import test_recipes_internimage as internimage

REPO_AT = 'DCNv4@4b848f7d:segmentation/configs/ade20k/'
BASE_MODEL = 'DCNv4@4b848f7d:segmentation/configs/_base_/models/mask2former_beit.py'
DATASET = 'DCNv4@4b848f7d:segmentation/configs/_base_/datasets/ade20k.py'
RUNTIME = 'DCNv4@4b848f7d:segmentation/configs/_base_/default_runtime.py'
SCHEDULE = 'DCNv4@4b848f7d:segmentation/configs/_base_/schedules/schedule_160k.py'
PIXEL_DECODER = ('DCNv4@4b848f7d:segmentation/mmseg_custom/models/plugins/'
                 'msdeformattn_pixel_decoder.py')
LEAF = {'t': 'mask2former_flash_internimage_t_512_160k_ade20k_ss.py',
        's': 'mask2former_flash_internimage_s_640_160k_ade20k_ss.py',
        'b': 'mask2former_flash_internimage_b_640_160k_ade20k_ss.py'}
SEGKIT = {'t': 'mask2former_flashinternimage-t_8xb2-160k_ade20k-512x512.py',
          's': 'mask2former_flashinternimage-s_8xb2-160k_ade20k-640x640.py',
          'b': 'mask2former_flashinternimage-b_8xb2-160k_ade20k-640x640.py'}
# leaf L11-31 (S/B: L11-32)
SIZES = {
    't': dict(arch='tiny', channels=64, depths=[4, 4, 18, 4], groups=[4, 8, 16, 32],
              drop_path_rate=0.2, offset_scale=1.0, post_norm=False, dw_kernel_size=None,
              in_channels=[64, 128, 256, 512], num_queries=100, encoder_ffn=1024,
              crop=(512, 512), scale=(2048, 512), decay=0.9, num_layers=30, clip=0.01),
    's': dict(arch='small', channels=80, depths=[4, 4, 21, 4], groups=[5, 10, 20, 40],
              drop_path_rate=0.3, offset_scale=1.0, post_norm=True, dw_kernel_size=3,
              in_channels=[80, 160, 320, 640], num_queries=200, encoder_ffn=2048,
              crop=(640, 640), scale=(2560, 640), decay=1.0, num_layers=33, clip=0.1),
    'b': dict(arch='base', channels=112, depths=[4, 4, 21, 4], groups=[7, 14, 28, 56],
              drop_path_rate=0.4, offset_scale=0.5, post_norm=True, dw_kernel_size=3,
              in_channels=[112, 224, 448, 896], num_queries=200, encoder_ffn=2048,
              crop=(640, 640), scale=(2560, 640), decay=1.0, num_layers=33, clip=0.1),
}


def _segkit(size: str) -> Config:
    return Config.fromfile(str(REPO / 'configs' / 'mask2former' / SEGKIT[size]))


def _leaf(size: str, lines: int | str) -> str:
    """``lines`` (``12`` or ``'109-121,150'``) are T's; S and B have one more
    backbone line (dw_kernel_size, L27) and one more blank line after the
    optimizer (L144)."""
    def shift(match: re.Match) -> str:
        line = int(match.group())
        return str(line + (size != 't') * ((line >= 27) + (line >= 143)))

    return f'{REPO_AT}{LEAF[size]}:{re.sub(r"[0-9]+", shift, str(lines))}'


def _expected(size: str) -> list:
    s, leaf = SIZES[size], (lambda n: _leaf(size, n))
    attention = dict(embed_dims=256, num_heads=8, attn_drop=0.0, proj_drop=0.0,
                     dropout_layer=None)
    head, pd = 'model.decode_head.', 'model.decode_head.pixel_decoder.'
    encoder = pd + 'encoder.layer_cfg.'
    decoder = head + 'transformer_decoder.'
    crop, scale = s['crop'], s['scale']
    train = [dict(type='LoadImageFromFile'),
             dict(type='LoadAnnotations', reduce_zero_label=True),
             dict(type='RandomResize', scale=scale, ratio_range=(0.5, 2.0), keep_ratio=True),
             dict(type='RandomCrop', crop_size=crop, cat_max_ratio=0.75),
             dict(type='RandomFlip', prob=0.5),
             dict(type='PhotoMetricDistortion'),
             dict(type='PackSegInputs')]
    test = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=scale, keep_ratio=True),
            dict(type='ResizeToMultiple', size_divisor=32),
            dict(type='LoadAnnotations', reduce_zero_label=True),
            dict(type='PackSegInputs')]
    return [
        # backbone (arch table: test_arch_and_weights_equal_the_original)
        ('model.backbone.type', 'FlashInternImage', leaf(15)),
        ('model.backbone.drop_path_rate', s['drop_path_rate'], leaf(21)),
        ('model.backbone.layer_scale', 1.0, leaf(23)),
        ('model.backbone.offset_scale', s['offset_scale'], leaf(24)),
        ('model.backbone.out_indices', (0, 1, 2, 3), leaf(27)),
        ('model.backbone.init_cfg.type', 'Pretrained', leaf(28)),
        ('model.backbone.init_cfg.checkpoint',
         f'checkpoints/flash_intern_image_{size}_1k_224.pth', leaf(11)),
        # head
        (head + 'in_channels', s['in_channels'], leaf(30)),
        (head + 'feat_channels', 256, leaf(31)),
        (head + 'out_channels', 256, leaf(32)),
        (head + 'num_classes', 150, leaf('10,33')),
        (head + 'num_queries', s['num_queries'], leaf(34)),
        (head + 'num_transformer_feat_level', 3, BASE_MODEL + ':30'),
        (head + 'enforce_decoder_input_project', False, BASE_MODEL + ':64'),
        (head + 'align_corners', False, 'mmseg 0.27 BaseDecodeHead (align_corners=False)'),
        # pixel decoder
        (pd + 'type', 'mmdet.MSDeformAttnPixelDecoder', leaf(36)),
        (pd + 'num_outs', 3, leaf(37)),
        (pd + 'norm_cfg', dict(type='GN', num_groups=32), leaf(38)),
        (pd + 'act_cfg', dict(type='ReLU'), leaf(39)),
        (pd + 'encoder.num_layers', 6, leaf(42)),
        (pd + 'encoder.init_cfg', None, leaf(65)),
        (encoder + 'self_attn_cfg.embed_dims', 256, leaf(47)),
        (encoder + 'self_attn_cfg.num_heads', 8, leaf(48)),
        (encoder + 'self_attn_cfg.num_levels', 3, leaf(49)),
        (encoder + 'self_attn_cfg.num_points', 4, leaf(50)),
        (encoder + 'self_attn_cfg.im2col_step', 64, leaf(51)),
        (encoder + 'self_attn_cfg.dropout', 0.0, leaf(52)),
        (encoder + 'self_attn_cfg.norm_cfg', None, leaf(54)),
        (encoder + 'self_attn_cfg.init_cfg', None, leaf(55)),
        (encoder + 'ffn_cfg', dict(embed_dims=256, feedforward_channels=s['encoder_ffn'],
                                   num_fcs=2, ffn_drop=0.0,
                                   act_cfg=dict(type='ReLU', inplace=True)), leaf('57-63')),
        (pd + 'positional_encoding', dict(num_feats=128, normalize=True), leaf('66-67')),
        (pd + 'init_cfg', None, leaf(68)),
        # transformer decoder
        (head + 'positional_encoding', dict(num_feats=128, normalize=True), leaf('69-70')),
        (decoder + 'return_intermediate', True, leaf(73)),
        (decoder + 'num_layers', 9, leaf(74)),
        # one attn_cfgs for both attentions (batch_first: a deliberate difference)
        *[(f'{decoder}layer_cfg.{attn}_attn_cfg.{key}', value, leaf(line))
          for attn in ('self', 'cross') for (key, value), line in zip(attention.items(),
                                                                       range(79, 84))],
        (decoder + 'layer_cfg.ffn_cfg', dict(embed_dims=256, feedforward_channels=2048,
                                             num_fcs=2, act_cfg=dict(type='ReLU', inplace=True),
                                             ffn_drop=0.0, dropout_layer=None,
                                             add_identity=True), leaf('85-94')),
        (decoder + 'init_cfg', None, leaf(97)),
        # losses
        (head + 'loss_cls', dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False,
                                 loss_weight=2.0, reduction='mean',
                                 class_weight=[1.0] * 150 + [0.1]), leaf('98-103')),
        (head + 'loss_mask', dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True,
                                  reduction='mean', loss_weight=5.0), BASE_MODEL + ':99-103'),
        (head + 'loss_dice', dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True,
                                  reduction='mean', naive_dice=True, eps=1.0, loss_weight=5.0),
         BASE_MODEL + ':104-111'),
        # point sampling and matching
        (head + 'train_cfg.num_points', 12544, BASE_MODEL + ':113'),
        (head + 'train_cfg.oversample_ratio', 3.0, BASE_MODEL + ':114'),
        (head + 'train_cfg.importance_sample_ratio', 0.75, BASE_MODEL + ':115'),
        (head + 'train_cfg.assigner', dict(type='mmdet.HungarianAssigner', match_costs=[
            dict(type='mmdet.ClassificationCost', weight=2.0),
            dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
            dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
         BASE_MODEL + ':116-122'),
        (head + 'train_cfg.sampler', dict(type='mmdet.MaskPseudoSampler'), BASE_MODEL + ':123'),
        ('model.test_cfg.mode', 'whole', leaf(105)),
        # Normalize(to_rgb) and Pad(crop, 0, 255) of the 0.x pipeline
        ('model.data_preprocessor.mean', [123.675, 116.28, 103.53], leaf('106-107')),
        ('model.data_preprocessor.std', [58.395, 57.12, 57.375], leaf('106-107')),
        ('model.data_preprocessor.bgr_to_rgb', True, leaf(107)),
        ('model.data_preprocessor.pad_val', 0, leaf(117)),
        ('model.data_preprocessor.seg_pad_val', 255, leaf(117)),
        ('model.data_preprocessor.size', crop, leaf('108,117')),
        # optimizer; fp32: the fp16 line is commented out
        ('optim_wrapper.type', 'OptimWrapper', leaf(157)),
        # T gives no betas (L139): torch.optim.AdamW's default
        ('optim_wrapper.optimizer', dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                                         weight_decay=0.05), leaf(139)),
        ('optim_wrapper.constructor', 'InternImageLayerDecayOptimizerConstructor', leaf(140)),
        ('optim_wrapper.paramwise_cfg.layer_decay_rate', s['decay'], leaf(141)),
        ('optim_wrapper.clip_grad', dict(max_norm=s['clip'], norm_type=2), leaf(154)),
        # schedule (the lr values: test_schedule_is_internimages below)
        ('train_cfg.type', 'IterBasedTrainLoop', leaf(153)),
        ('train_cfg.max_iters', 160000, SCHEDULE + ':7'),
        ('train_cfg.val_interval', 5000, leaf(156)),
        ('default_hooks.checkpoint.by_epoch', False, leaf(155)),
        ('default_hooks.checkpoint.interval', 5000, leaf(155)),
        ('default_hooks.checkpoint.max_keep_ckpts', 1, leaf(155)),
        ('default_hooks.checkpoint.save_best', 'mIoU', leaf(156)),
        ('val_evaluator', dict(type='IoUMetric', iou_metrics=['mIoU']), leaf(156)),
        ('default_hooks.logger.interval', 50, RUNTIME + ':3'),
        ('env_cfg.cudnn_benchmark', True, RUNTIME + ':14'),
        # data
        ('train_dataloader.batch_size', 2, leaf(149)),
        ('train_dataloader.num_workers', 4, DATASET + ':36'),
        ('train_dataloader.dataset.type', 'ADE20KDataset', DATASET + ':2'),
        ('train_dataloader.dataset.data_prefix.img_path', 'images/training', DATASET + ':40'),
        ('train_dataloader.dataset.data_prefix.seg_map_path', 'annotations/training',
         DATASET + ':41'),
        ('val_dataloader.dataset.data_prefix.img_path', 'images/validation', DATASET + ':46'),
        ('val_dataloader.dataset.data_prefix.seg_map_path', 'annotations/validation',
         DATASET + ':47'),
        ('train_dataloader.dataset.pipeline', train, leaf('109-121,150')),
        ('val_dataloader.dataset.pipeline', test, leaf('122-137,151')),
        ('test_dataloader.dataset.pipeline', test, leaf('122-137,152')),
    ]


@pytest.mark.parametrize('size', 'tsb')
def test_config_equals_the_original(size: str) -> None:
    cfg = internimage._checkable(_segkit(size))
    wrong = mismatches(cfg, _expected(size))
    assert not wrong, '\n'.join(wrong)


@pytest.mark.parametrize('size', 'tsb')
def test_arch_and_weights_equal_the_original(size: str) -> None:
    """Channels, depths, groups, post-norm, the offset branch's depthwise
    kernel (leaf L17-19, L25, S/B L27) through segkit's arch table; DCNv4
    (L16); MLP ratio 4 (L20); LayerNorm (L22, segkit's only norm); no bias on
    mlp.fc2 and dcn.output_proj (the original class's defaults)."""
    backbone = _segkit(size).model.backbone
    arch_name = backbone.get('arch', default_of(InternImage, 'arch'))
    arch = FlashInternImage.arch_settings[arch_name]
    s = SIZES[size]
    assert arch_name == s['arch']
    assert (arch['channels'], arch['depths'], arch['groups'], arch['post_norm'],
            arch['dw_kernel_size']) == (s['channels'], s['depths'], s['groups'],
                                        s['post_norm'], s['dw_kernel_size'])
    assert 'dw_kernel_size' not in backbone and 'post_norm' not in backbone
    assert (arch['mlp_fc2_bias'], arch['dcn_output_bias']) == (False, False)
    assert FlashInternImage.core_op == 'DCNv4'
    assert backbone.get('mlp_ratio', default_of(InternImage, 'mlp_ratio')) == 4.0
    # the head's in_channels are the backbone's stage widths (leaf L30)
    assert [arch['channels'] * 2 ** i for i in range(4)] == s['in_channels']


@pytest.mark.parametrize('size', 'tsb')
def test_constructor_settings_equal_the_original(size: str) -> None:
    """The original's paramwise_cfg (leaf L141-142): num_layers (+2 inside)
    and depths are the backbone's, which segkit's constructor reads from the
    model (and would refuse if a config repeated them differently)."""
    s = SIZES[size]
    assert s['num_layers'] == sum(s['depths'])
    assert set(_segkit(size).optim_wrapper.paramwise_cfg) == {'layer_decay_rate'}


@pytest.mark.parametrize('size', 'tsb')
def test_schedule_is_internimages(size: str) -> None:
    """lr_config (leaf L143-147: poly, power 1, min_lr 0, linear warm-up of
    1500 iterations from 1e-6) is InternImage's UPerNet one (its
    upernet_internimage_t_512_160k_ade20k.py L55-59), whose translation
    tests/test_configs/test_lr_schedule.py compares with mmcv at every
    iteration."""
    reference = Config.fromfile(str(REPO / 'configs' / 'internimage' /
                                    'upernet_internimage-t_8xb2-160k_ade20k-512x512.py'))
    assert _segkit(size).param_scheduler == reference.param_scheduler


@pytest.mark.parametrize('size', 'tsb')
def test_tta_equals_the_original_aug_test(size: str) -> None:
    """--tta as test.py --aug-test (DCNv4's L138-143: ratios 0.5-1.75 and
    flip on the leaf's MultiScaleFlipAug(img_scale), then ResizeToMultiple)."""
    tta = plain(_segkit(size).tta_pipeline)
    w, h = SIZES[size]['scale']
    ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert tta[1]['transforms'][0] == [
        dict(type='Resize', scale=[int(w * r), int(h * r)], keep_ratio=True) for r in ratios]
    assert tta[1]['transforms'][1] == [dict(type='ResizeToMultiple', size_divisor=32)]
    assert [t['prob'] for t in tta[1]['transforms'][2]] == [0.0, 1.0]


def test_deliberate_difference_attention_layout() -> None:
    """Deliberate difference: the originals' attentions are batch_first=False
    (leaf L53, L84: mmcv 1.x's (L, N, C) layout); mmdet 3.x's Mask2Former
    layers are written for batch_first=True. The layout changes no value."""
    cfg = _segkit('t').model.decode_head
    assert cfg.pixel_decoder.encoder.layer_cfg.self_attn_cfg.batch_first is True
    assert cfg.transformer_decoder.layer_cfg.self_attn_cfg.batch_first is True


def test_deliberate_difference_unused_test_cfg_keys() -> None:
    """Deliberate difference: the original's model test_cfg also holds the
    panoptic/instance keys of its base (mask2former_beit.py L124-135:
    panoptic_on, semantic_on, instance_on, max_per_image, iou_thr,
    filter_low_score), which its semantic segmentor never reads; segkit's
    test_cfg is mode='whole' only. The original's segmentor type
    EncoderDecoderMask2Former is mmseg 1.x's EncoderDecoder with segkit's
    InternImageMask2FormerHead, which predicts as that segmentor did."""
    model = _segkit('t').model
    assert plain(model.test_cfg) == dict(mode='whole')
    assert model.type == 'EncoderDecoder'
    assert model.decode_head.type == 'InternImageMask2FormerHead'


# --- the optimizer constructor's parameter groups -------------------------
# mmdet 3.x module names -> the original's mmcv 1.x ones (BaseTransformerLayer
# keeps attentions and FFNs in lists, in operation order: the decoder's
# cross-attention comes first)
_ORIGINAL_NAMES = [
    (r'(pixel_decoder\.encoder\.layers\.\d+\.)self_attn\.', r'\1attentions.0.'),
    (r'(transformer_decoder\.layers\.\d+\.)cross_attn\.', r'\1attentions.0.'),
    (r'(transformer_decoder\.layers\.\d+\.)self_attn\.', r'\1attentions.1.'),
    (r'(\.layers\.\d+\.)ffn\.', r'\1ffns.0.'),
]


def _original_name(name: str) -> str:
    for pattern, repl in _ORIGINAL_NAMES:
        name = re.sub(pattern, repl, name)
    assert not re.search(r'\.(self_attn|cross_attn|ffn)\.', name), name
    return name


@pytest.fixture(scope='module')
def sample_model() -> torch.nn.Module:
    """The sample Mask2Former: every kind of parameter of the recipe's model
    (FlashInternImage with DCNv4, the pixel decoder, the transformer decoder,
    the queries and embeddings), small."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'sample' /
                              'mask2former_flashinternimage-c16_sample-128x128.py'))
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('rate', [0.9, 1.0, 0.75])
def test_param_groups_equal_the_original_rule(sample_model: torch.nn.Module,
                                              rate: float) -> None:
    """The T recipe's optimizer (rate 0.9; S and B 1.0) on the sample model,
    parameter by parameter against DCNv4's CustomLayerDecayOptimizerConstructor
    (tests/helpers/original_constructors.py) applied to the parameter's name
    in the original's modules."""
    wrapper = _segkit('t').optim_wrapper.to_dict()
    wrapper['paramwise_cfg'] = dict(layer_decay_rate=rate)
    base_lr, base_wd = wrapper['optimizer']['lr'], wrapper['optimizer']['weight_decay']
    names = {id(p): n for n, p in sample_model.named_parameters()}
    groups = {}
    for group in build_optim_wrapper(sample_model, wrapper).optimizer.param_groups:
        for p in group['params']:
            groups[names[id(p)]] = (group['lr'] / base_lr, group['weight_decay'])
    params = dict(sample_model.named_parameters())
    assert set(groups) == set(params), 'every parameter is in exactly one group'
    depths = sample_model.backbone.depths
    paramwise = dict(num_layers=sum(depths), layer_decay_rate=rate, depths=depths)
    wrong = []
    for name, param in params.items():
        expected = original_flash_internimage(_original_name(name), tuple(param.shape),
                                              paramwise, base_wd)
        got = groups[name]
        if got[0] != pytest.approx(expected[0], rel=1e-12) or got[1] != expected[1]:
            wrong.append((name, expected, got))
    assert not wrong, f'{len(wrong)} of {len(params)} differ (name, original, segkit): {wrong[:5]}'
    # spelled out: the queries and the class/mask embeddings sit at layer 0 with
    # the stem, the pixel decoder's deformable offsets decay no weight
    top = sum(depths) + 1
    assert groups['decode_head.query_feat.weight'] == (pytest.approx(rate ** top), base_wd)
    assert groups['decode_head.cls_embed.weight'] == (pytest.approx(rate ** top), base_wd)
    assert groups['decode_head.pixel_decoder.level_encoding.weight'] == (1.0, base_wd)
    offsets = 'decode_head.pixel_decoder.encoder.layers.0.self_attn.sampling_offsets.weight'
    assert groups[offsets] == (1.0, 0.0)


# --- mmseg 1.x's own R-50 recipes -----------------------------------------
R50 = ['mask2former_r50_8xb2-160k_ade20k-512x512.py',
       'mask2former_r50_8xb2-90k_cityscapes-512x1024.py']


def _unscoped(value: object) -> object:
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_unscoped(v) for v in value)
    return value


@pytest.mark.parametrize('name', R50)
def test_r50_is_mmsegs_recipe_but_what_segkit_changes(name: str) -> None:
    """Everything of mmseg 1.2.2's config (as installed), but: segkit.mmseg
    imported (mmseg's ADE20K config imports mmdet.models, its Cityscapes
    config nothing), SemanticMask2FormerHead (mmseg's head that also runs in
    mode='tensor'), and the ImageNet file 'torchvision://resnet50' resolves to
    under mmengine 0.10 (torchvision's IMAGENET1K_V1) read from checkpoints/."""
    original = Config.fromfile(str(Path(mmseg.__file__).parent / '.mim' / 'configs' /
                                   'mask2former' / name)).to_dict()
    # mmengine marks what an 'mmseg::' base brings with its scope
    ours = _unscoped(Config.fromfile(str(REPO / 'configs' / 'mask2former' / name)).to_dict())
    assert original['model']['backbone']['init_cfg'] == dict(
        type='Pretrained', checkpoint='torchvision://resnet50')
    from mmengine.runner.checkpoint import get_torchvision_models

    assert get_torchvision_models()['resnet50'].endswith('/resnet50-0676ba61.pth')
    assert ours['model']['backbone'].pop('init_cfg') == dict(
        type='Pretrained', checkpoint='checkpoints/resnet50-0676ba61.pth')
    del original['model']['backbone']['init_cfg']
    assert original['model']['decode_head'].pop('type') == 'Mask2FormerHead'
    assert ours['model']['decode_head'].pop('type') == 'SemanticMask2FormerHead'
    assert ours.pop('custom_imports') == dict(imports=['segkit.mmseg'],
                                              allow_failed_imports=False)
    assert original.pop('custom_imports', dict(imports='mmdet.models'))['imports'] == \
        'mmdet.models'
    assert ours == original
    assert ours['train_dataloader']['dataset']['data_root'] == (
        'data/ade/ADEChallengeData2016' if 'ade20k' in name else 'data/cityscapes/')
