"""Training support: optimizer wrappers and constructors, hooks."""
from .hooks import DCLSClampHook, RNGStateHook
from .optim_wrapper import NonFiniteGuardOptimWrapper, NonFiniteLossError
from .optimizers import (ConvNeXtDCLSOptimizerConstructor,
                         InternImageLayerDecayOptimizerConstructor, internimage_layer_id)

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'DCLSClampHook',
           'InternImageLayerDecayOptimizerConstructor', 'NonFiniteGuardOptimWrapper',
           'NonFiniteLossError', 'RNGStateHook', 'internimage_layer_id']
