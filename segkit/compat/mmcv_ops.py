"""A pure-PyTorch ``mmcv.ops`` for mmcv-lite (mmcv 2.1.0, mmseg 1.2.2, torch >= 2.6).

mmcv's compiled ops (``mmcv._ext``) cannot be built for torch 2.14 (mmcv
forces an older C++ standard than torch 2.14's headers need), so only
``mmcv-lite`` installs. mmseg 1.2.2 imports ``mmcv.ops`` at module level in a
few places (``point_sample``, ``sigmoid_focal_loss``), which breaks
``import mmseg.models``. :func:`install_mmcv_ops_standin` puts this small
module in its place, with mmcv's deformable convolutions (DCN, DCNv2: the
classes of :mod:`segkit.ops.dcn`; ``segkit.models`` registers them as
the conv layers ``'DCN'`` and ``'DCNv2'``, on every install) and their
functions, and ``CrissCrossAttention``
and ``PSAMask`` (``segkit.ops``), which mmseg's ``cc_head`` and ``psa_head``
import behind ``except ModuleNotFoundError``. Anything else asked of it
raises ``ModuleNotFoundError`` naming the op, which is what mmseg's optional
imports (``point_head``) catch. With mmcv's compiled ops installed, nothing is
replaced.
"""
from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import torch
import torch.nn.functional as F

# DCN and DCNv2 are segkit operators with mmcv 2.1.0's classes: re-exported
from segkit.ops.dcn import (DeformConv2d, DeformConv2dPack, ModulatedDeformConv2d,
                                    ModulatedDeformConv2dPack, deform_conv2d,
                                    modulated_deform_conv2d)
from segkit.ops.criss_cross_attention import CrissCrossAttention
from segkit.ops.psa_mask import PSAMask

__all__ = ['DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
           'ModulatedDeformConv2dPack', 'deform_conv2d', 'install_mmcv_ops_standin',
           'modulated_deform_conv2d', 'point_sample', 'sigmoid_focal_loss']


def point_sample(input: torch.Tensor, points: torch.Tensor,
                 align_corners: bool = False, **kwargs: Any) -> torch.Tensor:
    """Samples ``input`` (N, C, H, W) at ``points`` in [0, 1] coordinates.

    Same contract as ``mmcv.ops.point_sample``: ``points`` is (N, P, 2) or
    (N, Hg, Wg, 2) with (x, y) in [0, 1]; returns (N, C, P) or (N, C, Hg, Wg).
    """
    add_dim = points.dim() == 3
    if add_dim:
        points = points.unsqueeze(2)
    out = F.grid_sample(input, 2.0 * points - 1.0,
                        align_corners=align_corners, **kwargs)
    return out.squeeze(3) if add_dim else out


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


_STANDIN_OPS: dict[str, Any] = {
    'point_sample': point_sample,
    'sigmoid_focal_loss': sigmoid_focal_loss,
    'DeformConv2d': DeformConv2d,
    'DeformConv2dPack': DeformConv2dPack,
    'ModulatedDeformConv2d': ModulatedDeformConv2d,
    'ModulatedDeformConv2dPack': ModulatedDeformConv2dPack,
    'deform_conv2d': deform_conv2d,
    'modulated_deform_conv2d': modulated_deform_conv2d,
}
# CCNet's and PSANet's operators (mmseg's cc_head / psa_head)
_STANDIN_OPS.update(CrissCrossAttention=CrissCrossAttention, PSAMask=PSAMask)


def _missing_op(name: str) -> Any:
    if name.startswith('__') and name.endswith('__'):
        # NOTE: dunder look-ups (``__path__``, ``__wrapped__``...) come from
        # import machinery and introspection; they must see AttributeError.
        raise AttributeError(name)
    raise ModuleNotFoundError(
        f'mmcv.ops.{name} is not available: it needs mmcv\'s compiled ops '
        f'(mmcv._ext), which cannot be built for torch {torch.__version__}. '
        f'segkit provides pure-PyTorch stand-ins only for: '
        f'{", ".join(sorted(_STANDIN_OPS))}.', name='mmcv.ops')


def install_mmcv_ops_standin() -> bool:
    """Installs the pure-PyTorch ``mmcv.ops`` unless the compiled one exists.

    Returns:
        True if the stand-in is (now) installed, False if mmcv's compiled ops
        are present and left alone.
    """
    current = sys.modules.get('mmcv.ops')
    if current is not None and getattr(current, '__segkit_standin__', False):
        return True
    if importlib.util.find_spec('mmcv') is None:
        raise ModuleNotFoundError('segkit needs mmcv-lite==2.1.0 (pip install mmcv-lite==2.1.0)')
    if importlib.util.find_spec('mmcv._ext') is not None:
        return False
    import mmcv
    from mmengine.registry import MODELS

    module = types.ModuleType('mmcv.ops', 'Pure-PyTorch stand-in for mmcv.ops (segkit.compat).')
    module.__dict__.update(_STANDIN_OPS)
    module.__getattr__ = _missing_op  # type: ignore[attr-defined]
    module.__segkit_standin__ = True  # type: ignore[attr-defined]
    module.__all__ = sorted(_STANDIN_OPS)  # type: ignore[attr-defined]
    sys.modules['mmcv.ops'] = module
    mmcv.ops = module  # type: ignore[attr-defined]
    # as mmcv.ops does (its cc_attention.py registers the class)
    if 'CrissCrossAttention' not in MODELS.module_dict:
        MODELS.register_module('CrissCrossAttention', module=CrissCrossAttention)
    return True
