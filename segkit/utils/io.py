"""Atomic file writes: a reader (or a resume) never sees a half-written file.

Every write of segkit that must not be seen half done goes through here.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _umask() -> int:
    # NOTE: os.umask can only be read by setting it; set it straight back
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_save(path: str | os.PathLike, save: Callable[[Path], object],
                suffix: str = '.tmp') -> Path:
    """Calls ``save(tmp)`` to write a temporary file beside ``path``, then
    renames it to ``path``: for writers that take a path (a compiler, a file
    copy). If ``save`` raises, ``path`` is left as it was and the exception
    propagates.

    Args:
        save: Writes the file it is given (which exists, empty).
        suffix: Of the temporary file's name (some writers look at it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        save(Path(tmp))
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it what open() would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_save_dir(path: str | os.PathLike, save: Callable[[Path], object]) -> Path:
    """Calls ``save(tmp)`` to fill a temporary folder beside ``path``, then
    puts it in place of ``path`` (an existing ``path`` is removed first): a
    reader finds the whole folder or none, never a partial one. If ``save``
    raises, the temporary folder is removed and the exception propagates."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{path.name}-', dir=path.parent))
    try:
        save(tmp)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Writes ``data`` to a temporary file beside ``path``, then renames it."""
    return atomic_save(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    return atomic_write_bytes(path, text.encode('utf-8'))


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the file-only Agg backend (tools run headless)."""
    from segkit.utils.optional import require

    matplotlib = require('matplotlib', 'plot')
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def atomic_save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Saves a matplotlib figure as PNG atomically and closes it."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=dpi)
    pyplot().close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def atomic_write_csv(path: str | os.PathLike, rows: list[dict],
                     fieldnames: list[str] | None = None) -> Path:
    """Writes dict rows as CSV atomically (columns: ``fieldnames`` or the first row's keys)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames or list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, buffer.getvalue())
