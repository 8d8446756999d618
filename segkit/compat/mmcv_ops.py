"""``mmcv.ops`` for mmcv-lite (mmcv 2.1.0, mmseg 1.2.2, mmdet 3.3.0, torch >= 2.6).

mmcv's compiled ops (``mmcv._ext``) cannot be built for torch 2.14 (mmcv
forces an older C++ standard than torch 2.14's headers need), so only
``mmcv-lite`` installs: mmcv's Python without the kernels. mmseg and mmdet
import ``mmcv.ops`` (a package of some 60 modules) at module level, which
breaks ``import mmseg.models`` and ``import mmdet.models``.

:func:`install_mmcv_ops_standin` makes mmcv-lite's own ``mmcv.ops`` import,
so every name and submodule mmseg, mmdet or a user imports is mmcv's:

- ``mmcv._ext`` becomes a module of kernels (:mod:`segkit.compat.mmcv_kernels`):
  torchvision's where it has the op (``nms``, ``roi_align``, ``roi_pool``),
  segkit's own elsewhere (``nms_match``), and for any other kernel a
  stand-in that imports fine and, when called, raises one
  ``ModuleNotFoundError`` naming the op; mmcv's Python around the kernels
  (``batched_nms`` and its conventions, ``RoIAlign``, ...) runs unchanged;
- the operators segkit implements replace mmcv's classes and functions
  everywhere mmcv's are bound (the ``mmcv.ops`` package and submodules,
  ``mmcv.cnn.bricks.transformer``, mmengine's ``MODELS``): DCN and DCNv2
  (:mod:`segkit.ops.dcn`), multi-scale deformable attention
  (:class:`MultiScaleDeformableAttention`, the same class under
  ``mmcv.ops`` and ``mmcv.cnn.bricks.transformer``, as mmdet's pixel
  decoder re-initialises it by ``isinstance``), CCNet's and PSANet's
  operators and the sigmoid focal loss.

mmcv's pure-PyTorch ops (``point_sample``, ``rel_roi_point_to_rel_img_point``,
``merge_cells``, ``multi_scale_deformable_attn_pytorch``) are mmcv's own.
It must run before mmseg or mmdet is imported: mmseg binds mmdet's
Mask2Former head when ``mmseg.models`` is first imported. With mmcv's
compiled ops installed, nothing is replaced.
"""
from __future__ import annotations

import importlib.util
import sys
from typing import Any

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from segkit.ops import dcn
from segkit.ops import MultiScaleDeformableAttention as _Attention
from segkit.ops.criss_cross_attention import CrissCrossAttention
from segkit.ops.psa_mask import PSAMask

from . import mmcv_kernels

__all__ = ['MultiScaleDeformableAttention', 'install_mmcv_ops_standin', 'sigmoid_focal_loss']


class MultiScaleDeformableAttention(_Attention, BaseModule):
    """mmcv 2.1.0's ``MultiScaleDeformableAttention`` as mmcv has it, an
    mmengine ``BaseModule`` registered in ``MODELS``, computed by segkit's
    core (:class:`segkit.ops.MultiScaleDeformableAttention`; same arguments,
    state dict and forward)."""


def sigmoid_focal_loss(input: torch.Tensor, target: torch.Tensor,
                       gamma: float = 2.0, alpha: float = 0.25,
                       weight: torch.Tensor | None = None,
                       reduction: str = 'mean') -> torch.Tensor:
    """Sigmoid focal loss with the semantics of ``mmcv.ops.sigmoid_focal_loss``.

    ``input`` is (N, C) logits, ``target`` (N,) class indices where the
    value C means "background" (negative for every class). ``weight``, if
    given, is per class and indexed by the target, as in mmcv's kernel;
    ``'mean'`` divides the sum by N (not N*C), also as mmcv does.
    """
    num_classes = input.size(1)
    target = target.long()
    positive = F.one_hot(target, num_classes + 1)[:, :num_classes].to(input.dtype)
    p = input.sigmoid()
    tiny = torch.finfo(input.dtype).tiny
    loss = (-alpha * (1 - p).pow(gamma) * p.clamp_min(tiny).log() * positive
            - (1 - alpha) * p.pow(gamma) * (1 - p).clamp_min(tiny).log()
            * (1 - positive))
    if weight is not None:
        loss = loss * weight[target.clamp(max=num_classes - 1)].unsqueeze(1)
    if reduction == 'mean':
        return loss.sum() / input.size(0)
    if reduction == 'sum':
        return loss.sum()
    return loss


# mmcv.ops names whose mmcv objects segkit's replace, by the submodule defining them
_SEGKIT_OPS = {
    'deform_conv': dict(DeformConv2d=dcn.DeformConv2d, DeformConv2dPack=dcn.DeformConv2dPack,
                        deform_conv2d=dcn.deform_conv2d),
    'modulated_deform_conv': dict(ModulatedDeformConv2d=dcn.ModulatedDeformConv2d,
                                  ModulatedDeformConv2dPack=dcn.ModulatedDeformConv2dPack,
                                  modulated_deform_conv2d=dcn.modulated_deform_conv2d),
    'multi_scale_deform_attn': dict(MultiScaleDeformableAttention=MultiScaleDeformableAttention),
    'cc_attention': dict(CrissCrossAttention=CrissCrossAttention),
    'psa_mask': dict(PSAMask=PSAMask),
    'focal_loss': dict(sigmoid_focal_loss=sigmoid_focal_loss),
}


def _replace_everywhere(replacements: dict[int, tuple[Any, Any]]) -> None:
    """Rebinds every name of a loaded mmcv / mmseg / mmdet module, and every
    registry entry, that holds one of mmcv's objects (``replacements``: id ->
    (mmcv's, segkit's)) to segkit's."""
    from mmengine.registry import MODELS

    for name, module in list(sys.modules.items()):
        if module is None or name.split('.')[0] not in ('mmcv', 'mmseg', 'mmdet'):
            continue
        for attribute, value in list(vars(module).items()):
            if id(value) in replacements:
                setattr(module, attribute, replacements[id(value)][1])
    for name, value in list(MODELS.module_dict.items()):
        if id(value) in replacements:
            MODELS.register_module(name, module=replacements[id(value)][1], force=True)


def install_mmcv_ops_standin() -> bool:
    """Makes mmcv-lite's ``mmcv.ops`` import and compute (the module
    docstring), unless mmcv's compiled ops are installed.

    Returns:
        True if the stand-in is (now) installed, False if mmcv's compiled ops
        are present and left alone.
    """
    if getattr(sys.modules.get('mmcv._ext'), '__segkit_standin__', False):
        return True
    if importlib.util.find_spec('mmcv') is None:
        raise ModuleNotFoundError('segkit needs mmcv-lite==2.1.0 (pip install mmcv-lite==2.1.0)')
    if importlib.util.find_spec('mmcv._ext') is not None:
        return False
    sys.modules['mmcv._ext'] = mmcv_kernels.kernels_module()
    originals = {}
    try:
        import mmcv.ops
    except Exception:
        del sys.modules['mmcv._ext']
        raise
    for submodule, names in _SEGKIT_OPS.items():
        module = importlib.import_module(f'mmcv.ops.{submodule}')
        for name, ours in names.items():
            theirs = getattr(module, name)
            originals[id(theirs)] = (theirs, ours)
    _replace_everywhere(originals)
    mmcv.ops.__segkit_standin__ = True  # type: ignore[attr-defined]
    return True
