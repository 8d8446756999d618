"""High-level entry points used by ``tools/``."""
from .runner import SegkitError, check_data_roots, load_config, test, train

__all__ = ['SegkitError', 'check_data_roots', 'load_config', 'test', 'train']
