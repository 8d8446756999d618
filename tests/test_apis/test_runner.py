"""segkit.apis.runner: the precision a recipe trains in, and test-time
augmentation as each recipe defines it."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config

from segkit.apis.runner import _set_optim_wrapper, use_tta
from segkit.errors import ConfigError
from tests.helpers import REPO

CONVNEXT = 'convnext/upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
CONVNEXT_DCLS = 'convnext/upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py'
INTERNIMAGE = 'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512.py'
INTERNIMAGE_CS = 'internimage/upernet_internimage-t_8xb2-160k_cityscapes-512x1024.py'
FCN = 'dense_resnet/fcn_dense-r50-os8_4xb4-160k_ade20k-512x512.py'


def _cfg(name: str) -> Config:
    return Config.fromfile(str(REPO / 'configs' / name))


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)


def test_float16_recipe_trains_in_float32_without_cuda(no_cuda: None) -> None:
    cfg = _cfg(CONVNEXT)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    line = _set_optim_wrapper(cfg, amp=False, amp_dtype=None, on_non_finite='raise')
    assert cfg.optim_wrapper.type == 'NonFiniteGuardOptimWrapper'
    assert not {'loss_scale', 'dtype', 'autocast_dtype'} & set(cfg.optim_wrapper)
    assert cfg.optim_wrapper.constructor == 'ConvNeXtDCLSOptimizerConstructor'  # kept
    assert '\n' not in line and 'float16' in line and 'this run trains in float32' in line


def test_float16_recipe_trains_in_bfloat16_with_amp_without_cuda(no_cuda: None) -> None:
    cfg = _cfg(CONVNEXT)
    line = _set_optim_wrapper(cfg, amp=True, amp_dtype=None, on_non_finite='raise')
    assert cfg.optim_wrapper.type == 'NonFiniteGuardOptimWrapper'
    assert cfg.optim_wrapper.autocast_dtype == 'bfloat16' and 'loss_scale' not in cfg.optim_wrapper
    assert '\n' not in line and 'float16' in line and 'bfloat16 autocast' in line
    with pytest.raises(ConfigError, match='float16 mixed precision needs CUDA'):
        _set_optim_wrapper(_cfg(CONVNEXT), amp=True, amp_dtype='float16', on_non_finite='raise')


def test_float16_recipe_keeps_its_amp_on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    for amp in (False, True):
        cfg = _cfg(CONVNEXT)
        line = _set_optim_wrapper(cfg, amp=amp, amp_dtype=None, on_non_finite='raise')
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert (cfg.optim_wrapper.loss_scale, cfg.optim_wrapper.dtype) == ('dynamic', 'float16')
        assert 'as the recipe' in line


def test_float32_recipe_says_nothing(no_cuda: None) -> None:
    cfg = _cfg(INTERNIMAGE)
    assert _set_optim_wrapper(cfg, amp=False, amp_dtype=None, on_non_finite='skip') is None
    assert cfg.optim_wrapper.type == 'NonFiniteGuardOptimWrapper'
    assert cfg.optim_wrapper.on_non_finite == 'skip'


@pytest.mark.parametrize('name,mode', [(CONVNEXT, 'whole'), (CONVNEXT_DCLS, 'slide'),
                                       (INTERNIMAGE, 'whole')])
def test_tta_model_infers_as_the_recipe(name: str, mode: str) -> None:
    """ConvNeXt's multi-scale test runs on whole images, its single-scale
    test and ConvNeXt-dcls's both with sliding windows."""
    cfg = _cfg(name)
    use_tta(cfg)
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module.type == 'EncoderDecoder'
    assert cfg.model.module.test_cfg.mode == mode
    assert cfg.test_dataloader.dataset.pipeline == cfg.tta_pipeline


def _fit(h: int, w: int, scale: tuple[int, int]) -> tuple[int, int]:
    """mmcv's rescale of (h, w) into ``scale`` keeping the ratio."""
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


@pytest.mark.parametrize('name', [CONVNEXT, CONVNEXT_DCLS, INTERNIMAGE, INTERNIMAGE_CS, FCN])
def test_tta_pipeline_runs(name: str, tmp_path) -> None:
    """The recipe's TTA pipeline runs on an image: 6 scales x 2 flips, each
    view at the size the original's multi-scale test gives it."""
    h, w = 90, 120
    cv2.imwrite(str(tmp_path / 'a.jpg'), np.full((h, w, 3), 127, np.uint8))
    cv2.imwrite(str(tmp_path / 'a.png'), np.ones((h, w), np.uint8))
    cfg = _cfg(name)
    out = Compose(cfg.tta_pipeline)(dict(
        img_path=str(tmp_path / 'a.jpg'), seg_map_path=str(tmp_path / 'a.png'),
        reduce_zero_label=True, seg_fields=[]))
    shapes = [tuple(x.shape[1:]) for x in out['inputs']]
    flips = [s.flip for s in out['data_samples']]
    assert len(shapes) == 12 and flips == [False, True] * 6
    assert all(s.ori_shape == (h, w) and s.gt_sem_seg.data.shape[1:] == (h, w)
               for s in out['data_samples'])
    ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    if name == CONVNEXT_DCLS:  # short side max(512 r, 512), no cap
        expected = [_fit(h, w, (10 ** 6, max(int(512 * r), 512))) for r in ratios]
    elif name == FCN:  # mmseg 1.x: r times the image
        expected = [_fit(h, w, (int(w * r + 0.5), int(h * r + 0.5))) for r in ratios]
    else:
        base = (2048, 1024) if name == INTERNIMAGE_CS else (2048, 512)
        expected = [_fit(h, w, (int(base[0] * r), int(base[1] * r))) for r in ratios]
        if name == INTERNIMAGE:  # ResizeToMultiple(32)
            expected = [(-(-a // 32) * 32, -(-b // 32) * 32) for a, b in expected]
    assert shapes == [s for s in expected for _ in range(2)]
