"""DCNv4: deformable convolution without softmax, offsets and masks from one
linear layer (FlashInternImage's operator).

Xiong et al., "Efficient Deformable ConvNets: Rethinking Dynamic and Sparse
Operator for Vision Applications", CVPR 2024, arXiv 2401.06197.

DCNv4 samples with the deformable-sampling core it shares with DCNv3
(:mod:`segkit.ops.deform_sampling`); what is DCNv4's own:

- :mod:`.core`: its packed layout and position rule over that core
  (:func:`dcnv4_core`, the original's arguments, and one function per
  implementation);
- :mod:`.module`: the :class:`DCNv4` layer.
"""
from .core import (DCNV4, dcnv4_core, dcnv4_core_cpu, dcnv4_core_gather, dcnv4_core_reference,
                   dcnv4_core_triton, run_dcnv4_core)
from .module import DCNv4

__all__ = ['DCNV4', 'DCNv4', 'dcnv4_core', 'dcnv4_core_cpu', 'dcnv4_core_gather',
           'dcnv4_core_reference', 'dcnv4_core_triton', 'run_dcnv4_core']
