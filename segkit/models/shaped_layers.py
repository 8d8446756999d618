"""Deprecated module: what it held moved to modules named by what they hold,
``conv_layers`` and ``shaped_backbone`` (``segkit.models`` exports them as before). Importing
them from here works for one more release, with a warning."""
from segkit.utils.deprecation import moved_names

__getattr__ = moved_names(__name__, {
    'shaped_conv_layer': 'segkit.models.conv_layers.shaped_conv_layer',
    'ShapedBackbone': 'segkit.models.shaped_backbone.ShapedBackbone',
    'shape_convs': 'segkit.models.shaped_backbone.shape_convs',
})
