"""Pure-PyTorch operators (this package imports nothing from mm*)."""
from .equivalent_stride import (DenseInfo, DensifyError, EAvgPool2d, EMaxPool2d,
                                PhaseDecomposed, SampledGlobalPool, densify, econv2d_)

__all__ = ['DenseInfo', 'DensifyError', 'EAvgPool2d', 'EMaxPool2d', 'PhaseDecomposed',
           'SampledGlobalPool', 'densify', 'econv2d_']
