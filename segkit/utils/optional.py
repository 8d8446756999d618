"""Optional dependencies: a missing one is one line that says which extra brings it."""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ['require']


def require(module: str, extra: str) -> ModuleType:
    """``import module``, or ModuleNotFoundError naming ``pip install 'segkit[extra]'``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not module.startswith(e.name.split('.')[0]):
            raise  # something the module itself imports is missing: say that
        raise ModuleNotFoundError(
            f"{module.split('.')[0]} is not installed; it comes with "
            f"pip install 'segkit[{extra}]'", name=e.name) from None
