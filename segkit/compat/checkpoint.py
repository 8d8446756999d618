"""Checkpoints load with ``weights_only=True`` only: a checkpoint never runs code.

Exists for torch >= 2.6 (``torch.load`` defaults to ``weights_only=True``)
with mmengine 0.10.7, whose Runner checkpoints hold a few non-tensor objects
(its ``HistoryBuffer``, numpy arrays and scalars), so ``load_from`` and
``resume`` fail with ``UnpicklingError`` until those globals are allowed.
:func:`allow_mmengine_checkpoints` allow-lists exactly those (also under the
names numpy 1.x pickled them with), and :func:`load_checkpoint_file`, which
replaces mmengine's local-file loader, always loads with
``weights_only=True``.
"""
from __future__ import annotations

import os
import pickle
from typing import Any

import torch

from segkit.errors import CheckpointError, CheckpointNotFoundError, UnsafeCheckpointError

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'load_checkpoint_file',
           'register_checkpoint_loader']


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
        CheckpointNotFoundError: the file is missing (a ``FileNotFoundError``).
        UnsafeCheckpointError: the file is not a torch checkpoint, or
            references objects outside the allow-list (a pickle that would run
            code when loaded); an ``UnpicklingError``.
    """
    filename = os.path.expanduser(os.fspath(filename))
    if not os.path.isfile(filename):
        raise CheckpointNotFoundError(f'checkpoint not found: {filename}')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = str(e).strip().splitlines()
        detail = next((line.strip() for line in reason
                       if 'GLOBAL' in line or 'Unsupported' in line or 'not allowed' in line),
                      reason[0] if reason else 'unpickling failed')
        raise UnsafeCheckpointError(
            f'refusing to load {filename}: it contains objects that are not '
            f'plain tensors or data ({detail})') from None
    except Exception as e:  # noqa: BLE001 - junk bytes fail in many ways
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UnsafeCheckpointError(
            f'{filename} is not a readable torch checkpoint: {first}') from None


def register_checkpoint_loader() -> None:
    """mmengine's loader for local files (and plain paths) becomes :func:`load_checkpoint_file`."""
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        return load_checkpoint_file(filename, map_location)

    # NOTE: mmengine 0.10.7 calls torch.load without weights_only, so whether
    # a checkpoint may run code would depend on torch's default and on the
    # TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD variable; this loader never allows it.
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
