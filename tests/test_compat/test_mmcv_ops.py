"""segkit.compat: mmseg and mmdet import and run on mmcv-lite, whose own mmcv.ops
imports on segkit's kernels module with segkit's operators in place."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
import torch
import torch.nn.functional as F

import mmcv.ops
import mmseg.models.decode_heads
import segkit.ops
from segkit.compat import mmcv_ops as compat


def test_standin_is_installed() -> None:
    """mmcv-lite's own mmcv.ops package imports, on segkit's kernels module."""
    import sys

    assert getattr(mmcv.ops, '__segkit_standin__', False)
    assert getattr(sys.modules['mmcv._ext'], '__segkit_standin__', False)
    assert mmcv.ops.__file__.startswith(mmcv.__path__[0])  # mmcv's, not a copy
    assert compat.install_mmcv_ops_standin()  # idempotent


def test_what_mmdet_imports_is_there() -> None:
    """The submodules and names mmdet 3.3.0 and mmseg import at module level."""
    from mmcv.ops import (CornerPool, MaskedConv2d, RoIPool, batched_nms, nms,  # noqa: F401
                          nms_match, point_sample, rel_roi_point_to_rel_img_point)
    from mmcv.ops.carafe import CARAFEPack  # noqa: F401
    from mmcv.ops.merge_cells import ConcatCell, GlobalPoolingCell, SumCell  # noqa: F401
    from mmcv.ops.nms import batched_nms as nms_batched  # noqa: F401
    from mmcv.ops.roi_align import roi_align  # noqa: F401

    import mmdet.apis  # noqa: F401
    import mmdet.models  # noqa: F401


def test_an_op_without_a_kernel_names_itself_when_called() -> None:
    from mmcv.ops import CARAFEPack

    layer = CARAFEPack(4, 2)
    with pytest.raises(ModuleNotFoundError, match=r"compiled op carafe\w* is not available"):
        layer(torch.randn(1, 4, 4, 4))
    with pytest.raises(AttributeError):
        __import__('mmcv._ext').__wrapped__  # noqa: B018


def test_batched_nms_keeps_mmcv_s_conventions() -> None:
    """mmcv's batched_nms (its own Python) on torchvision's NMS: boxes of
    another class never suppress each other, the result is (dets with their
    score, kept indices) by decreasing score, nms_cfg=None sorts only."""
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]],
                         dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    classes = torch.tensor([0, 0, 1, 0])
    dets, keep = mmcv.ops.batched_nms(boxes, scores, classes, dict(iou_threshold=0.5))
    assert keep.tolist() == [0, 2, 3]  # box 1 overlaps box 0 of its class (IoU 0.68)
    torch.testing.assert_close(dets[:, 4], scores[keep])
    torch.testing.assert_close(dets[:, :4], boxes[keep])
    _, keep = mmcv.ops.batched_nms(boxes, scores, classes, dict(iou_threshold=0.7))
    assert keep.tolist() == [0, 1, 2, 3]
    _, keep = mmcv.ops.batched_nms(boxes, scores, classes, dict(iou_threshold=0.5),
                                   class_agnostic=True)
    assert keep.tolist() == [0, 3]
    dets, inds = mmcv.ops.nms(boxes, scores, 0.5, offset=1)  # legacy +1 box sizes
    assert inds.tolist() == [0, 3] and dets.shape == (2, 5)
    groups = mmcv.ops.nms_match(torch.cat([boxes, scores[:, None]], 1), 0.5)
    assert [g.tolist() for g in groups] == [[0, 1, 2], [3]]


def test_roi_align_and_roi_pool_by_hand_and_gradients() -> None:
    """mmcv's RoIAlign (aligned, average) and RoIPool on torchvision's
    kernels: a box over a linear ramp averages to its centre's value; the
    gradients pass gradcheck."""
    ramp = torch.arange(16, dtype=torch.float64).view(1, 1, 4, 4).repeat(2, 1, 1, 1)
    # aligned: box corners in continuous coordinates, pixel i's centre at i + 0.5,
    # so this box's centre (1.5, 1.5) is pixel (1, 1), the ramp's 5
    rois = torch.tensor([[1, 0.5, 0.5, 2.5, 2.5]], dtype=torch.float64)
    out = mmcv.ops.roi_align(ramp, rois, (1, 1), 1.0, 2, 'avg', True)
    torch.testing.assert_close(out.flatten(), torch.tensor([5.0], dtype=torch.float64))
    pooled = mmcv.ops.roi_pool(ramp, torch.tensor([[0, 0., 0., 1., 1.]], dtype=torch.float64),
                               (1, 1), 1.0)
    assert pooled.item() == 5.0  # the largest of pixels (0..1, 0..1)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    boxes = torch.tensor([[0, 0.3, 0.7, 4.2, 5.1]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: mmcv.ops.roi_align(t, boxes, (2, 2), 1.0, 2),
                                     (x,))
    assert torch.autograd.gradcheck(lambda t: mmcv.ops.roi_pool(t, boxes, (2, 2), 1.0), (x,))


def test_multi_scale_deformable_attention_is_one_class_everywhere() -> None:
    """mmdet's pixel decoder re-initialises by isinstance against
    mmcv.cnn.bricks.transformer's name: it, mmcv.ops' and the registry's are
    segkit's class, an mmengine BaseModule computing with segkit's core."""
    from mmcv.cnn.bricks import transformer
    from mmdet.models.layers import msdeformattn_pixel_decoder
    from mmengine.model import BaseModule
    from mmengine.registry import MODELS

    cls = mmcv.ops.MultiScaleDeformableAttention
    assert cls is compat.MultiScaleDeformableAttention
    assert issubclass(cls, BaseModule) and issubclass(cls, segkit.ops.MultiScaleDeformableAttention)
    assert transformer.MultiScaleDeformableAttention is cls
    assert mmcv.ops.multi_scale_deform_attn.MultiScaleDeformableAttention is cls
    assert msdeformattn_pixel_decoder.MultiScaleDeformableAttention is cls
    assert MODELS.get('MultiScaleDeformableAttention') is cls
    layer = MODELS.build(dict(type='MultiScaleDeformableAttention', embed_dims=16, num_heads=2,
                              num_levels=1, batch_first=True))
    layer.init_weights()
    out = layer(torch.randn(1, 9, 16), reference_points=torch.rand(1, 9, 1, 2),
                spatial_shapes=torch.tensor([[3, 3]]))
    assert out.shape == (1, 9, 16)


@pytest.mark.parametrize('name', sorted(
    m.name for m in pkgutil.iter_modules(mmseg.models.decode_heads.__path__)))
def test_every_decode_head_module_imports(name: str) -> None:
    importlib.import_module(f'mmseg.models.decode_heads.{name}')


def test_mmseg_segmentor_builds_trains_and_predicts() -> None:
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.config import ConfigDict
    from mmengine.structures import PixelData

    norm = dict(type='BN', requires_grad=True)
    # PointRend: a cascade whose second stage samples points with point_sample
    model = MODELS.build(dict(
        type='CascadeEncoderDecoder',
        num_stages=2,
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                      dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm),
        decode_head=[
            dict(type='PSPHead', in_channels=64, in_index=3, channels=16,
                 num_classes=3, norm_cfg=norm,
                 loss_decode=dict(type='LovaszLoss', reduction='none')),
            dict(type='PointHead', in_channels=[8], in_index=[0], channels=8,
                 num_fcs=1, num_classes=3,
                 loss_decode=dict(type='CrossEntropyLoss')),
        ],
        train_cfg=ConfigDict(num_points=64, oversample_ratio=3, importance_sample_ratio=0.75),
        test_cfg=ConfigDict(mode='whole', subdivision_steps=2, subdivision_num_points=64,
                      scale_factor=2)))
    inputs = torch.rand(2, 3, 32, 32) * 255
    samples = []
    for _ in range(2):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, 32, 32))))
        sample.set_metainfo(dict(img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32)))
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    assert all(p.grad is not None for p in model.backbone.parameters())
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(
            dict(inputs=list(inputs), data_samples=samples), False), mode='predict')
    assert out[0].pred_sem_seg.data.shape == (1, 32, 32)


def test_point_sample_by_hand() -> None:
    """mmcv's own point_sample (pure PyTorch in mmcv-lite)."""
    x = torch.arange(12, dtype=torch.float64).view(1, 1, 3, 4)
    # pixel centres in [0, 1] coordinates (align_corners=False): (j + 0.5) / W
    points = torch.tensor([[[0.5 / 4, 0.5 / 3],      # pixel (0, 0) -> 0
                            [3.5 / 4, 2.5 / 3],      # pixel (2, 3) -> 11
                            [1.0 / 4, 1.0 / 3]]],    # between (0,0),(0,1),(1,0),(1,1)
                          dtype=torch.float64)
    out = mmcv.ops.point_sample(x, points)
    assert out.shape == (1, 1, 3)
    torch.testing.assert_close(out[0, 0], torch.tensor([0.0, 11.0, (0 + 1 + 4 + 5) / 4],
                                                       dtype=torch.float64))


def test_sigmoid_focal_loss_matches_mmseg_reference() -> None:
    from mmseg.models.losses.focal_loss import py_sigmoid_focal_loss

    torch.manual_seed(0)
    logits = torch.randn(20, 5, dtype=torch.float64)
    target = torch.randint(0, 6, (20,))  # 5 = background
    ours = compat.sigmoid_focal_loss(logits, target, 2.0, 0.25, None, 'none')
    one_hot = F.one_hot(target, 6)[:, :5]
    ref = py_sigmoid_focal_loss(logits, one_hot, gamma=2.0, alpha=0.25, reduction='none')
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(compat.sigmoid_focal_loss(logits, target, reduction='mean'),
                               compat.sigmoid_focal_loss(logits, target,
                                                         reduction='none').sum() / 20)
    weight = torch.rand(5, dtype=torch.float64)
    weighted = compat.sigmoid_focal_loss(logits, target, weight=weight, reduction='none')
    keep = target < 5
    torch.testing.assert_close(weighted[keep], ours[keep] * weight[target[keep]].unsqueeze(1))


def test_deform_conv_with_zero_offsets_is_a_conv() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 11, dtype=torch.float64)
    dcn = mmcv.ops.DeformConv2dPack(4, 6, 3, stride=2, padding=1, dilation=1).double()
    torch.testing.assert_close(dcn(x), F.conv2d(x, dcn.weight, stride=2, padding=1))
    dcn2 = mmcv.ops.ModulatedDeformConv2dPack(4, 6, 3, padding=2, dilation=2).double()
    # zero-initialised offset conv: offsets 0 and mask sigmoid(0) = 0.5
    expected = 0.5 * F.conv2d(x, dcn2.weight, padding=2, dilation=2) + dcn2.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(dcn2(x), expected)
    # an offset of exactly +1 row everywhere shifts the sampled input by one pixel
    dcn3 = mmcv.ops.DeformConv2d(4, 6, 1).double()
    offset = torch.zeros(2, 2, 9, 11, dtype=torch.float64)
    offset[:, 0] = 1.0
    shifted = F.pad(x[:, :, 1:], (0, 0, 0, 1))
    torch.testing.assert_close(dcn3(x, offset), F.conv2d(shifted, dcn3.weight))


def test_dcn_registered_as_conv_layer() -> None:
    from mmcv.cnn import build_conv_layer

    layer = build_conv_layer(dict(type='DCNv2', deform_groups=1), 4, 8, 3, padding=1)
    assert isinstance(layer, segkit.ops.ModulatedDeformConv2dPack)
    assert layer(torch.randn(1, 4, 8, 8)).shape == (1, 8, 8, 8)
    layer = build_conv_layer(dict(type='DCN', deform_groups=2), 4, 8, 3, stride=2, padding=1,
                             bias=False)
    assert isinstance(layer, segkit.ops.DeformConv2dPack) and layer.deform_groups == 2
    assert layer(torch.randn(1, 4, 8, 8)).shape == (1, 8, 4, 4)


def test_deformable_convs_are_segkit_operators() -> None:
    """mmcv.ops' DCN names (classes and functions) are segkit.ops' operators,
    tested in tests/test_ops/test_deform_conv.py."""
    import segkit.ops

    from mmcv.ops import deform_conv, modulated_deform_conv

    for name in ('DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
                 'ModulatedDeformConv2dPack', 'deform_conv2d', 'modulated_deform_conv2d'):
        assert getattr(mmcv.ops, name) is getattr(segkit.ops, name), name
        assert name in mmcv.ops.__all__
    assert deform_conv.DeformConv2dPack is segkit.ops.DeformConv2dPack
    assert modulated_deform_conv.ModulatedDeformConv2d is segkit.ops.ModulatedDeformConv2d


def test_ccnet_and_psanet_ops_come_from_segkit() -> None:
    from mmcv.ops import CrissCrossAttention, PSAMask
    from mmengine.registry import MODELS
    from mmseg.models.decode_heads import cc_head, psa_head

    assert CrissCrossAttention is segkit.ops.CrissCrossAttention
    assert PSAMask is segkit.ops.PSAMask
    # what mmseg's guarded imports found (None would mean "install mmcv-full")
    assert cc_head.CrissCrossAttention is CrissCrossAttention
    assert psa_head.PSAMask is PSAMask
    assert {'CrissCrossAttention', 'PSAMask'} <= set(mmcv.ops.__all__)
    assert MODELS.get('CrissCrossAttention') is CrissCrossAttention


HEADS = {
    'ccnet': dict(type='CCHead', recurrence=2),
    'psanet': dict(type='PSAHead', mask_size=(7, 7), psa_type='bi-direction'),
    'psanet-collect': dict(type='PSAHead', mask_size=(7, 7), psa_type='collect'),
    'psanet-distribute': dict(type='PSAHead', mask_size=(5, 9), psa_type='distribute'),
    'psanet-compact': dict(type='PSAHead', mask_size=(4, 4), psa_type='collect', compact=True),
}


@pytest.mark.parametrize('head', HEADS)
def test_ccnet_and_psanet_train_and_predict_on_cpu(head: str) -> None:
    """mmseg's CCNet and PSANet heads on segkit's operators: 64x64 images,
    8x8 features (stride 8), PSANet's masks on the 4x4 shrunk map."""
    from mmengine.config import ConfigDict
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    norm = dict(type='BN', requires_grad=True)
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                      dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm),
        decode_head=dict(in_channels=64, in_index=3, channels=16, num_classes=3,
                         norm_cfg=norm, **HEADS[head]),
        train_cfg=ConfigDict(), test_cfg=ConfigDict(mode='whole')))
    if head == 'ccnet':
        with torch.no_grad():  # gamma starts at 0: let the attention count
            model.decode_head.cca.gamma.scale.fill_(0.5)
    samples = []
    for _ in range(2):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, 64, 64))))
        sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(sample)
    inputs = list(torch.rand(2, 3, 64, 64) * 255)
    losses = model(**model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True),
                   mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad, no_grad
    attention = model.decode_head.cca if head == 'ccnet' else model.decode_head.attention
    assert all(p.grad.abs().sum() > 0 for p in attention.parameters())
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False),
                    mode='predict')
    assert out[0].pred_sem_seg.data.shape == (1, 64, 64)


def test_mmengine_sees_mmcv_ops_and_the_environment_report_answers() -> None:
    """mmengine asks pkgutil whether mmcv._ext is there (then its optimizer
    constructor treats mmcv.ops' DCN classes, segkit's, as DCN for
    dcn_offset_lr_mult); mmcv's collect_env asks the kernels' compiler."""
    from mmcv.utils import collect_env
    from mmengine.utils.dl_utils import mmcv_full_available

    assert mmcv_full_available()
    assert 'segkit' in collect_env()['MMCV Compiler']
