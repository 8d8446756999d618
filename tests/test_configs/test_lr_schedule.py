"""The InternImage and ConvNeXt(-dcls) recipes' learning rate equals the
originals' at every iteration.

The originals ran mmcv 1.x's ``policy='poly', warmup='linear'`` (InternImage
@ 31c962dc: configs/ade20k/upernet_internimage_t_512_160k_ade20k.py L55-59;
ConvNeXt @ 048efcea: configs/convnext/upernet_convnext_tiny_512_160k_ade20k_ss.py
L42-46; ConvNeXt-dcls @ aad45f38: the dcls leaves L45-49; max_iters 160000
from mmseg 0.x's schedule_160k.py L7). mmcv 1.5
(mmcv/runner/hooks/lr_updater.py) sets the lr BEFORE iteration ``t``
(``runner.iter``, from 0): ``LrUpdaterHook.before_train_iter`` (L137-145)
takes the regular lr ``PolyLrUpdaterHook.get_lr`` (L233-241),
``(initial_lr - min_lr) * (1 - t / max_iters) ** power + min_lr``, and while
``t < warmup_iters`` multiplies it by ``1 - (1 - t / warmup_iters) * (1 -
warmup_ratio)`` (``get_warmup_lr``, L85-97). mmengine steps its schedulers
AFTER each iteration (``ParamSchedulerHook.after_train_iter``), so iteration
``t`` runs with the value after ``t`` steps; that is what is compared here.
"""
from __future__ import annotations

import warnings

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import PARAM_SCHEDULERS

from tests.helpers import REPO

# (warmup_iters, warmup_ratio, power, min_lr, max_iters) of the originals
ORIGINAL = dict(warmup_iters=1500, warmup_ratio=1e-6, power=1.0, min_lr=0.0, max_iters=160000)
FAMILIES = {
    'internimage': 'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512.py',
    'convnext': 'convnext/upernet_convnext-t_8xb2-160k_ade20k-512x512.py',
}


def mmcv_lr(t: int, initial_lr: float, warmup_iters: int, warmup_ratio: float, power: float,
            min_lr: float, max_iters: int) -> float:
    """mmcv 1.x's lr of iteration ``t`` (see the module docstring)."""
    regular = (initial_lr - min_lr) * (1 - t / max_iters) ** power + min_lr
    if t < warmup_iters:
        return regular * (1 - (1 - t / warmup_iters) * (1 - warmup_ratio))
    return regular


def _lrs(cfg: Config, base_lrs: tuple[float, ...], iterations: int):
    """The lr of every group at each iteration, as mmengine's runner sets it."""
    optimizer = torch.optim.SGD([dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=lr)
                                 for lr in base_lrs])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # scheduler.step() without optimizer.step()
        schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                      for s in cfg.param_scheduler]
        for _ in range(iterations):
            yield [group['lr'] for group in optimizer.param_groups]
            for scheduler in schedulers:
                scheduler.step()


@pytest.mark.parametrize('family', list(FAMILIES))
def test_lr_equals_mmcv_at_every_iteration(family: str) -> None:
    cfg = Config.fromfile(str(REPO / 'configs' / FAMILIES[family]))
    assert cfg.train_cfg.max_iters == ORIGINAL['max_iters']
    base = cfg.optim_wrapper.optimizer.lr
    base_lrs = (base, base * 0.9 ** 7)  # a layer-decayed group too
    worst = 0.0
    for t, lrs in enumerate(_lrs(cfg, base_lrs, ORIGINAL['max_iters'])):
        for lr, initial in zip(lrs, base_lrs):
            expected = mmcv_lr(t, initial, **ORIGINAL)
            worst = max(worst, abs(lr - expected) / expected)
    assert worst < 1e-9, f'largest relative difference {worst:.3g}'


@pytest.mark.parametrize('family', list(FAMILIES))
def test_every_config_of_the_family_has_the_schedule(family: str) -> None:
    reference = Config.fromfile(str(REPO / 'configs' / FAMILIES[family]))
    paths = sorted((REPO / 'configs' / family).glob('*.py'))
    assert len(paths) > 3
    for path in paths:
        cfg = Config.fromfile(str(path))
        assert cfg.param_scheduler == reference.param_scheduler, path.name
        assert cfg.train_cfg == reference.train_cfg, path.name


def test_mmseg_translation_is_not_exact() -> None:
    """mmseg 1.x's own translation (LinearLR to 1500, then PolyLR from 1500,
    as in its ConvNeXt configs) is 0.07 % off during warm-up and +0.95 %
    after it; the recipes use the exact form (why this test exists: it shows
    the comparison above can fail)."""
    cfg = Config(dict(param_scheduler=[
        dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
        dict(type='PolyLR', power=1.0, eta_min=0.0, begin=1500, end=160000, by_epoch=False)]))
    lrs = [lr for lr, in _lrs(cfg, (1.0,), 3001)]
    assert lrs[1] / mmcv_lr(1, 1.0, **ORIGINAL) - 1 > 6e-4  # ~1500/1499
    assert lrs[3000] / mmcv_lr(3000, 1.0, **ORIGINAL) == pytest.approx(160000 / 158500, rel=1e-4)
