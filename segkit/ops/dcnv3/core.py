"""The DCNv3 core: DCNv3's position rule over the shared sampling core.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

For output pixel (h, w), group g and point p = i*k_h + j (the x index i the
outer loop) the sample sits at (pixel centres at integers, unpadded input)::

    x = (d_w*(k_w-1))//2 - pad_w + w*s_w + (i*d_w - (d_w*(k_w-1))//2 + dx) * offset_scale
    y = (d_h*(k_h-1))//2 - pad_h + h*s_h + (j*d_h - (d_h*(k_h-1))//2 + dy) * offset_scale

with offsets laid out as (dx, dy) pairs per point, group major (the
original's order and layout, so its weights load), on the original's
float32-rounded grid (:func:`..deform_sampling.dcnv3_positions`).
"""
from __future__ import annotations

import torch

from ..deform_sampling import (DeformGeometry, Impl, Implementations, dcnv3_positions, run,
                               sample_cpu, sample_gather, sample_reference, sample_triton)

__all__ = ['DCNV3', 'dcnv3_core', 'dcnv3_core_cpu', 'dcnv3_core_gather', 'dcnv3_core_reference',
           'dcnv3_core_triton', 'run_dcnv3_core']


def dcnv3_core_reference(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                         geometry: DeformGeometry) -> torch.Tensor:
    """DCNv3 core by ``grid_sample`` (the original's formulation); see :func:`dcnv3_core`."""
    return sample_reference(input, dcnv3_positions(input, offset, mask, geometry))


def dcnv3_core_gather(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                      geometry: DeformGeometry) -> torch.Tensor:
    """DCNv3 core as one weighted gather-sum (``embedding_bag``); see :func:`dcnv3_core`."""
    return sample_gather(input, dcnv3_positions(input, offset, mask, geometry))


def dcnv3_core_cpu(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                   geometry: DeformGeometry) -> torch.Tensor:
    """DCNv3 core by the compiled CPU kernel; see :func:`dcnv3_core`.

    Raises:
        ValueError: the tensors are not CPU tensors of one dtype, float32 or
            float64.
        RuntimeError: the kernel could not be built here.
    """
    return sample_cpu(input, dcnv3_positions(input, offset, mask, geometry))


def dcnv3_core_triton(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                      geometry: DeformGeometry) -> torch.Tensor:
    """DCNv3 core by the Triton kernels (CUDA tensors, or CPU ones under
    ``TRITON_INTERPRET=1``); see :func:`dcnv3_core`."""
    return sample_triton(input, dcnv3_positions(input, offset, mask, geometry))


# the implementations 'auto' chooses from (tests replace some of them)
DCNV3 = Implementations('DCNv3', reference=dcnv3_core_reference, cpu=dcnv3_core_cpu,
                        triton=dcnv3_core_triton, gather=dcnv3_core_gather)


def dcnv3_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
               kernel_h: int, kernel_w: int, stride_h: int, stride_w: int, pad_h: int,
               pad_w: int, dilation_h: int, dilation_w: int, group: int,
               group_channels: int, offset_scale: float,
               impl: Impl = 'auto') -> torch.Tensor:
    """The DCNv3 operator (channels-last), with the signature of the original's
    ``dcnv3_core_pytorch``.

    For output pixel (h, w), group g and point p the sample sits where the
    module docstring says; ``out[..., g*C' + c] = sum_p mask[..., g*K + p] *
    bilinear(input[..., g*C' + c], x, y)`` with zeros outside the image.
    Samples far outside read zero; a NaN or infinite offset gives NaN, as
    ``grid_sample`` does.

    Args:
        input: (N, H, W, group * group_channels).
        offset: (N, H_out, W_out, group * K * 2), (dx, dy) per point, group major.
        mask: (N, H_out, W_out, group * K), normalised per group by the caller.
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
        dilation_w: Sampling grid, as for a convolution.
        group, group_channels: Groups and channels per group.
        offset_scale: Scales the offsets and, as in the original, the
            dilation grid too.
        impl: ``'auto'``, ``'cpu'``, ``'triton'``, ``'gather'`` or
            ``'reference'`` (see :mod:`segkit.ops.deform_sampling.dispatch`);
            the environment variable ``SEGKIT_DEFORM_IMPL`` overrides ``'auto'``.

    Returns:
        (N, H_out, W_out, group * group_channels).

    Example:
        >>> x = torch.randn(1, 8, 8, 16)
        >>> offset, mask = torch.zeros(1, 8, 8, 4 * 9 * 2), torch.full((1, 8, 8, 36), 1 / 9)
        >>> dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, 1.0).shape
        torch.Size([1, 8, 8, 16])
    """
    g = DeformGeometry(kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                       dilation_w, group, group_channels, offset_scale)
    return run_dcnv3_core(input, offset, mask, g, impl)


def run_dcnv3_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                   geometry: DeformGeometry, impl: Impl = 'auto') -> torch.Tensor:
    """:func:`dcnv3_core` with the sampling grid as one :class:`DeformGeometry`."""
    return run(DCNV3, (input, offset, mask), geometry, impl)
