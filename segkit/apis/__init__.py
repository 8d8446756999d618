"""High-level entry points used by ``tools/``."""
import segkit.mmseg  # noqa: F401  (the apis build models from configs: registration)
from .runner import SegkitError, check_data_roots, load_config, test, train

__all__ = ['SegkitError', 'check_data_roots', 'load_config', 'test', 'train']
