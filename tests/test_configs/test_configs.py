"""Every config loads and its model builds; sample models also run."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers import REPO

CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def _config(path: Path) -> Config:
    # SyncBN as the configs name it: in one process torch's SyncBatchNorm runs as BN
    return Config.fromfile(str(path))


@pytest.mark.slow  # builds every full-size model
@pytest.mark.parametrize('path', CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_builds(path: Path) -> None:
    cfg = _config(path)
    assert cfg.custom_imports['imports'] == ['segkit.mmseg']
    assert cfg.default_scope == 'mmseg'
    model = MODELS.build(cfg.model)
    head = cfg.model.decode_head
    assert head.num_classes == (7 if 'sample' in path.name else
                                150 if 'ade20k' in path.name else 19)
    if 'sample' in path.name:
        model.eval()
        with torch.no_grad():
            logits = model(torch.randn(1, 3, 64, 64), mode='tensor')
        assert logits.shape[:2] == (1, 7) and 64 // logits.shape[-1] in (4, 8)


def test_dense_resnet50_matches_hand_dilated_param_count() -> None:
    cfg = _config(REPO / 'configs/dense_resnet/fcn_dense-r50-os8_4xb4-160k_ade20k-512x512.py')
    model = MODELS.build(cfg.model)
    dilated = dict(cfg.model.backbone.backbone, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                   contract_dilation=True, init_cfg=None)
    n_dense = sum(p.numel() for p in model.backbone.parameters())
    n_dilated = sum(p.numel() for p in MODELS.build(dilated).parameters())
    # torchvision ResNet-50 without its classifier has 23,508,032 parameters;
    # V1c's deep stem (3x3 convs 3-32-32-64 + BN) replaces the 7x7 conv + BN
    resnet50_body = 25_557_032 - (2048 * 1000 + 1000)
    deep_stem = 3 * 32 * 9 + 32 * 32 * 9 + 32 * 64 * 9 + 2 * (32 + 32 + 64)
    assert n_dense == n_dilated == resnet50_body - (3 * 64 * 49 + 2 * 64) + deep_stem


# Published sizes of the UPerNet ADE20K models (rounded to 1M): ConvNeXt and ConvNeXt-dcls
# from K-H-Ismail/ConvNeXt-dcls semantic_segmentation/README.md, InternImage from
# OpenGVLab/InternImage segmentation/configs/ade20k/README.md; the 'Sizes' tables of
# configs/convnext/README.md and configs/internimage/README.md list them beside segkit's counts
PUBLISHED_PARAMS = {
    'convnext/upernet_convnext-t_8xb2-160k_ade20k-512x512.py': 60e6,
    'convnext/upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py': 60e6,
    'convnext/upernet_convnext-s_8xb2-160k_ade20k-512x512.py': 82e6,
    'convnext/upernet_convnext-s-dcls_8xb2-160k_ade20k-512x512.py': 82e6,
    'convnext/upernet_convnext-b_8xb2-160k_ade20k-512x512.py': 122e6,
    'convnext/upernet_convnext-b-dcls_8xb2-160k_ade20k-512x512.py': 122e6,
    'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512.py': 59e6,
    'internimage/upernet_internimage-s_8xb2-160k_ade20k-512x512.py': 80e6,
    'internimage/upernet_internimage-b_8xb2-160k_ade20k-512x512.py': 128e6,
}


@pytest.mark.parametrize('name,expected', PUBLISHED_PARAMS.items(),
                         ids=list(PUBLISHED_PARAMS))
def test_published_segmentation_model_sizes(name: str, expected: float) -> None:
    """Counts are published rounded to 1M."""
    model = MODELS.build(_config(REPO / 'configs' / name).model)
    assert abs(sum(p.numel() for p in model.parameters()) - expected) < 0.5e6


@pytest.mark.parametrize('name,depth', [('upernet_r50-dcnv2_4xb4-160k_ade20k-512x512.py', 50),
                                        ('upernet_r101-dcnv2_4xb4-160k_ade20k-512x512.py', 101)])
def test_dcnv2_resnets_are_the_square_ones_plus_offset_convs(name: str, depth: int) -> None:
    """ResNet-50/101-DCNv2: every 3x3 conv of stages 2-4 is a DCNv2 layer
    (13 / 30 of them) without bias, whose only new parameters are its offset
    conv (27 channels: 9 taps x (dy, dx, mask)); the head's in_channels fit
    the backbone, and ImageNet V1c weights load with the offsets fresh."""
    from segkit.ops import ModulatedDeformConv2dPack

    cfg = _config(REPO / 'configs' / 'dcn_resnet' / name).model
    assert cfg.backbone.depth == depth
    assert cfg.backbone.init_cfg == dict(type='StrictPretrained', fresh=('conv_offset',),
                                         checkpoint=f'checkpoints/resnet{depth}_v1c.pth')
    model = MODELS.build(cfg)
    square = MODELS.build(dict(cfg.backbone, dcn=None, init_cfg=None))
    layers = [m for m in model.backbone.modules() if isinstance(m, ModulatedDeformConv2dPack)]
    blocks = {50: (4, 6, 3), 101: (4, 23, 3)}[depth]
    assert len(layers) == sum(blocks) and all(m.bias is None for m in layers)
    offsets = sum(27 * 9 * planes + 27 for planes, n in zip((128, 256, 512), blocks)
                  for _ in range(n))
    count = sum(p.numel() for p in model.backbone.parameters())
    assert count == sum(p.numel() for p in square.parameters()) + offsets
    with torch.no_grad():
        feats = model.backbone(torch.randn(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == cfg.decode_head.in_channels
