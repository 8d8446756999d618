"""Operators: PyTorch only (plus a C++ CPU kernel for DCNv3, built on first use).

Nothing here imports mmseg, mmengine, mmcv, OpenCV, albumentations or
matplotlib, directly or through ``segkit/__init__.py``: the operators work in
any PyTorch model.
"""
from .constructed_kernel import ConstructedKernelConv
from .dcls import Dcls2d, construct_kernel, grid_positions, repulsion_loss
from .dcnv3 import (DCNv3, DCNv3Geometry, dcnv3_core, dcnv3_core_cpu, dcnv3_core_gather,
                    dcnv3_core_reference, dcnv3_core_triton, dcnv3_cpu_kernel_available, run_core)
from .equivalent_stride import (DenseInfo, DensifyError, EAvgPool2d, EMaxPool2d,
                                PhaseDecomposed, SampledGlobalPool, densify, econv2d_,
                                phase_merge, phase_split)
from .shaped_conv import ShapedConv2d, kernel_footprint, square_to_shaped

__all__ = ['ConstructedKernelConv', 'DCNv3', 'DCNv3Geometry', 'Dcls2d', 'DenseInfo',
           'DensifyError', 'EAvgPool2d',
           'EMaxPool2d', 'PhaseDecomposed', 'SampledGlobalPool', 'construct_kernel', 'dcnv3_core',
           'dcnv3_core_cpu', 'dcnv3_core_gather', 'dcnv3_core_reference', 'dcnv3_core_triton',
           'dcnv3_cpu_kernel_available', 'densify', 'econv2d_', 'grid_positions', 'phase_merge',
           'phase_split', 'repulsion_loss', 'run_core', 'ShapedConv2d', 'kernel_footprint',
           'square_to_shaped']
