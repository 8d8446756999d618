"""The kernels behind mmcv-lite's ``mmcv.ops`` (what ``mmcv._ext`` would hold).

mmcv's Python calls its compiled kernels as ``ext_module.<name>(...)``, in
place into tensors it allocated. This module answers those calls with
torchvision's operators where torchvision has the op (the same algorithms:
Fast R-CNN's RoI max pooling, Detectron2's RoIAlign, greedy NMS), with
segkit's where it has them, and for every other name with a stand-in that
imports fine and, when called, raises one ``ModuleNotFoundError`` naming
the op (what mmseg's optional imports expect of a missing op).

Kernels by mmcv 2.1.0's signatures (``mmcv/ops/csrc/pytorch/*.cpp``):
``nms``, ``nms_match``, ``roi_align_forward`` / ``_backward`` (average
pooling; max pooling raises), ``roi_pool_forward`` / ``_backward``.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import types
from typing import Any

import torch

__all__ = ['kernels_module']


def _torchvision_ops():  # noqa: ANN202 - torchvision.ops, imported when a kernel runs
    import torchvision.ops  # noqa: F401  (here: it imports all of torch._dynamo, 2.6 s)

    return torch.ops.torchvision


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float,
        offset: int = 0) -> torch.Tensor:
    """Kept indices by decreasing score; ``offset`` 1 is the legacy box size
    ``x2 - x1 + 1`` (as adding 1 to x2 and y2)."""
    if boxes.numel() == 0:
        return boxes.new_zeros(0, dtype=torch.long)
    if offset:
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:4] + offset], 1)
    return _torchvision_ops().nms(boxes[:, :4].contiguous(), scores.contiguous(),
                                  float(iou_threshold))


def _iou(box: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(box[:2], boxes[:, :2])
    rb = torch.minimum(box[2:4], boxes[:, 2:4])
    inter = (rb - lt).clamp_min(0).prod(1)
    area = (box[2:4] - box[:2]).prod()
    areas = (boxes[:, 2:4] - boxes[:, :2]).prod(1)
    return inter / (area + areas - inter)


def nms_match(dets: torch.Tensor, iou_threshold: float) -> list[list[int]]:
    """NMS that keeps the groups: each kept box (by decreasing score) with the
    boxes it suppressed, in score order."""
    order = dets[:, 4].argsort(descending=True)
    boxes = dets[order, :4]
    alive = torch.ones(len(order), dtype=torch.bool)
    groups = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        overlap = _iou(boxes[i], boxes) > iou_threshold
        members = (overlap & alive).nonzero().flatten()
        members = members[members != i]
        alive[members] = False
        alive[i] = False
        groups.append([int(order[i])] + [int(order[j]) for j in members])
    return groups


def roi_align_forward(input: torch.Tensor, rois: torch.Tensor, output: torch.Tensor,
                      argmax_y: torch.Tensor, argmax_x: torch.Tensor, aligned_height: int,
                      aligned_width: int, spatial_scale: float, sampling_ratio: int,
                      pool_mode: int, aligned: bool) -> None:
    if pool_mode != 1:
        _missing('roi_align_forward (pool_mode="max")')()
    output.copy_(_torchvision_ops().roi_align(input, rois, spatial_scale, aligned_height,
                                              aligned_width, sampling_ratio, aligned))


def roi_align_backward(grad_output: torch.Tensor, rois: torch.Tensor, argmax_y: torch.Tensor,
                       argmax_x: torch.Tensor, grad_input: torch.Tensor, aligned_height: int,
                       aligned_width: int, spatial_scale: float, sampling_ratio: int,
                       pool_mode: int, aligned: bool) -> None:
    if pool_mode != 1:
        _missing('roi_align_backward (pool_mode="max")')()
    n, c, h, w = grad_input.shape
    grad_input.copy_(_torchvision_ops()._roi_align_backward(
        grad_output, rois, spatial_scale, aligned_height, aligned_width, n, c, h, w,
        sampling_ratio, aligned))


def roi_pool_forward(input: torch.Tensor, rois: torch.Tensor, output: torch.Tensor,
                     argmax: torch.Tensor, pooled_height: int, pooled_width: int,
                     spatial_scale: float) -> None:
    out, index = _torchvision_ops().roi_pool(input, rois, spatial_scale, pooled_height,
                                             pooled_width)
    output.copy_(out)
    argmax.copy_(index)


def roi_pool_backward(grad_output: torch.Tensor, rois: torch.Tensor, argmax: torch.Tensor,
                      grad_input: torch.Tensor, pooled_height: int, pooled_width: int,
                      spatial_scale: float) -> None:
    n, c, h, w = grad_input.shape
    grad_input.copy_(_torchvision_ops()._roi_pool_backward(
        grad_output.contiguous(), rois, argmax, spatial_scale, pooled_height, pooled_width,
        n, c, h, w))


def get_compiler_version() -> str:
    """What mmcv's environment report (``collect_env``) says of the kernels."""
    return 'none (mmcv-lite; mmcv.ops computed by segkit)'


def get_compiling_cuda_version() -> str:
    return 'none'


KERNELS = dict(nms=nms, nms_match=nms_match, roi_align_forward=roi_align_forward,
               roi_align_backward=roi_align_backward, roi_pool_forward=roi_pool_forward,
               roi_pool_backward=roi_pool_backward, get_compiler_version=get_compiler_version,
               get_compiling_cuda_version=get_compiling_cuda_version)


def _missing(name: str) -> Any:
    def missing(*args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError(
            f"mmcv's compiled op {name} is not available: mmcv's compiled ops (mmcv._ext) "
            f'cannot be built for torch {torch.__version__}, and segkit computes only '
            f'{", ".join(sorted(KERNELS))} and the operators it implements (deformable '
            'convolutions, multi-scale deformable attention, criss-cross attention, PSA '
            'masks, sigmoid focal loss)', name='mmcv._ext')
    missing.__name__ = name
    return missing


class _Loader(importlib.abc.Loader):
    """Gives the kernels module to whoever looks ``mmcv._ext`` up: mmengine
    asks ``pkgutil.find_loader('mmcv._ext')`` whether compiled mmcv is there
    (and then treats mmcv.ops's DCN and SyncBatchNorm classes as such)."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return kernels_module()

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def kernels_module() -> types.ModuleType:
    """A module standing for ``mmcv._ext``: :data:`KERNELS`, and a stand-in
    for any other name mmcv's Python asks for."""
    module = types.ModuleType('mmcv._ext', __doc__)
    module.__dict__.update(KERNELS)
    module.__segkit_standin__ = True  # type: ignore[attr-defined]
    module.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', _Loader())

    def __getattr__(name: str) -> Any:
        if name.startswith('__') and name.endswith('__'):
            # NOTE: dunder look-ups come from import machinery and introspection
            raise AttributeError(name)
        return _missing(name)

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return module
