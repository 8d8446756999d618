"""Training support: optimizer constructors and hooks."""
from .hooks import DCLSClampHook
from .optim_wrapper import NonFiniteGuardOptimWrapper, NonFiniteLossError
from .optimizers import (ConvNeXtDCLSOptimizerConstructor,
                         InternImageLayerDecayOptimizerConstructor, internimage_layer_id)

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'DCLSClampHook', 'NonFiniteGuardOptimWrapper',
           'NonFiniteLossError',
           'InternImageLayerDecayOptimizerConstructor',
           'internimage_layer_id']
