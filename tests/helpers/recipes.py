"""Checking a loaded config against an original recipe's values.

An expectation is ``(path, value, source)``: ``path`` is a dotted path in
the config (list items by index, ``cfg['a.b.0.c']`` style), ``value`` the
original's value written in mmseg 1.x form, ``source`` where the original
holds it (``repo@commit:file:line``), so that a failure names the line.
"""
from __future__ import annotations

import inspect
from typing import Any

from mmengine.config import Config, ConfigDict

Expectation = tuple[str, Any, str]
MISSING = object()


def plain(value: Any) -> Any:
    """ConfigDicts as dicts and tuples as lists, recursively (mmengine keeps
    tuples where the file has them; the originals' tuples and lists mean
    the same)."""
    if isinstance(value, (dict, ConfigDict)):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def get(cfg: Config | dict, path: str) -> Any:
    node: Any = cfg
    for key in path.split('.'):
        if isinstance(node, (list, tuple)):
            node = node[int(key)]
        elif key in node:
            node = node[key]
        else:
            return MISSING
    return node


def mismatches(cfg: Config, expected: list[Expectation]) -> list[str]:
    """The expectations ``cfg`` does not meet, each as one line."""
    wrong = []
    for path, value, source in expected:
        got = get(cfg, path)
        if got is MISSING or plain(got) != plain(value):
            shown = 'missing' if got is MISSING else repr(plain(got))
            wrong.append(f'{path}: segkit {shown}, original {plain(value)!r} ({source})')
    return wrong


def default_of(cls: type, argument: str) -> Any:
    return inspect.signature(cls).parameters[argument].default


def without(pipeline: list, *types: str) -> list:
    """A pipeline without segkit's check-only steps (``ValidateSegSample``)."""
    return [step for step in plain(pipeline) if step['type'] not in types]
