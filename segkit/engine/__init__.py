"""Training support: optimizer wrappers and constructors, hooks."""
import segkit.compat  # noqa: F401  (mmcv/mmengine fixes before mmseg loads)
from .hooks import DCLSClampHook, RNGStateHook
from .optim_wrapper import NonFiniteGuardOptimWrapper, NonFiniteLossError
from .optimizers import (ConvNeXtDCLSOptimizerConstructor,
                         InternImageLayerDecayOptimizerConstructor, internimage_layer_id,
                         internimage_no_weight_decay)

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'DCLSClampHook',
           'InternImageLayerDecayOptimizerConstructor', 'NonFiniteGuardOptimWrapper',
           'NonFiniteLossError', 'RNGStateHook', 'internimage_layer_id',
           'internimage_no_weight_decay']
