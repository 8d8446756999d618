"""Operators: PyTorch and torchvision only (plus C++ CPU kernels for DCNv3 and
DCNv4, built on first use).

Nothing here imports mmseg, mmengine, mmcv, OpenCV, albumentations or
matplotlib, directly or through ``segkit/__init__.py``: the operators work in
any PyTorch model.
"""
from segkit.errors import DensifyError

from .constructed_kernel import ConstructedKernelConv
from .criss_cross_attention import CrissCrossAttention, criss_cross_attention
from .dcls import Dcls2d, construct_kernel, grid_positions, repulsion_loss
from .dcnv3 import (DCNv3, DCNv3Geometry, dcnv3_core, dcnv3_core_cpu, dcnv3_core_gather,
                    dcnv3_core_reference, dcnv3_core_triton, dcnv3_cpu_kernel_available, run_core)
from .dcnv4 import (DCNv4, dcnv4_core, dcnv4_core_cpu, dcnv4_core_gather, dcnv4_core_reference,
                    dcnv4_core_triton, run_dcnv4_core)
from .deform_conv import (DeformConv2d, DeformConv2dPack, ModulatedDeformConv2d,
                          ModulatedDeformConv2dPack, deform_conv2d, modulated_deform_conv2d)
from .deform_sampling import DeformGeometry
from .densify import DenseInfo, densify
from .equivalent_stride import (EAvgPool2d, EMaxPool2d, PhaseDecomposed, SampledGlobalPool,
                                dense_layer, econv2d_, phase_merge, phase_split,
                                register_dense_rule)
from .psa_mask import PSAMask, psa_mask
from .shaped_conv import ShapedConv2d, kernel_footprint, square_to_shaped

__all__ = ['ConstructedKernelConv', 'DCNv3', 'DCNv3Geometry', 'DCNv4', 'Dcls2d', 'DeformConv2d',
           'DeformConv2dPack', 'DeformGeometry', 'DenseInfo', 'DensifyError', 'EAvgPool2d',
           'EMaxPool2d', 'ModulatedDeformConv2d', 'ModulatedDeformConv2dPack', 'PhaseDecomposed',
           'SampledGlobalPool', 'ShapedConv2d', 'construct_kernel', 'dcnv3_core',
           'dcnv3_core_cpu', 'dcnv3_core_gather', 'dcnv3_core_reference', 'dcnv3_core_triton',
           'dcnv3_cpu_kernel_available', 'dcnv4_core', 'dcnv4_core_cpu', 'dcnv4_core_gather',
           'dcnv4_core_reference', 'dcnv4_core_triton', 'deform_conv2d', 'dense_layer',
           'densify', 'econv2d_', 'grid_positions', 'kernel_footprint', 'modulated_deform_conv2d',
           'phase_merge', 'phase_split', 'register_dense_rule', 'repulsion_loss', 'run_core',
           'run_dcnv4_core', 'square_to_shaped']
# mmcv.ops's CCNet and PSANet operators (segkit.compat's mmcv.ops stand-in exports them)
__all__ += ['CrissCrossAttention', 'PSAMask', 'criss_cross_attention', 'psa_mask']
