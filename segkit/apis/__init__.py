"""High-level entry points used by ``tools/``."""
import segkit.mmseg  # noqa: F401  (the apis build models from configs: registration)
from .data import check_dataset
from .new_config import new_config
from .runner import SegkitError, check_data_roots, load_config, test, train

__all__ = ['SegkitError', 'check_data_roots', 'check_dataset', 'load_config', 'new_config',
           'test', 'train']
