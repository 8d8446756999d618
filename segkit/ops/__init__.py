"""Operators: PyTorch, plus a C++ CPU kernel for DCNv3 (this package imports nothing from mm*)."""
from .dcls import Dcls2d, construct_kernel, repulsion_loss
from .dcnv3 import (DCNv3, dcnv3_core, dcnv3_core_cpu, dcnv3_core_gather, dcnv3_core_reference,
                    dcnv3_core_triton, dcnv3_cpu_kernel_available)
from .equivalent_stride import (DenseInfo, DensifyError, EAvgPool2d, EMaxPool2d,
                                PhaseDecomposed, SampledGlobalPool, densify, econv2d_,
                                phase_merge, phase_split)

__all__ = ['DCNv3', 'Dcls2d', 'DenseInfo', 'DensifyError', 'EAvgPool2d', 'EMaxPool2d',
           'PhaseDecomposed', 'SampledGlobalPool', 'construct_kernel', 'dcnv3_core',
           'dcnv3_core_cpu', 'dcnv3_core_gather', 'dcnv3_core_reference', 'dcnv3_core_triton',
           'dcnv3_cpu_kernel_available', 'densify', 'econv2d_', 'phase_merge', 'phase_split',
           'repulsion_loss']
