"""Atomic local writes for mmengine 0.10.7.

mmengine writes checkpoints and ``last_checkpoint`` with a plain
``open(path, 'wb')``; a kill mid-write would leave a truncated file that
``--resume`` then picks up. :func:`make_local_writes_atomic` makes its local
backend write a temporary file and rename it.
"""
from __future__ import annotations

from segkit.utils.io import atomic_write_bytes

__all__ = ['make_local_writes_atomic']


def make_local_writes_atomic() -> None:
    """Replaces ``LocalBackend.put`` / ``put_text`` by atomic writes."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    def put(self, obj: bytes, filepath) -> None:  # noqa: ANN001 - mmengine's signature
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:  # noqa: ANN001
        atomic_write_bytes(filepath, obj.encode(encoding))

    LocalBackend.put = put
    LocalBackend.put_text = put_text
