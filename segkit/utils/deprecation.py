"""Old spellings that keep working for one release, with a one-line warning."""
from __future__ import annotations

import importlib
import warnings
from typing import Any, Callable

__all__ = ['moved_names', 'renamed', 'renamed_kwargs']


def renamed(old: str, new: str, where: str, stacklevel: int = 3) -> None:
    """Warns once per call site that ``old`` is now ``new`` (in ``where``)."""
    warnings.warn(f'{where}: {old!r} is deprecated and will be removed in the next release; '
                  f'use {new!r}', FutureWarning, stacklevel=stacklevel)


def renamed_kwargs(kwargs: dict[str, Any], renames: dict[str, str], where: str) -> dict[str, Any]:
    """``kwargs`` with each deprecated key of ``renames`` (old -> new) moved to
    its new name, warning once for each; giving both names is an error."""
    out = dict(kwargs)
    for old, new in renames.items():
        if old in out:
            if new in out:
                raise TypeError(f'{where}: give {new!r} only ({old!r} is its old name)')
            renamed(old, new, where, stacklevel=4)
            out[new] = out.pop(old)
    return out


def moved_names(module: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that still answers old names, each
    with a one-line ``FutureWarning`` naming the new spelling.

    Args:
        module: The module's ``__name__``.
        names: old name -> the new one, dotted (``'segkit.ops.DeformGeometry'``),
            imported when the old name is asked for.
    """
    def __getattr__(name: str) -> Any:
        if name in names:
            new = names[name]
            renamed(f'{module}.{name}', new, 'import')
            path, _, attribute = new.rpartition('.')
            return getattr(importlib.import_module(path), attribute)
        raise AttributeError(f'module {module!r} has no attribute {name!r}')
    return __getattr__
