"""Training support: optimizer constructors and hooks."""
from .hooks import DCLSClampHook
from .optimizers import (ConvNeXtDCLSOptimizerConstructor,
                         InternImageLayerDecayOptimizerConstructor, internimage_layer_id)

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'DCLSClampHook',
           'InternImageLayerDecayOptimizerConstructor',
           'internimage_layer_id']
