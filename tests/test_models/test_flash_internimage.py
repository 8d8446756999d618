"""FlashInternImage reproduces the original models exactly.

Reference: ``tests/data/dcnv4/flash_internimage_golden*.pt`` (see
``tests/data/dcnv4/README.md``): small models built with the original
FlashInternImage classes (OpenGVLab/DCNv4@4b848f7, segmentation and
classification), their checkpoints in the released layouts, an input and the
four stage outputs the original computes, in float64. Each goes through both
loading routes (``init_cfg``, and the convert tool then ``init_cfg``).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segkit.models import FlashInternImage
from segkit.ops import DCNv4
from tests.helpers import REPO, run_tool_in_process
from tests.helpers.backbones import check_output_stride, check_shapes_and_gradients

DATA = REPO / 'tests' / 'data' / 'dcnv4'
MODELS = {**torch.load(DATA / 'flash_internimage_golden.pt', weights_only=True)['models'],
          **torch.load(DATA / 'flash_internimage_golden_extra.pt', weights_only=True)['models']}
# the original's arguments that are segkit's arch (the rest are the same words)
ARCH_KEYS = ('channels', 'depths', 'groups', 'layer_scale', 'post_norm', 'offset_scale',
             'dw_kernel_size', 'mlp_fc2_bias', 'dcn_output_bias')


def _build(golden: dict, **kwargs) -> FlashInternImage:
    args = golden['constructor_kwargs']
    arch = {k: args[k] for k in ARCH_KEYS if k in args}
    return FlashInternImage(arch, mlp_ratio=args['mlp_ratio'], drop_path_rate=0.0, **kwargs)


def _checkpoint_file(golden: dict, path: Path) -> Path:
    """The released-layout checkpoint, as float64 (stored as exact float16)."""
    checkpoint = {key: {k: v.double() for k, v in state.items()}
                  for key, state in golden['checkpoint'].items()}
    torch.save(checkpoint, path)
    return path


def _assert_reproduces(net: FlashInternImage, golden: dict) -> None:
    net = net.double().eval()
    with torch.no_grad():
        outs = net(golden['input'])
    for i, (out, ref) in enumerate(zip(outs, golden['outputs'], strict=True)):
        err = ((out - ref).abs().max() / ref.abs().max()).item()
        assert err <= 1e-10, f'stage {i}: relative error {err:.2e}'


@pytest.mark.parametrize('name', sorted(MODELS))
def test_golden_model_through_init_cfg(name: str, tmp_path: Path) -> None:
    golden = MODELS[name]
    path = _checkpoint_file(golden, tmp_path / 'released.pth')
    extra = {} if golden['constructor_kwargs'].get('layer_scale') is None else dict(
        layer_scale=golden['constructor_kwargs']['layer_scale'])
    net = _build(golden, init_cfg=dict(type='Pretrained', checkpoint=str(path)), **extra)
    net.init_weights()  # strict: any missing or unexpected key is an error
    _assert_reproduces(net, golden)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['T_like_seg', 'T_like_cls'])
def test_golden_model_through_the_convert_tool(name: str, tmp_path: Path) -> None:
    golden = MODELS[name]
    src, dst = _checkpoint_file(golden, tmp_path / 'released.pth'), tmp_path / 'converted.pth'
    run_tool_in_process('tools/convert_checkpoint.py', 'flash_internimage', src, dst)
    net = _build(golden, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    net.init_weights()
    _assert_reproduces(net, golden)


def test_classification_files_prefer_the_ema_weights(tmp_path: Path) -> None:
    """As the original's loader: model_ema before model."""
    golden = MODELS['T_like_cls']
    state = {k: v.double() for k, v in golden['checkpoint']['model'].items()}
    junk = {k: torch.randn_like(v) for k, v in state.items()}
    torch.save({'model': junk, 'model_ema': state}, tmp_path / 'ema.pth')
    net = _build(golden, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'ema.pth')))
    net.init_weights()
    _assert_reproduces(net, golden)


def test_arch_table_is_the_released_models() -> None:
    """Parameters of the released ImageNet backbones (without the classifier),
    and the per-size settings of the original's classification configs."""
    tiny = FlashInternImage('tiny')
    blocks = [m for m in tiny.modules() if isinstance(m, DCNv4)]
    assert len(blocks) == 30 and all(b.dw_kernel_size is None for b in blocks)
    assert blocks[0].offset_mask.out_features == 112  # 4 groups * 27 -> 112
    assert tiny.levels[0].blocks[0].mlp.fc2.bias is None
    assert blocks[0].output_proj.bias is None
    base = FlashInternImage('base')
    assert {m.offset_scale for m in base.modules() if isinstance(m, DCNv4)} == {0.5}
    # the released classifier: a 1x1 conv to 1.5x the channels, BN, a 1000-way linear
    head = 768 * 1152 + 2 * 1152 + 1152 * 1000 + 1000
    params = sum(p.numel() for p in tiny.parameters()) + head
    assert abs(params - 30e6) < 0.75e6, params  # published: FlashInternImage-T 30M


def test_shapes_gradients_and_output_stride() -> None:
    arch = dict(channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], dw_kernel_size=3)
    net = FlashInternImage(arch, drop_path_rate=0.1)
    net.init_weights()
    check_shapes_and_gradients(net, torch.randn(2, 3, 64, 48),
                               [(2, 16, 16, 12), (2, 32, 8, 6), (2, 64, 4, 3), (2, 128, 2, 2)])
    torch.manual_seed(0)
    plain = FlashInternImage(arch)
    for name, p in plain.named_parameters():  # deform for real
        if 'offset_mask' in name:
            p.data.normal_(0, 0.2)
    dense = FlashInternImage(arch, output_stride=8)
    check_output_stride(plain, dense, 8, torch.randn(1, 3, 70, 64))
