"""The DCNv4 core: DCNv4's packed offsets and masks over the shared sampling core.

Xiong et al., "Efficient Deformable ConvNets: Rethinking Dynamic and Sparse
Operator for Vision Applications", CVPR 2024, arXiv 2401.06197.

One tensor ``offset_mask`` (N, H_out, W_out, P) holds, per group, the K
(dx, dy) offset pairs and then the K masks, P = G*K*3 rounded up to a
multiple of 8 (the padding columns are never read, and get zero gradient).
For output pixel (h, w), group g and point p = i*k_h + j (the x index i the
outer loop; the centre skipped when ``remove_center``) the sample sits at::

    x = w*s_w - pad_w + half_w*(1 - scale) + (i*d_w + dx)*scale,  half_w = d_w*(k_w-1)//2

and likewise for y, in the input's arithmetic (float32 for half precision),
as DCNv4's CUDA kernel computes it; the masks are used as they are (no
softmax): the two differences from DCNv3.
"""
from __future__ import annotations

import torch

from ..deform_sampling import (DeformGeometry, Impl, Implementations, dcnv4_positions,
                               packed_sample_cpu, run, sample_gather, sample_reference)

__all__ = ['DCNV4', 'dcnv4_core', 'dcnv4_core_cpu', 'dcnv4_core_gather', 'dcnv4_core_reference',
           'dcnv4_core_triton', 'run_dcnv4_core']


def dcnv4_core_reference(input: torch.Tensor, offset_mask: torch.Tensor,
                         geometry: DeformGeometry) -> torch.Tensor:
    """DCNv4 core by ``grid_sample``; see :func:`dcnv4_core`."""
    return sample_reference(input, dcnv4_positions(input, offset_mask, geometry))


def dcnv4_core_gather(input: torch.Tensor, offset_mask: torch.Tensor,
                      geometry: DeformGeometry) -> torch.Tensor:
    """DCNv4 core as one weighted gather-sum (``embedding_bag``); see :func:`dcnv4_core`."""
    return sample_gather(input, dcnv4_positions(input, offset_mask, geometry))


def dcnv4_core_cpu(input: torch.Tensor, offset_mask: torch.Tensor,
                   geometry: DeformGeometry) -> torch.Tensor:
    """DCNv4 core by the compiled CPU kernel, which reads the packed tensor in
    place and computes the positions itself; see :func:`dcnv4_core`.

    Raises:
        ValueError: bad shapes, or not CPU tensors of one dtype (float32/64).
        RuntimeError: the kernel could not be built here.
    """
    return packed_sample_cpu(input, offset_mask, geometry)


def dcnv4_core_triton(input: torch.Tensor, offset_mask: torch.Tensor,
                      geometry: DeformGeometry) -> torch.Tensor:
    """DCNv4 core by the Triton kernels (CUDA tensors, or CPU ones under
    ``TRITON_INTERPRET=1``); see :func:`dcnv4_core`."""
    from ..deform_sampling.triton_kernels import packed_sample_triton  # imports triton

    return packed_sample_triton(input, offset_mask, geometry)


# the implementations 'auto' chooses from (tests replace some of them)
DCNV4 = Implementations('DCNv4', reference=dcnv4_core_reference, cpu=dcnv4_core_cpu,
                        triton=dcnv4_core_triton, gather=dcnv4_core_gather)


def dcnv4_core(input: torch.Tensor, offset_mask: torch.Tensor, kernel_h: int, kernel_w: int,
               stride_h: int, stride_w: int, pad_h: int, pad_w: int, dilation_h: int,
               dilation_w: int, group: int, group_channels: int, offset_scale: float,
               im2col_step: int = 256, remove_center: bool = False,
               impl: Impl = 'auto') -> torch.Tensor:
    """The DCNv4 operator (channels-last), with the arguments of the original's
    ``DCNv4Function.apply``.

    ``out[..., g*C' + c] = sum_p mask_p * bilinear(input[..., g*C' + c], x_p, y_p)``
    with zeros outside the image and the positions and masks of the module
    docstring. Unlike the original's CUDA kernel there is no restriction on
    the shapes (channels per group, kernel size, batch, stride).

    Args:
        input: (N, H, W, group * group_channels).
        offset_mask: (N, H_out, W_out, P), packed as the module docstring says.
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
        dilation_w: Sampling grid, as for a convolution.
        group, group_channels: Groups and channels per group.
        offset_scale: Scales the offsets and the dilation grid.
        im2col_step: Accepted for the original's signature (how its CUDA
            kernel batches); no effect.
        remove_center: Leave out the centre point (K = k_h*k_w - 1).
        impl: ``'auto'``, ``'cpu'``, ``'triton'``, ``'gather'`` or
            ``'reference'`` (see :mod:`segkit.ops.deform_sampling.dispatch`).

    Returns:
        (N, H_out, W_out, group * group_channels).

    Example:
        >>> x = torch.randn(1, 8, 8, 32)
        >>> offset_mask = torch.zeros(1, 8, 8, 56)  # 2 groups * 9 points * 3 -> 56
        >>> dcnv4_core(x, offset_mask, 3, 3, 1, 1, 1, 1, 1, 1, 2, 16, 1.0).shape
        torch.Size([1, 8, 8, 32])
    """
    g = DeformGeometry(kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                       dilation_w, group, group_channels, offset_scale, bool(remove_center))
    return run_dcnv4_core(input, offset_mask, g, impl)


def run_dcnv4_core(input: torch.Tensor, offset_mask: torch.Tensor, geometry: DeformGeometry,
                   impl: Impl = 'auto') -> torch.Tensor:
    """:func:`dcnv4_core` with the sampling grid as one :class:`DeformGeometry`."""
    return run(DCNV4, (input, offset_mask), geometry, impl)
