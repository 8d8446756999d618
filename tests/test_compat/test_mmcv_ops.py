"""segkit.compat: mmseg imports and runs on mmcv-lite with the mmcv.ops stand-in."""
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
    assert getattr(mmcv.ops, '__segkit_standin__', False)
    assert compat.install_mmcv_ops_standin()  # idempotent


def test_missing_op_names_itself() -> None:
    with pytest.raises(ModuleNotFoundError, match=r'mmcv\.ops\.RoIAlign .*mmcv\._ext'):
        from mmcv.ops import RoIAlign  # noqa: F401
    with pytest.raises(AttributeError):
        mmcv.ops.__wrapped__  # noqa: B018


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
    x = torch.arange(12, dtype=torch.float64).view(1, 1, 3, 4)
    # pixel centres in [0, 1] coordinates (align_corners=False): (j + 0.5) / W
    points = torch.tensor([[[0.5 / 4, 0.5 / 3],      # pixel (0, 0) -> 0
                            [3.5 / 4, 2.5 / 3],      # pixel (2, 3) -> 11
                            [1.0 / 4, 1.0 / 3]]],    # between (0,0),(0,1),(1,0),(1,1)
                          dtype=torch.float64)
    out = compat.point_sample(x, points)
    assert out.shape == (1, 1, 3)
    torch.testing.assert_close(out[0, 0], torch.tensor([0.0, 11.0, (0 + 1 + 4 + 5) / 4],
                                                       dtype=torch.float64))
    grid = compat.point_sample(x, points.view(1, 1, 3, 2))
    assert grid.shape == (1, 1, 1, 3)


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
    dcn = compat.DeformConv2dPack(4, 6, 3, stride=2, padding=1, dilation=1).double()
    torch.testing.assert_close(dcn(x), F.conv2d(x, dcn.weight, stride=2, padding=1))
    dcn2 = compat.ModulatedDeformConv2dPack(4, 6, 3, padding=2, dilation=2).double()
    # zero-initialised offset conv: offsets 0 and mask sigmoid(0) = 0.5
    expected = 0.5 * F.conv2d(x, dcn2.weight, padding=2, dilation=2) + dcn2.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(dcn2(x), expected)
    # an offset of exactly +1 row everywhere shifts the sampled input by one pixel
    dcn3 = compat.DeformConv2d(4, 6, 1).double()
    offset = torch.zeros(2, 2, 9, 11, dtype=torch.float64)
    offset[:, 0] = 1.0
    shifted = F.pad(x[:, :, 1:], (0, 0, 0, 1))
    torch.testing.assert_close(dcn3(x, offset), F.conv2d(shifted, dcn3.weight))


def test_dcn_registered_as_conv_layer() -> None:
    from mmcv.cnn import build_conv_layer

    layer = build_conv_layer(dict(type='DCNv2', deform_groups=1), 4, 8, 3, padding=1)
    assert isinstance(layer, compat.ModulatedDeformConv2dPack)
    assert layer(torch.randn(1, 4, 8, 8)).shape == (1, 8, 8, 8)
    layer = build_conv_layer(dict(type='DCN', deform_groups=2), 4, 8, 3, stride=2, padding=1,
                             bias=False)
    assert isinstance(layer, compat.DeformConv2dPack) and layer.deform_groups == 2
    assert layer(torch.randn(1, 4, 8, 8)).shape == (1, 8, 4, 4)


def test_deformable_convs_are_segkit_operators() -> None:
    """mmcv.ops' DCN names (classes and functions) are segkit.ops' operators,
    tested in tests/test_ops/test_deform_conv.py."""
    import segkit.ops

    for name in ('DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
                 'ModulatedDeformConv2dPack', 'deform_conv2d', 'modulated_deform_conv2d'):
        assert getattr(mmcv.ops, name) is getattr(segkit.ops, name), name
        assert name in mmcv.ops.__all__


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
