"""DCNv3: grouped deformable convolution with softmax-normalised modulation.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

DCNv3 samples with the deformable-sampling core it shares with DCNv4
(:mod:`segkit.ops.deform_sampling`: geometry, the reference, gather, C++
and Triton implementations, custom ops, dispatch); what is DCNv3's own:

- :mod:`.core`: its position rule over that core (:func:`dcnv3_core`, the
  original's signature, and one function per implementation);
- :mod:`.module`: the :class:`DCNv3` layer of InternImage (softmax masks).
"""
from ..deform_sampling import IMPLS, DeformGeometry, Impl, Samples
from ..deform_sampling import cpu_kernel_available as dcnv3_cpu_kernel_available
from ..deform_sampling import dcnv3_positions as sampling_points
from .core import (DCNV3, dcnv3_core, dcnv3_core_cpu, dcnv3_core_gather, dcnv3_core_reference,
                   dcnv3_core_triton, run_core)
from .module import DCNv3

# DCNv3's sampling grid is the shared geometry (the name DCNv3 code knows)
DCNv3Geometry = DeformGeometry

__all__ = ['DCNV3', 'DCNv3', 'DCNv3Geometry', 'IMPLS', 'Impl', 'Samples', 'dcnv3_core',
           'dcnv3_core_cpu', 'dcnv3_core_gather', 'dcnv3_core_reference', 'dcnv3_core_triton',
           'dcnv3_cpu_kernel_available', 'run_core', 'sampling_points']
