"""A dataset's classes from a small text file: names, and colours for RGB masks.

One class per line, in label order (line 1 is label 0)::

    # comments and blank lines are skipped
    background
    scratch
    dent

or with a colour per class, for RGB colour masks (``name r g b``; the name
may hold spaces; ``name,r,g,b`` as in CamVid's ``class_dict.csv`` works too,
its header line included)::

    background 0 0 0
    traffic light 250 170 30

In a colour table a line named ``ignore`` gives a colour that is no class
(void, unlabelled): its pixels get the ignore index.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from segkit.errors import ConfigError, DataNotFoundError

__all__ = ['CLASSES_FILE', 'ClassTable', 'read_class_table']

# read from a data root when no classes file is named
CLASSES_FILE = 'classes.txt'
IGNORE_NAME = 'ignore'


@dataclass(frozen=True)
class ClassTable:
    """Class names in label order, with their colours when the file has them.

    Attributes:
        names: One per class; label ``i`` is ``names[i]``.
        colors: ``(r, g, b)`` per class, or None (a file of names only).
        ignore_colors: Colours that map to the ignore index (``ignore`` lines).
        source: The file it was read from ('' when made in code).
    """

    names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...] | None = None
    ignore_colors: tuple[tuple[int, int, int], ...] = field(default=())
    source: str = ''

    def __post_init__(self) -> None:
        if not self.names:
            raise ConfigError(f'{self.source or "class table"}: no classes')
        if self.colors is not None and len(self.colors) != len(self.names):
            raise ConfigError(f'{self.source or "class table"}: {len(self.names)} names but '
                              f'{len(self.colors)} colours')
        seen: dict[tuple[int, int, int], str] = {}
        for name, color in zip(self.names + (IGNORE_NAME,) * len(self.ignore_colors),
                               (self.colors or ()) + self.ignore_colors):
            if color in seen:
                raise ConfigError(f'{self.source or "class table"}: {name!r} and '
                                  f'{seen[color]!r} have the same colour {list(color)}')
            seen[color] = name

    @property
    def num_classes(self) -> int:
        return len(self.names)

    @property
    def palette(self) -> list[list[int]] | None:
        """The colours as mmseg's ``metainfo['palette']`` (lists), or None."""
        return None if self.colors is None else [list(c) for c in self.colors]


def _color(tokens: list[str]) -> tuple[int, int, int] | None:
    try:
        values = tuple(int(t) for t in tokens)
    except ValueError:
        return None
    if len(values) == 3 and all(0 <= v <= 255 for v in values):
        return values  # type: ignore[return-value]
    return None


def read_class_table(path: str | os.PathLike) -> ClassTable:
    """Reads a classes file (see the module docstring).

    Raises:
        DataNotFoundError: the file does not exist.
        ConfigError: a line that is neither ``name`` nor ``name r g b``, colours
            on some lines only, a repeated name or colour.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f'classes file not found: {path}')
    names: list[str] = []
    colors: list[tuple[int, int, int] | None] = []
    ignore: list[tuple[int, int, int]] = []
    for number, raw in enumerate(path.read_text(encoding='utf-8-sig').splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        tokens = [t.strip() for t in line.split(',')] if ',' in line else line.split()
        if number == 1 and [t.lower() for t in tokens] == ['name', 'r', 'g', 'b']:
            continue  # a CSV header
        color = _color(tokens[-3:]) if len(tokens) >= 4 else None
        name = ' '.join(tokens[:-3] if color else tokens)
        if color is None and len(tokens) >= 4 and _color(tokens[-3:]) is None and \
                all(t.lstrip('-').isdigit() for t in tokens[-3:]):
            raise ConfigError(f'{path} line {number}: colour values must be 0..255: {line!r}')
        if name.lower() == IGNORE_NAME and color:
            ignore.append(color)
            continue
        if name in names:
            raise ConfigError(f'{path} line {number}: class {name!r} is named twice')
        names.append(name)
        colors.append(color)
    with_color = sum(c is not None for c in colors)
    if with_color not in (0, len(colors)):
        first = next(n for n, c in zip(names, colors) if (c is None) == (with_color > 0))
        raise ConfigError(f"{path}: give every class a colour ('name r g b') or none; "
                          f'{first!r} differs from the others')
    if ignore and not with_color:
        raise ConfigError(f"{path}: 'ignore' lines are for colour tables ('name r g b')")
    return ClassTable(tuple(names), tuple(colors) if with_color else None,  # type: ignore[arg-type]
                      tuple(ignore), source=str(path))
