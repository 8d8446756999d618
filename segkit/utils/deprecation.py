"""Old spellings that keep working for one release, with a one-line warning."""
from __future__ import annotations

import warnings
from typing import Any

__all__ = ['renamed', 'renamed_kwargs']


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
