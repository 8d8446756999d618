"""Operators: PyTorch and torchvision only (plus C++ CPU kernels for the
deformable-sampling core, built on first use).

Nothing here imports mmseg, mmengine, mmcv, OpenCV, albumentations or
matplotlib, directly or through ``segkit/__init__.py``: the operators work in
any PyTorch model. The per-implementation functions of each deformable core
(``dcnv3_core_cpu``, ...) live in their packages (:mod:`segkit.ops.dcnv3`,
:mod:`segkit.ops.dcnv4`, :mod:`segkit.ops.dcn`); ``impl=`` picks one.
"""
from segkit.errors import DensifyError
from segkit.utils.deprecation import moved_names

from .constructed_kernel import ConstructedKernelConv
from .criss_cross_attention import CrissCrossAttention, criss_cross_attention
from .dcls import Dcls2d, grid_positions, interpolate_kernel, repulsion_loss
from .dcn import (DeformConv2d, DeformConv2dPack, ModulatedDeformConv2d,
                  ModulatedDeformConv2dPack, deform_conv2d, modulated_deform_conv2d)
from .dcnv3 import DCNv3, dcnv3_core
from .dcnv4 import DCNv4, dcnv4_core
from .deform_sampling import DeformGeometry, cpu_kernel_available
from .densify import DenseInfo, densify, verify_dense
from .equivalent_stride import (EAvgPool2d, EMaxPool2d, PhaseDecomposed, SampledGlobalPool,
                                dense_layer, econv2d_, phase_merge, phase_split,
                                register_dense_rule, run_phased)
from .ms_deform_attn import (FlashDeformAttn, MSDeformAttn, MultiScaleDeformableAttention,
                             multi_scale_deformable_attn)
from .psa_mask import PSAMask, psa_mask
from .shaped_conv import ShapedConv2d, kernel_footprint, square_to_shaped

__all__ = [
    # the operators, with their originals' signatures
    'ConstructedKernelConv', 'DCNv3', 'DCNv4', 'Dcls2d', 'DeformConv2d', 'DeformConv2dPack',
    'FlashDeformAttn', 'MSDeformAttn', 'ModulatedDeformConv2d', 'ModulatedDeformConv2dPack',
    'MultiScaleDeformableAttention', 'ShapedConv2d', 'dcnv3_core', 'dcnv4_core',
    'deform_conv2d', 'modulated_deform_conv2d', 'multi_scale_deformable_attn',
    # the deformable-sampling core they share
    'DeformGeometry', 'cpu_kernel_available',
    # DCLS and designed shapes
    'grid_positions', 'interpolate_kernel', 'kernel_footprint', 'repulsion_loss',
    'square_to_shaped',
    # equivalent stride
    'DenseInfo', 'DensifyError', 'EAvgPool2d', 'EMaxPool2d', 'PhaseDecomposed',
    'SampledGlobalPool', 'dense_layer', 'densify', 'econv2d_', 'phase_merge', 'phase_split',
    'register_dense_rule', 'run_phased', 'verify_dense',
    # mmcv.ops's CCNet and PSANet operators (segkit.compat's mmcv.ops stand-in exports them)
    'CrissCrossAttention', 'PSAMask', 'criss_cross_attention', 'psa_mask']

# names of earlier versions: aliases, and per-implementation functions that
# live in their packages
__getattr__ = moved_names(__name__, {
    'DCNv3Geometry': 'segkit.ops.DeformGeometry',
    'dcnv3_cpu_kernel_available': 'segkit.ops.cpu_kernel_available',
    'construct_kernel': 'segkit.ops.interpolate_kernel',
    'run_core': 'segkit.ops.dcnv3.run_dcnv3_core',
    'run_dcnv4_core': 'segkit.ops.dcnv4.run_dcnv4_core',
    **{f'{v}_core_{impl}': f'segkit.ops.{v}.{v}_core_{impl}'
       for v in ('dcnv3', 'dcnv4') for impl in ('cpu', 'gather', 'reference', 'triton')}})
