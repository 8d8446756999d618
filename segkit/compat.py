"""Version quirks of the mmcv / mmengine / torch stack, handled in one place.

Two problems make mmsegmentation 1.2.2 unusable out of the box on torch 2.14:

1. mmcv's compiled ops (``mmcv._ext``) cannot be built for torch 2.14 (mmcv
   forces an older C++ standard than torch 2.14's headers need), so only
   ``mmcv-lite`` installs. mmseg imports ``mmcv.ops`` at module level in a few
   places (``point_sample``, ``sigmoid_focal_loss``), which breaks
   ``import mmseg.models``. :func:`install_mmcv_ops_standin` puts a small
   pure-PyTorch ``mmcv.ops`` in its place. Anything else asked of it raises
   ``ModuleNotFoundError`` naming the op, which is what mmseg's optional
   imports (``cc_head``, ``psa_head``, ``point_head``) catch.
2. Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and
   mmengine 0.10.7 checkpoints hold a few non-tensor objects (its
   ``HistoryBuffer`` and numpy arrays/scalars), so ``load_from`` and
   ``resume`` fail with ``UnpicklingError``. :func:`allow_mmengine_checkpoints`
   allow-lists exactly those globals, and :func:`load_checkpoint_file` (which
   replaces mmengine's local-file loader) always loads with
   ``weights_only=True``: a checkpoint can never run code.

:func:`apply` does both, makes mmengine's local file writes (checkpoints,
``last_checkpoint``) atomic, and registers a CPU DDP wrapper; ``import
segkit`` calls it.
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import sys
import types
import warnings
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

__all__ = ['apply', 'install_mmcv_ops_standin', 'allow_mmengine_checkpoints',
           'load_checkpoint_file', 'CheckpointError']


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable or not safe to load."""


# ---------------------------------------------------------------------------
# mmcv.ops stand-in
# ---------------------------------------------------------------------------

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


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


class DeformConv2d(nn.Module):
    """``mmcv.ops.DeformConv2d`` on ``torchvision.ops.deform_conv2d``.

    Offsets use the layout shared by mmcv and torchvision: (dy, dx) pairs per
    kernel point, grouped by deformable group. Parameter names match mmcv so
    checkpoints load.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1,
                 padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1,
                 deform_groups: int = 1, bias: bool = False,
                 im2col_step: int = 32) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'in_channels {in_channels} and out_channels '
                             f'{out_channels} must be divisible by groups {groups}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding = _pair(stride), _pair(padding)
        self.dilation = _pair(dilation)
        self.groups, self.deform_groups = groups, deform_groups
        self.weight = nn.Parameter(torch.empty(
            out_channels, in_channels // groups, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def forward(self, x: torch.Tensor, offset: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        return torchvision.ops.deform_conv2d(
            x, offset, self.weight, self.bias, stride=self.stride,
            padding=self.padding, dilation=self.dilation, mask=mask)


class ModulatedDeformConv2d(DeformConv2d):
    """``mmcv.ops.ModulatedDeformConv2d`` (DCNv2): offsets and a mask."""

    def __init__(self, *args: Any, bias: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, bias=bias, **kwargs)


class DeformConv2dPack(DeformConv2d):
    """DCN that predicts its offsets with a zero-initialised conv (mmcv 'DCN')."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 2 * kh * kw, self.kernel_size,
            self.stride, self.padding, self.dilation, bias=True)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x, self.conv_offset(x))


class ModulatedDeformConv2dPack(ModulatedDeformConv2d):
    """DCNv2 that predicts offsets and mask with one conv (mmcv 'DCNv2')."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 3 * kh * kw, self.kernel_size,
            self.stride, self.padding, self.dilation, bias=True)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        o1, o2, mask = self.conv_offset(x).chunk(3, dim=1)
        return super().forward(x, torch.cat((o1, o2), dim=1), mask.sigmoid())


_STANDIN_OPS: dict[str, Any] = {
    'point_sample': point_sample,
    'sigmoid_focal_loss': sigmoid_focal_loss,
    'DeformConv2d': DeformConv2d,
    'DeformConv2dPack': DeformConv2dPack,
    'ModulatedDeformConv2d': ModulatedDeformConv2d,
    'ModulatedDeformConv2dPack': ModulatedDeformConv2dPack,
}


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
    # The names under which mmcv registers its deformable convs as conv layers.
    for name, cls in (('DCN', DeformConv2dPack), ('DCNv2', ModulatedDeformConv2dPack)):
        if name not in MODELS.module_dict:
            MODELS.register_module(name, module=cls)
    return True


# ---------------------------------------------------------------------------
# Safe checkpoint loading
# ---------------------------------------------------------------------------

def _checkpoint_getattr(obj: Any, name: str) -> Any:
    """Stands in for ``builtins.getattr`` while unpickling a checkpoint.

    mmengine's HistoryBuffer pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; only such look-ups are answered, so a
    checkpoint cannot reach arbitrary attributes (``os.system``...).
    """
    from mmengine.logging import HistoryBuffer

    if obj is HistoryBuffer and isinstance(name, str) and not name.startswith('_'):
        value = getattr(HistoryBuffer, name, None)
        if callable(value) and getattr(value, '__qualname__', '').startswith('HistoryBuffer.'):
            return value
    raise pickle.UnpicklingError(
        f'checkpoint asks for attribute {name!r} of {obj!r}, which is not allowed')


def _numpy_globals() -> list[Any]:
    import numpy as np
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray  # type: ignore[no-redef]
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
        np.uint32, np.uint64, np.float16, np.float32, np.float64, np.str_, np.object_)]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


def _numpy1_names() -> list[tuple[Any, str]]:
    """The numpy 2 functions under the names numpy 1.x pickled them with.

    numpy 2 moved ``numpy.core`` to ``numpy._core``; checkpoints written
    under numpy 1.x (mmcv 1.x releases with a numpy ``best_score`` in
    ``meta``, older mmengine ones) name ``numpy.core.multiarray.scalar`` and
    ``numpy.core.multiarray._reconstruct``. Only these two names are mapped,
    to the same functions the numpy 2 names allow.
    """
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x pickles under these names already
        return []
    return [(multiarray.scalar, 'numpy.core.multiarray.scalar'),
            (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct')]


def allow_mmengine_checkpoints() -> None:
    """Allow-lists what mmengine Runner and mmcv 1.x checkpoints contain, for
    weights_only loading (numpy arrays and scalars, under their numpy 1.x
    names too)."""
    from mmengine.logging import HistoryBuffer

    torch.serialization.add_safe_globals(
        [bytes, HistoryBuffer, *_numpy_globals(), *_numpy1_names(),
         (_checkpoint_getattr, 'builtins.getattr')])


def load_checkpoint_file(filename: str | os.PathLike,
                         map_location: Any = None) -> Any:
    """Loads a local checkpoint with ``weights_only=True``, with a clear error.

    Raises:
        CheckpointError: the file is missing, is not a torch checkpoint, or
            references objects outside the allow-list (a pickle that would run
            code when loaded).
    """
    filename = os.path.expanduser(os.fspath(filename))
    if not os.path.isfile(filename):
        raise CheckpointError(f'checkpoint not found: {filename}')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e).strip().splitlines()
        detail = next((line.strip() for line in reason
                       if 'GLOBAL' in line or 'Unsupported' in line or 'not allowed' in line),
                      reason[0] if reason else 'unpickling failed')
        raise CheckpointError(
            f'refusing to load {filename}: it contains objects that are not '
            f'plain tensors or data ({detail})') from None
    except Exception as e:  # noqa: BLE001 - junk bytes fail in many ways
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f'{filename} is not a readable torch checkpoint: {first}') from None


def _register_checkpoint_loader() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        return load_checkpoint_file(filename, map_location)

    # NOTE: mmengine 0.10.7 calls torch.load without weights_only, so whether
    # a checkpoint may run code would depend on torch's default and on the
    # TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD variable; this loader never allows it.
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)


def _make_local_writes_atomic() -> None:
    """mmengine writes checkpoints and ``last_checkpoint`` with a plain
    ``open(path, 'wb')``; a kill mid-write would leave a truncated file. Its
    local backend now writes a temporary file and renames it."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    from segkit.utils.io import atomic_write_bytes

    def put(self, obj: bytes, filepath) -> None:  # noqa: ANN001 - mmengine's signature
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:  # noqa: ANN001
        atomic_write_bytes(filepath, obj.encode(encoding))

    LocalBackend.put = put
    LocalBackend.put_text = put_text


_applied = False


def apply() -> None:
    """Applies every fix above, once."""
    global _applied
    if _applied:
        return
    # mmcv-lite warns on every import that its deformable attention needs the
    # compiled ops; that is known and documented, not news to the user.
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    install_mmcv_ops_standin()
    allow_mmengine_checkpoints()
    _register_checkpoint_loader()
    _make_local_writes_atomic()
    _register_cpu_ddp()
    _applied = True


def _register_cpu_ddp() -> Callable[..., Any]:
    """A DDP wrapper for CPU processes (gloo), where device_ids must be None."""
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import MODEL_WRAPPERS

    @MODEL_WRAPPERS.register_module(force=True)
    class CPUDistributedDataParallel(MMDistributedDataParallel):
        """``MMDistributedDataParallel`` for models that live on the CPU.

        mmengine's Runner passes ``device_ids=[LOCAL_RANK]``, which torch only
        accepts for CUDA modules.
        """

        def __init__(self, module: nn.Module, device_ids: Any = None, **kwargs: Any) -> None:
            super().__init__(module=module, device_ids=None, **kwargs)

    return CPUDistributedDataParallel
