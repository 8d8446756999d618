"""Deprecated module: what it held moved to modules named by what they hold,
``conv_layers`` and ``dcnv3_uper_head`` (``segkit.models`` exports them as before). Importing
them from here works for one more release, with a warning."""
from segkit.utils.deprecation import moved_names

__getattr__ = moved_names(__name__, {
    'ChannelsLastDeformConv': 'segkit.models.conv_layers.ChannelsLastDeformConv',
    'DCNv3Conv2d': 'segkit.models.conv_layers.DCNv3Conv2d',
    'DCNv4Conv2d': 'segkit.models.conv_layers.DCNv4Conv2d',
    'DCNv3UPerHead': 'segkit.models.dcnv3_uper_head.DCNv3UPerHead',
})
