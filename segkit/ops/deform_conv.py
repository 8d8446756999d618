"""Deprecated location of DCN and DCNv2: they live in :mod:`segkit.ops.dcn`
(beside ``dcnv3`` and ``dcnv4``); ``segkit.ops`` exports them as before.
Importing names from here works for one more release, with a warning."""
from segkit.utils.deprecation import moved_names

__getattr__ = moved_names(__name__, {
    name: f'segkit.ops.dcn.{name}'
    for name in ('DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
                 'ModulatedDeformConv2dPack', 'deform_conv2d', 'modulated_deform_conv2d')})
