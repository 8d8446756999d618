"""Pure-PyTorch operators (this package imports nothing from mm*)."""
from .dcls import Dcls2d, construct_kernel, repulsion_loss
from .dcnv3 import DCNv3, dcnv3_core, dcnv3_core_fast, dcnv3_core_reference
from .equivalent_stride import (DenseInfo, DensifyError, EAvgPool2d, EMaxPool2d,
                                PhaseDecomposed, SampledGlobalPool, densify, econv2d_,
                                phase_merge, phase_split)

__all__ = ['DCNv3', 'Dcls2d', 'construct_kernel', 'DenseInfo', 'DensifyError', 'EAvgPool2d', 'EMaxPool2d',
           'PhaseDecomposed', 'SampledGlobalPool', 'dcnv3_core', 'dcnv3_core_fast',
           'dcnv3_core_reference', 'densify', 'econv2d_', 'phase_merge', 'phase_split',
           'repulsion_loss']
