"""Argument checks shared by segkit's four-stage backbones."""
from __future__ import annotations

from typing import Sequence

__all__ = ['resolve_arch']


def resolve_arch(arch: str | dict, settings: dict[str, dict], required: Sequence[str],
                 output_stride: int, out_indices: Sequence[int]) -> tuple[str, dict]:
    """``(name, settings)`` of ``arch`` (a key of ``settings`` or a dict holding
    ``required``; its name is then ``'custom'``), after checking it and the
    stage arguments every four-stage backbone takes."""
    if isinstance(arch, str):
        if arch not in settings:
            raise ValueError(f'arch must be one of {sorted(settings)} or a dict, got {arch!r}')
        name, arch = arch, settings[arch]
    else:
        name = 'custom'
        if not set(required) <= set(arch):
            raise ValueError(f'arch dict needs {sorted(required)}, got {sorted(arch)}')
    if output_stride not in (4, 8, 16, 32):
        raise ValueError(f'output_stride must be 4, 8, 16 or 32, got {output_stride}')
    if any(i not in range(4) for i in out_indices):
        raise ValueError(f'out_indices must be in 0..3, got {out_indices}')
    return name, arch
