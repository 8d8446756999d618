"""Import the ORIGINAL OpenGVLab/DCNv4 python code (exported under ./orig by
fetch_originals.sh) on a CPU-only machine. Every change needed is here and
listed in NOTES.md ("What I had to change"):

* ``DCNv4.ext`` (the compiled CUDA extension) -> dcnv4_ref.FakeExt
* ``torch.cuda.get_device_properties`` faked (sm 9.0) only while importing
  DCNv4 (functions/flash_deform_attn_func.py:31 calls it at import time)
* ``timm.models.layers`` (trunc_normal_, DropPath) -> small stand-ins
  (timm is not installed; DropPath is never built: drop_path_rate=0)
* segmentation backbone only: ``mmcv.runner._load_checkpoint``,
  ``mmcv.cnn.{constant_init,trunc_normal_init}``, ``mmseg.utils.get_root_logger``,
  ``mmseg.models.builder.BACKBONES`` -> stand-ins (mmcv 1.x / mmseg 0.x APIs)
* DCNv3 pytorch core (for the cross-check only): ``import DCNv3`` and
  ``pkg_resources`` stubbed; the float32 linspace grids made float64 (the trap).
No file under ./orig is modified; modules are loaded from their paths.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
import types

import torch
import torch.nn as nn

from dcnv4_ref import FakeExt

HERE = os.path.dirname(os.path.abspath(__file__))
ORIG = os.path.join(HERE, 'orig')


def _mod(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class _DropPath(nn.Module):  # timm semantics; unused with drop_path_rate=0
    def __init__(self, drop_prob=0.):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


def _install_stubs():
    if 'DCNv4.ext' not in sys.modules:
        _mod('DCNv4.ext', dcnv4_forward=FakeExt.dcnv4_forward,
                   dcnv4_backward=FakeExt.dcnv4_backward,
                   flash_deform_attn_forward=FakeExt.flash_deform_attn_forward,
                   flash_deform_attn_backward=FakeExt.flash_deform_attn_backward)
    _mod('timm')
    _mod('timm.models')
    _mod('timm.models.layers', trunc_normal_=nn.init.trunc_normal_, DropPath=_DropPath)

    class _Registry:
        def register_module(self, *a, **k):
            if a and callable(a[0]):
                return a[0]
            return lambda cls: cls

    def constant_init(module, val, bias=0):
        if getattr(module, 'weight', None) is not None:
            nn.init.constant_(module.weight, val)
        if getattr(module, 'bias', None) is not None:
            nn.init.constant_(module.bias, bias)

    def trunc_normal_init(module, mean=0, std=1, a=-2, b=2, bias=0):
        if getattr(module, 'weight', None) is not None:
            nn.init.trunc_normal_(module.weight, mean, std, a, b)
        if getattr(module, 'bias', None) is not None:
            nn.init.constant_(module.bias, bias)

    _mod('mmcv')
    _mod('mmcv.runner', _load_checkpoint=lambda path, logger=None, map_location=None:
         torch.load(path, map_location=map_location, weights_only=True))
    _mod('mmcv.cnn', constant_init=constant_init, trunc_normal_init=trunc_normal_init)
    _mod('mmseg')
    _mod('mmseg.utils', get_root_logger=lambda *a, **k: logging.getLogger('orig'))
    _mod('mmseg.models')
    _mod('mmseg.models.builder', BACKBONES=_Registry())


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, _need(path))
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    spec.loader.exec_module(m)
    return m


def _need(path):
    if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} is missing: run tests/data/dcnv4/generator/fetch_originals.sh '
            'from the repository root first')
    return path


def load_dcnv4():
    """The original DCNv4 package (DCNv4_op/DCNv4), importable as ``DCNv4``."""
    _install_stubs()
    p = _need(os.path.join(ORIG, 'DCNv4_op'))
    if p not in sys.path:
        sys.path.insert(0, p)
    # flash_deform_attn_func.py:31 queries torch.cuda.get_device_properties(0)
    # at import time (shared-memory table); give it a fake sm_90 while importing.
    real = torch.cuda.get_device_properties
    torch.cuda.get_device_properties = lambda *a, **k: types.SimpleNamespace(major=9, minor=0)
    try:
        import DCNv4  # noqa: E402
    finally:
        torch.cuda.get_device_properties = real
    assert DCNv4.__file__.startswith(p), DCNv4.__file__
    return DCNv4


def load_flash_seg():
    load_dcnv4()
    return _load(os.path.join(ORIG, 'segmentation/mmseg_custom/models/backbones/'
                                    'flash_intern_image.py'), 'orig_flash_seg')


def load_flash_cls():
    load_dcnv4()
    return _load(os.path.join(ORIG, 'classification/models/flash_intern_image.py'),
                 'orig_flash_cls')


def load_dcnv3_core(grid_dtype_from_input=True):
    """dcnv3_core_pytorch from classification/ops_dcnv3/functions/dcnv3_func.py
    (the reference the DCNv4 authors test against, scripts/test_dcnv4.py:21).
    With grid_dtype_from_input the hard-coded ``dtype=torch.float32`` of the
    two linspace grids (lines 121, 129, 148, 154) is replaced by float64, the
    golden dtype (the DCNv4 kernel computes positions in opmath_t = double)."""
    path = _need(os.path.join(ORIG, 'classification/ops_dcnv3/functions/dcnv3_func.py'))
    src = open(path).read()
    src = src.replace('import DCNv3\n', 'DCNv3 = None\n')
    src = src.replace("import pkg_resources\n", '')
    src = src.replace("dcn_version = float(pkg_resources.get_distribution('DCNv3').version)",
                      'dcn_version = 1.1')
    if grid_dtype_from_input:
        n = src.count('dtype=torch.float32')
        assert n == 4, n
        src = src.replace('dtype=torch.float32', 'dtype=torch.float64')
    ns = {'__name__': 'orig_dcnv3_func'}
    exec(compile(src, path + ' (patched copy)', 'exec'), ns)
    return ns['dcnv3_core_pytorch']
