"""Import the ORIGINAL implementations exported by fetch_originals.sh into ./orig
on a CPU-only machine with no compiled extension. No file under ./orig is
edited; modules are loaded from their paths. What is stubbed, and why:

* mmcv 2.1.0 ``mmcv/ops/multi_scale_deform_attn.py``: line 16-19 import
  ``mmcv.utils.ext_loader`` and call ``ext_loader.load_ext('_ext', ...)``,
  which fails without the compiled ``mmcv._ext`` (mmcv-lite). A stand-in
  ``mmcv.utils.ext_loader`` is in place only while the file is imported; its
  ``ms_deform_attn_forward/backward`` raise if called. They are never called:
  on CPU tensors the module's forward takes the pure-PyTorch branch
  (``multi_scale_deformable_attn_pytorch``, lines 366-373). mmengine and
  ``mmcv.utils`` (IS_CUDA_AVAILABLE etc.) are the installed mmcv-lite 2.1.0 /
  mmengine ones.
* Deformable-DETR ``models/ops/functions/ms_deform_attn_func.py`` line 18
  imports the compiled ``MultiScaleDeformableAttention`` (its CUDA op; the CPU
  source only raises "Not implemented on the CPU"). It is replaced by a module
  whose ``ms_deform_attn_forward`` is the same file's
  ``ms_deform_attn_core_pytorch`` (lines 41-61) and whose
  ``ms_deform_attn_backward`` is ``torch.autograd.grad`` of it, so the
  original ``MSDeformAttnFunction`` (lines 21-38) and ``MSDeformAttn``
  module run unchanged around the original pure-PyTorch core.
* Mask2Former's copy (``mask2former/modeling/pixel_decoder/ops``): its
  ``MSDeformAttn.forward`` catches any error of ``MSDeformAttnFunction.apply``
  and falls back to ``ms_deform_attn_core_pytorch`` (modules/ms_deform_attn.py
  lines 116-121, "CPU"). The compiled module is replaced by one whose entry
  points raise ``RuntimeError('Not implemented on the CPU')`` as the real
  compiled op does for CPU tensors, so the original fallback runs.
* DCNv4 ``DCNv4_op/DCNv4``: ``DCNv4.ext`` (the compiled CUDA extension) ->
  ``flash_ref.FakeExt``; ``torch.cuda.get_device_properties`` answers sm 9.0
  while ``DCNv4`` is imported (``functions/flash_deform_attn_func.py:31`` reads
  it at import time to pick a shared-memory size that the CPU path never uses).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

import torch

from flash_ref import FakeExt

HERE = os.path.dirname(os.path.abspath(__file__))
ORIG = os.path.join(HERE, 'orig')


def _need(path):
    if not os.path.exists(path):
        raise FileNotFoundError(
            f'{path} is missing: run tests/data/ms_deform_attn/generator/fetch_originals.sh '
            'from the repository root first')
    return path


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, _need(path))
    m = importlib.util.module_from_spec(spec)
    sys.modules[name] = m
    spec.loader.exec_module(m)
    return m


def _package(name, path):
    """An empty package ``name`` whose submodules are found under ``path``."""
    p = types.ModuleType(name)
    p.__path__ = [_need(path)]
    sys.modules[name] = p
    return p


def load_mmcv():
    """mmcv v2.1.0 mmcv/ops/multi_scale_deform_attn.py as a module."""
    import mmcv.utils  # the installed mmcv-lite 2.1.0 (IS_CUDA_AVAILABLE, IS_MLU_AVAILABLE)

    def _unavailable(*a, **k):
        raise RuntimeError('mmcv._ext is not available (stand-in ext_loader)')

    fake = types.ModuleType('mmcv.utils.ext_loader')
    fake.load_ext = lambda name, funcs: types.SimpleNamespace(**{f: _unavailable for f in funcs})
    saved_mod = sys.modules.get('mmcv.utils.ext_loader')
    saved_attr = mmcv.utils.__dict__.get('ext_loader')
    sys.modules['mmcv.utils.ext_loader'] = fake
    mmcv.utils.ext_loader = fake
    try:
        m = _load(os.path.join(ORIG, 'mmcv/mmcv/ops/multi_scale_deform_attn.py'),
                  'mmcv.ops.multi_scale_deform_attn')
    finally:
        if saved_mod is None:
            del sys.modules['mmcv.utils.ext_loader']
        else:
            sys.modules['mmcv.utils.ext_loader'] = saved_mod
        if saved_attr is None:
            del mmcv.utils.ext_loader
        else:
            mmcv.utils.ext_loader = saved_attr
    return m


def load_deformable_detr():
    """Deformable-DETR models/ops as package ``ddetr_ops`` (functions, modules)."""
    _package('ddetr_ops', os.path.join(ORIG, 'Deformable-DETR/models/ops'))
    msda = types.ModuleType('MultiScaleDeformableAttention')
    calls = []

    def forward(value, shapes, level_start_index, loc, attn, im2col_step):
        calls.append('fwd')
        with torch.no_grad():
            return func.ms_deform_attn_core_pytorch(value, shapes, loc, attn)

    def backward(value, shapes, level_start_index, loc, attn, grad_output, im2col_step):
        calls.append('bwd')
        with torch.enable_grad():
            v, s, a = (t.detach().requires_grad_(True) for t in (value, loc, attn))
            out = func.ms_deform_attn_core_pytorch(v, shapes, s, a)
            return list(torch.autograd.grad(out, (v, s, a), grad_output))

    msda.ms_deform_attn_forward = forward
    msda.ms_deform_attn_backward = backward
    msda.calls = calls
    sys.modules['MultiScaleDeformableAttention'] = msda
    try:
        func = importlib.import_module('ddetr_ops.functions.ms_deform_attn_func')
        modules = importlib.import_module('ddetr_ops.modules')
    finally:
        del sys.modules['MultiScaleDeformableAttention']
    assert func.MSDA is msda
    return func, modules, msda


def load_mask2former():
    """Mask2Former's copy as package ``m2f_ops``; its CPU fallback runs."""
    _package('m2f_ops', os.path.join(ORIG, 'Mask2Former/mask2former/modeling/pixel_decoder/ops'))
    msda = types.ModuleType('MultiScaleDeformableAttention')

    def not_on_cpu(*a, **k):
        raise RuntimeError('Not implemented on the CPU')

    msda.ms_deform_attn_forward = msda.ms_deform_attn_backward = not_on_cpu
    sys.modules['MultiScaleDeformableAttention'] = msda
    try:
        func = importlib.import_module('m2f_ops.functions.ms_deform_attn_func')
        modules = importlib.import_module('m2f_ops.modules')
    finally:
        del sys.modules['MultiScaleDeformableAttention']
    return func, modules


def load_dcnv4():
    """The original DCNv4 package (DCNv4_op/DCNv4), importable as ``DCNv4``."""
    ext = types.ModuleType('DCNv4.ext')
    ext.flash_deform_attn_forward = FakeExt.flash_deform_attn_forward
    ext.flash_deform_attn_backward = FakeExt.flash_deform_attn_backward
    ext.dcnv4_forward = FakeExt.dcnv4_forward
    ext.dcnv4_backward = FakeExt.dcnv4_backward
    sys.modules['DCNv4.ext'] = ext
    p = _need(os.path.join(ORIG, 'DCNv4/DCNv4_op'))
    if p not in sys.path:
        sys.path.insert(0, p)
    real = torch.cuda.get_device_properties
    torch.cuda.get_device_properties = lambda *a, **k: types.SimpleNamespace(major=9, minor=0)
    try:
        import DCNv4
    finally:
        torch.cuda.get_device_properties = real
    assert DCNv4.__file__.startswith(p), DCNv4.__file__
    # `from DCNv4 import ext` binds the attribute of the package
    assert sys.modules['DCNv4.functions.flash_deform_attn_func'].ext is sys.modules['DCNv4.ext']
    return DCNv4
