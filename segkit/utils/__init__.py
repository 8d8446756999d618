"""Small helpers shared by segkit's modules and tools."""
from .io import (atomic_save_figure, atomic_write_bytes, atomic_write_csv, atomic_write_text,
                 pyplot)

__all__ = ['atomic_save_figure', 'atomic_write_bytes', 'atomic_write_csv', 'atomic_write_text',
           'pyplot']
