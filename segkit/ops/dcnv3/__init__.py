"""DCNv3: grouped deformable convolution with softmax-normalised modulation.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

One operator, four implementations of the same function, one module per idea:

- :mod:`.geometry`: where the samples sit (:class:`DCNv3Geometry`, the
  original's point order, offset layout and float32 grid rounding);
- :mod:`.reference`: ``grid_sample`` over all points, as the original's
  PyTorch path (the testing reference);
- :mod:`.cpu`: a compiled C++ kernel;
- :mod:`.triton_kernels`: the same scheme as Triton kernels for GPUs;
- :mod:`.custom_op`: either kernel as ``torch.library`` custom ops
  (differentiable, one node for ``torch.compile``);
- :mod:`.gather`: the same gather-sum in pure PyTorch (``embedding_bag``);
- :mod:`.dispatch`: :func:`dcnv3_core` and how ``impl='auto'`` chooses;
- :mod:`.module`: the :class:`DCNv3` layer of InternImage.
"""
from .cpu import dcnv3_core_cpu, dcnv3_cpu_kernel_available
from .dispatch import IMPLS, Impl, dcnv3_core, dcnv3_core_triton, run_core
from .gather import dcnv3_core_gather
from .geometry import DCNv3Geometry, Samples, sampling_points
from .module import DCNv3
from .reference import dcnv3_core_reference

__all__ = ['DCNv3', 'DCNv3Geometry', 'IMPLS', 'Impl', 'Samples', 'dcnv3_core', 'dcnv3_core_cpu',
           'dcnv3_core_gather', 'dcnv3_core_reference', 'dcnv3_core_triton',
           'dcnv3_cpu_kernel_available', 'run_core', 'sampling_points']
