"""mmsegmentation 1.2.2's own ``tests/test_models``, run against segkit.

``tests/conftest.py`` applies to these tests too: it imports ``segkit.mmseg``
(the mmcv.ops stand-in, checkpoint loading, registration), sets the default
scope and splits the torch threads between the xdist workers. This file
gives the tests what they expect from an mmsegmentation checkout and lists,
with the reason, every test that fails here for want of a package.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Callable

import pytest
import torchvision

import mmseg

SUITE = Path(__file__).resolve().parent

# --- the checkout layout ---------------------------------------------------
# test_forward.py and test_maskformer_head.py read ``configs/`` next to their
# ``tests/`` folder, as in a source checkout: point it at the configs the
# installed mmseg ships (``mmseg/.mim/configs``, those of the 1.2.2 wheel).
# The link is made here, not committed: its target depends on the venv.
collect_ignore = ['configs']
_CONFIGS = Path(mmseg.__file__).resolve().parent / '.mim' / 'configs'


def _link_configs() -> None:
    link = SUITE / 'configs'
    if link.is_symlink() and link.resolve() == _CONFIGS:
        return
    # xdist workers all run this: link under a private name, then rename
    tmp = SUITE / f'.configs-{os.getpid()}'
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(_CONFIGS, target_is_directory=True)
    os.replace(tmp, link)


_link_configs()

# test_multimodal_encoder_decoder.py imports its helpers absolutely, as
# ``tests.test_models.test_segmentors.utils``; here ``tests`` is segkit's test
# package. The name must be the same module as the relative ``.utils`` of the
# other segmentor tests: that module registers ExampleBackbone & co. in
# mmseg's registry, and a second copy would fail with "already registered".
_segmentors = 'tests.mmseg_suite.tests.test_models.test_segmentors'
for _name in ('', '.utils'):
    sys.modules[f'tests.test_models.test_segmentors{_name}'] = importlib.import_module(
        _segmentors + _name)


def _source_checkout_mmseg(monkeypatch: pytest.MonkeyPatch) -> None:
    """test_vpd.py and test_depth_estimator.py find the configs from
    ``dirname(dirname(mmseg.__file__))``, i.e. with ``mmseg/`` next to
    ``configs/`` as in a checkout, not in site-packages."""
    monkeypatch.setattr(mmseg, '__file__', str(SUITE / 'mmseg' / '__init__.py'))


def _key(item: pytest.Item) -> str:
    """The item's node id from mmseg's ``tests/test_models/`` on."""
    path = item.path.resolve().relative_to(SUITE / 'tests' / 'test_models').as_posix()
    return '::'.join([path] + item.nodeid.split('::')[1:])


# --- no network --------------------------------------------------------------
def _torchvision_offline(filename: str, map_location: object = None) -> dict:
    """``torchvision://NAME`` without a download: a randomly initialised
    ``torchvision.models.NAME``'s state dict, so loading still goes through
    mmengine's checkpoint code and checks the parameter names and shapes."""
    return getattr(torchvision.models, filename[len('torchvision://'):])(weights=None).state_dict()


# test_forward.py pads its 4x4 demo images to the config's crop, 2x3x512x1024
# for the cityscapes configs, and trains the full model on that: 10-70 s per
# model on the CPU (up to 1.5 TFLOP, 6 GB). A crop 8 times smaller each way
# (64x128) runs the same layers and heads (every output stride divides it) and
# the same assertions.
FORWARD_CROP_DIVISOR = 8


def _smaller_crop(get_segmentor_cfg: Callable[[str], dict]) -> Callable[[str], dict]:
    def get(fname: str) -> dict:
        model = get_segmentor_cfg(fname)
        pre = model.get('data_preprocessor')
        if pre is not None and pre.get('size') is not None:
            pre['size'] = tuple(s // FORWARD_CROP_DIVISOR for s in pre['size'])
        return model

    return get


@pytest.fixture(autouse=True)
def _mmseg_test_environment(request: pytest.FixtureRequest,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    from mmengine.runner.checkpoint import CheckpointLoader

    # test_resnet.py::test_resnet_backbone initialises a ResNet-18 from
    # 'torchvision://resnet18'
    monkeypatch.setitem(CheckpointLoader._schemes, 'torchvision://', _torchvision_offline)
    if _key(request.node).rsplit('::', 1)[0] in CHECKOUT_LAYOUT:
        _source_checkout_mmseg(monkeypatch)
    if request.node.path.name == 'test_forward.py':
        monkeypatch.setattr(request.module, '_get_segmentor_cfg',
                            _smaller_crop(request.module._get_segmentor_cfg))


# --- what fails here, and why ------------------------------------------------
def _missing(package: str) -> bool:
    return importlib.util.find_spec(package) is None


# node id -> (condition, exception type, message pattern, reason). Such a test
# must fail with that exception and message (then it is reported as xfailed);
# any other failure, or a pass, fails the run. None of these needs more than
# the package named: no test here is listed for being slow.
EXPECTED_FAILURES: dict[str, tuple[bool, type[BaseException], str, str]] = {
    # mmseg's TIMMBackbone raises when timm is absent (pretrained=False: no download)
    'test_backbones/test_timm_backbone.py::test_timm_backbone':
        (_missing('timm'), RuntimeError, 'timm is not installed', 'needs timm'),
    # VPD (depth estimation) builds Stable Diffusion's UNet from the ``ldm``
    # package (mmseg's requirements/optional.txt); with it, the tests would next
    # download nyu_class_embeddings.pth from download.openmmlab.com.
    'test_backbones/test_vpd.py::TestVPD::test_forward':
        (_missing('ldm'), AssertionError, 'To use VPD model, please install',
         'needs ldm (Stable Diffusion) and the network'),
    'test_segmentors/test_depth_estimator.py::TestDepthEstimator::test__forward':
        (_missing('ldm'), AssertionError, 'To use VPD model, please install',
         'needs ldm (Stable Diffusion) and the network'),
    'test_segmentors/test_depth_estimator.py::TestDepthEstimator::test_slide_flip_inference':
        (_missing('ldm'), AssertionError, 'To use VPD model, please install',
         'needs ldm (Stable Diffusion) and the network'),
}
# tests that compute the configs' path from mmseg.__file__ (see above)
CHECKOUT_LAYOUT = {'test_backbones/test_vpd.py::TestVPD',
                   'test_segmentors/test_depth_estimator.py::TestDepthEstimator'}


# --- slow: still run by make test, skipped by ``pytest -m 'not slow'`` ------------
_VIT_B = ('builds the default ViT-B (86 M parameters) 9-18 times: its random initialisation '
          '(and trunc_normal_ in init_weights) costs more than its 224x224 forwards')
# a node id, or a file for all its tests -> why it is slow (one worker, one torch
# thread, 2 shared cores: 10-120 s each; everything else here takes < 10 s)
SLOW = {
    'test_forward.py': 'builds full models (R50/R18-d8, UPerNet-R50, HRNet, MobileNetV2) and '
                       'trains them a step on a crop 8x smaller than the config\'s (see '
                       'FORWARD_CROP_DIVISOR)',
    'test_backbones/test_beit.py::test_beit_backbone': _VIT_B,
    'test_backbones/test_beit.py::test_beit_init': _VIT_B,
    'test_backbones/test_mae.py::test_mae_backbone': _VIT_B,
    'test_backbones/test_mae.py::test_mae_init': _VIT_B,
    'test_backbones/test_vit.py::test_vit_backbone': _VIT_B,
    'test_backbones/test_vit.py::test_vit_init': _VIT_B,
    'test_backbones/test_resnet.py::test_resnet_backbone':
        'builds 22 ResNets (ResNet-50 with plugins and DCN among them), ten 224x224 forwards',
    'test_backbones/test_swin.py::test_swin_transformer':
        'builds Swin-T 11 times, forwards up to 256x256',
    'test_backbones/test_hrnet.py::test_hrnet_backbone': 'builds a 4-branch HRNet 5 times',
}


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.resolve().is_relative_to(SUITE / 'tests' / 'test_models'):
            continue  # this hook sees every test of the session
        key = _key(item)
        reason = next((r for k, r in SLOW.items() if key == k or key.startswith(k + '::')), None)
        if reason is not None:
            item.add_marker(pytest.mark.slow(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    expected = EXPECTED_FAILURES.get(_key(item))
    if call.when != 'call' or expected is None or not expected[0]:
        return report
    _, exc_type, pattern, reason = expected
    # NOTE: pytest's own xfail(raises=...) checks the type only; a test listed
    # for a missing package must fail *because of* that package.
    if report.passed:
        report.outcome = 'failed'
        report.longrepr = f'listed as failing ({reason}) but passed: update {__file__}'
    elif (call.excinfo is not None and call.excinfo.errisinstance(exc_type)
          and re.search(pattern, str(call.excinfo.value))):
        report.outcome = 'skipped'
        report.wasxfail = reason
    return report

