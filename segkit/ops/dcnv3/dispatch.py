"""``dcnv3_core``: the DCNv3 operator, choosing an implementation.

``'auto'`` takes ``'reference'`` under ``torch.jit.trace`` and
``torch.export`` (and so for ONNX export and FLOP counting), ``'cpu'`` for
CPU tensors when the C++ kernel builds, and ``'triton'`` for
CUDA tensors when its kernels compile and run (tried once per configuration
on a tiny probe; if not, segkit warns once and goes on); otherwise
``'gather'`` for inference and ``'reference'`` for training.
``SEGKIT_DCNV3_IMPL`` overrides ``'auto'``.

Every implementation computes in float32 (float64 when an input is float64)
and returns the input's dtype, so under autocast the sampling positions keep
float32 precision (bfloat16 resolves only every second pixel beyond 256):
the PyTorch and C++ paths widen half and bfloat16 inputs; the Triton kernels
read them as they are and compute in float32 (half maps stay half in memory).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Literal, get_args

import torch

from . import cpu
from .cpu import dcnv3_core_cpu
from .gather import dcnv3_core_gather
from .geometry import DCNv3Geometry
from .reference import dcnv3_core_reference

__all__ = ['IMPLS', 'Impl', 'dcnv3_core', 'dcnv3_core_triton']

Impl = Literal['auto', 'reference', 'cpu', 'triton', 'gather']
IMPLS = get_args(Impl)


def dcnv3_core_triton(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                      geometry: DCNv3Geometry) -> torch.Tensor:
    """DCNv3 core by the Triton kernels (CUDA tensors, or CPU ones under
    ``TRITON_INTERPRET=1``); see :func:`dcnv3_core`."""
    from .triton_kernels import dcnv3_core_triton as core  # imports triton: only when used
    return core(input, offset, mask, geometry)


# Whether the Triton kernels compiled and ran, per configuration they are
# specialised for (device, dtypes, geometry)
_triton_works: dict[tuple, bool] = {}


def _probe_triton(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                  g: DCNv3Geometry) -> None:
    """Forward and backward of the Triton kernels on a tiny map with the
    configuration of these tensors, so that both compile (or fail) now."""
    h, w = g.smallest_input()
    h_out, w_out = g.output_size(h, w)
    x = input.new_zeros(1, h, w, input.shape[-1]).requires_grad_()
    off = offset.new_zeros(1, h_out, w_out, offset.shape[-1]).requires_grad_()
    m = mask.new_zeros(1, h_out, w_out, mask.shape[-1]).requires_grad_()
    with torch.enable_grad():
        dcnv3_core_triton(x, off, m, g).float().sum().backward()


def _try_triton(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                g: DCNv3Geometry) -> torch.Tensor | None:
    """``dcnv3_core_triton``, or None where Triton does not work.

    The first call of each configuration runs both kernels on a tiny probe;
    a failure there (no Triton, a GPU it cannot compile for) is warned about
    once and that configuration then takes the PyTorch paths. Running out of
    memory is not a failure of the kernel and propagates.
    """
    key = (input.device, input.dtype, offset.dtype, mask.dtype, g)
    if key not in _triton_works:
        try:
            import triton  # noqa: F401
            _probe_triton(input, offset, mask, g)
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - no triton, compiler or driver failure
            _triton_works[key] = False
            first = (str(exc).strip().splitlines() or [''])[0]
            warnings.warn(f'segkit: the DCNv3 Triton kernels do not work here '
                          f'({type(exc).__name__}: {first}); using the PyTorch path',
                          stacklevel=4)
        else:
            _triton_works[key] = True
    return dcnv3_core_triton(input, offset, mask, g) if _triton_works[key] else None


def _auto(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
          g: DCNv3Geometry) -> torch.Tensor:
    tensors = (input, offset, mask)
    if torch.jit.is_tracing() or torch.compiler.is_exporting():
        # tracers and exporters (torch.jit.trace, torch.export, ONNX, FLOP
        # counters) record PyTorch ops; the compiled kernels are opaque to them
        fn = dcnv3_core_reference
    elif all(t.device.type == 'cpu' for t in tensors) and cpu.dcnv3_cpu_kernel_available():
        fn = dcnv3_core_cpu
    else:
        if all(t.device.type == 'cuda' for t in tensors):
            out = _try_triton(input, offset, mask, g)  # Triton takes mixed dtypes as they are
            if out is not None:
                return out
        # NOTE: measured on CPU (benchmarks/dcnv3.py): autograd through
        # embedding_bag is slower than grid_sample's fused backward.
        training = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
        fn = dcnv3_core_reference if training else dcnv3_core_gather
    return _widened(fn, input, offset, mask, g)


def dcnv3_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
               kernel_h: int, kernel_w: int, stride_h: int, stride_w: int, pad_h: int,
               pad_w: int, dilation_h: int, dilation_w: int, group: int,
               group_channels: int, offset_scale: float,
               impl: Impl = 'auto') -> torch.Tensor:
    """The DCNv3 operator (channels-last), with the signature of the original's
    ``dcnv3_core_pytorch``.

    For output pixel (h, w), group g and point p the sample sits where
    :mod:`segkit.ops.dcnv3.geometry` says; ``out[..., g*C' + c] = sum_p
    mask[..., g*K + p] * bilinear(input[..., g*C' + c], x, y)`` with zeros
    outside the image. Samples far outside read zero; a NaN or infinite
    offset gives NaN, as ``grid_sample`` does.

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
            ``'reference'`` (see the module docstring); the environment
            variable ``SEGKIT_DCNV3_IMPL`` overrides ``'auto'``.

    Returns:
        (N, H_out, W_out, group * group_channels).

    Example:
        >>> x = torch.randn(1, 8, 8, 16)
        >>> offset, mask = torch.zeros(1, 8, 8, 4 * 9 * 2), torch.full((1, 8, 8, 36), 1 / 9)
        >>> dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, 1.0).shape
        torch.Size([1, 8, 8, 16])
    """
    g = DCNv3Geometry(kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
                      dilation_w, group, group_channels, offset_scale)
    return run_core(input, offset, mask, g, impl)


def run_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
             geometry: DCNv3Geometry, impl: Impl = 'auto') -> torch.Tensor:
    """:func:`dcnv3_core` with the sampling grid as one :class:`DCNv3Geometry`."""
    if impl == 'auto':
        impl = os.environ.get('SEGKIT_DCNV3_IMPL', 'auto')  # type: ignore[assignment]
    fns = {'auto': _auto, 'reference': dcnv3_core_reference, 'cpu': dcnv3_core_cpu,
           'triton': dcnv3_core_triton, 'gather': dcnv3_core_gather}
    if impl not in fns:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
    if impl in ('auto', 'triton'):  # 'auto' widens per path; Triton takes mixed dtypes
        return fns[impl](input, offset, mask, geometry)
    return _widened(fns[impl], input, offset, mask, geometry)


def _widened(fn: Callable[..., torch.Tensor], input: torch.Tensor, offset: torch.Tensor,
             mask: torch.Tensor, g: DCNv3Geometry) -> torch.Tensor:
    """``fn`` computed in float32, or float64 if any input is float64, and
    returned in the input's dtype: for reduced precision or mixed dtypes (as
    autocast gives), with autocast off so it does not narrow the operator's
    own products again."""
    dtypes = {input.dtype, offset.dtype, mask.dtype}
    wide = torch.float64 if torch.float64 in dtypes else torch.float32
    if dtypes == {wide}:
        return fn(input, offset, mask, g)
    with torch.autocast(input.device.type, enabled=False):
        out = fn(input.to(wide), offset.to(wide), mask.to(wide), g)
    return out.to(input.dtype)
