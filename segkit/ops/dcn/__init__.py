"""DCN and DCNv2: deformable convolution, then with a learned modulation per tap.

Dai et al., "Deformable Convolutional Networks", ICCV 2017, arXiv 1703.06211;
Zhu et al., "Deformable ConvNets v2", CVPR 2019, arXiv 1811.11168.

DCN samples with the deformable-sampling core it shares with DCNv3 and DCNv4
(:mod:`segkit.ops.deform_sampling`); what is its own:

- :mod:`.core`: the im2col columns by the shared samplers (one sample per
  tap) and the contraction with the kernel (:func:`deform_conv_core`);
- :mod:`.module`: mmcv 2.1.0's classes and functions (``DeformConv2d``,
  ``ModulatedDeformConv2d``, their ``Pack``s, ``deform_conv2d``,
  ``modulated_deform_conv2d``).
"""
from .core import DCN, dcn_columns, deform_conv_core
from .module import (DeformConv2d, DeformConv2dPack, ModulatedDeformConv2d,
                     ModulatedDeformConv2dPack, deform_conv2d, modulated_deform_conv2d)

__all__ = ['DCN', 'DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d',
           'ModulatedDeformConv2dPack', 'dcn_columns', 'deform_conv2d', 'deform_conv_core',
           'modulated_deform_conv2d']
