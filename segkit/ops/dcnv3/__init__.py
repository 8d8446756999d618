"""DCNv3: grouped deformable convolution with softmax-normalised modulation.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

DCNv3 samples with the deformable-sampling core it shares with DCN, DCNv2 and
DCNv4 (:mod:`segkit.ops.deform_sampling`: geometry, the reference, gather,
C++ and Triton implementations, custom ops, dispatch); what is DCNv3's own:

- :mod:`.core`: its position rule over that core (:func:`dcnv3_core`, the
  original's signature; :func:`run_dcnv3_core` with a
  :class:`~segkit.ops.DeformGeometry`; one function per implementation);
- :mod:`.module`: the :class:`DCNv3` layer of InternImage (softmax masks).
"""
from segkit.utils.deprecation import moved_names

from .core import (DCNV3, dcnv3_core, dcnv3_core_cpu, dcnv3_core_gather, dcnv3_core_reference,
                   dcnv3_core_triton, run_dcnv3_core)
from .module import DCNv3

__all__ = ['DCNV3', 'DCNv3', 'dcnv3_core', 'dcnv3_core_cpu', 'dcnv3_core_gather',
           'dcnv3_core_reference', 'dcnv3_core_triton', 'run_dcnv3_core']

# the names of segkit 0.1, before the core was shared
__getattr__ = moved_names(__name__, {
    'DCNv3Geometry': 'segkit.ops.DeformGeometry',
    'sampling_points': 'segkit.ops.deform_sampling.dcnv3_positions',
    'dcnv3_cpu_kernel_available': 'segkit.ops.cpu_kernel_available',
    'run_core': 'segkit.ops.dcnv3.run_dcnv3_core',
    'IMPLS': 'segkit.ops.deform_sampling.IMPLS',
    'Impl': 'segkit.ops.deform_sampling.Impl',
    'Samples': 'segkit.ops.deform_sampling.Samples'})
