"""Small helpers shared by segkit's modules and tools."""
from .io import (atomic_save, atomic_save_dir, atomic_save_figure, atomic_write_bytes,
                 atomic_write_csv, atomic_write_text, pyplot)
from .tables import markdown_table

__all__ = ['atomic_save', 'atomic_save_dir', 'atomic_save_figure', 'atomic_write_bytes',
           'atomic_write_csv', 'atomic_write_text', 'markdown_table', 'pyplot']
