"""segkit.apis.runner: the precision a recipe trains in."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config

from segkit.apis.runner import _set_optim_wrapper
from segkit.errors import ConfigError
from tests.helpers import REPO

CONVNEXT = 'convnext/upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
INTERNIMAGE = 'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512.py'


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
