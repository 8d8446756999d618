"""Training support: optimizer constructors and hooks."""
from .optimizers import InternImageLayerDecayOptimizerConstructor, internimage_layer_id

__all__ = ['InternImageLayerDecayOptimizerConstructor', 'internimage_layer_id']
