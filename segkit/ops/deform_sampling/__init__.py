"""The deformable-sampling core DCN, DCNv2, DCNv3 and DCNv4 share.

``out[..., g*C' + c] = sum_k mask_k * bilinear(value[..., g*C' + c], x_k, y_k)``:
every deformable version samples its value map this way and differs only in
where the positions and masks come from (its rule) and what it does to the
masks before (DCNv3 normalises them with a softmax, DCNv4 does not).

One module per idea:

- :mod:`.geometry`: the sampling grid (:class:`DeformGeometry`, the point
  order of the originals);
- :mod:`.positions`: each version's rule (DCNv3's float32-normalised grid,
  DCNv4's packed offsets and masks in the input's arithmetic);
- :mod:`.reference`: ``grid_sample`` over all points (the testing reference,
  and what tracers see);
- :mod:`.gather`: the same gather-sum in pure PyTorch (``embedding_bag``);
- :mod:`.cpu`: a compiled C++ kernel, one per rule (``../csrc``);
- :mod:`.triton_kernels`: the same scheme as Triton kernels for GPUs;
- :mod:`.custom_op`: either kernel as ``torch.library`` custom ops
  (differentiable, one node for ``torch.compile``);
- :mod:`.dispatch`: which implementation ``impl='auto'`` takes.
"""
from .cpu import cpu_kernel_available, packed_sample_cpu, sample_cpu
from .dispatch import IMPLS, Impl, Implementations, run, sample_triton
from .gather import sample_gather
from .geometry import DeformGeometry
from .positions import (Samples, dcn_positions, dcnv3_positions, dcnv4_positions, packed_width,
                        split_packed)
from .reference import sample_reference

__all__ = ['DeformGeometry', 'IMPLS', 'Impl', 'Implementations', 'Samples',
           'cpu_kernel_available', 'dcn_positions', 'dcnv3_positions', 'dcnv4_positions',
           'packed_sample_cpu', 'packed_width', 'run', 'sample_cpu', 'sample_gather',
           'sample_reference', 'sample_triton', 'split_packed']
