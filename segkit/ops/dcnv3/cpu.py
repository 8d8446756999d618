"""DCNv3 core by a compiled C++ CPU kernel (``../csrc/dcnv3_cpu.cpp``).

The kernel is plain C++ on raw pointers, built by the system compiler on
first use (:func:`segkit.utils.native.load_native`), and wrapped as custom
ops (:mod:`.custom_op`): the mask is folded into the four bilinear corner weights,
the forward is one weighted gather-sum per output pixel and the backward
recomputes the corners, so nothing larger than the offsets is saved; its
scatter-add is split by (image, group), so it needs no atomics and gives the
same bits for any thread count.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import torch

from segkit.utils.native import load_native

from .custom_op import sampling_op
from .geometry import DCNv3Geometry, sampling_points

__all__ = ['dcnv3_core_cpu', 'dcnv3_cpu_kernel_available']

_SOURCE = Path(__file__).parents[1] / 'csrc' / 'dcnv3_cpu.cpp'
DTYPES = {torch.float32: 'f32', torch.float64: 'f64'}


def _kernel() -> ctypes.CDLL | None:
    lib = load_native(_SOURCE)
    if lib is not None and not getattr(lib, 'segkit_ready', False):
        ptr, i64 = ctypes.c_void_p, ctypes.c_int64
        dims = [i64] * 8 + [ctypes.c_int]
        for suffix in DTYPES.values():
            getattr(lib, f'dcnv3_forward_{suffix}').argtypes = [ptr] * 5 + dims
            getattr(lib, f'dcnv3_backward_{suffix}').argtypes = [ptr] * 9 + dims
        lib.segkit_ready = True
    return lib


@torch.compiler.assume_constant_result  # torch.compile: asked once, not traced (ctypes)
def dcnv3_cpu_kernel_available() -> bool:
    """Whether the C++ CPU kernel is built (building it on the first call)."""
    return _kernel() is not None


def _ptr(t: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(t.data_ptr())


def _forward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
             sizes: list[int]) -> torch.Tensor:
    """Samples ``value`` at (x, y) weighted by ``mask``: see csrc/dcnv3_cpu.cpp."""
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    fn = getattr(_kernel(), f'dcnv3_forward_{DTYPES[value.dtype]}')
    fn(*map(_ptr, (value, x, y, mask, out)), *sizes, torch.get_num_threads())
    return out


def _backward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
              grad_out: torch.Tensor, sizes: list[int]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of :func:`_forward`: corners recomputed, no atomics."""
    grad_value = torch.zeros_like(value)
    grad_x, grad_y, grad_mask = (torch.empty_like(t) for t in (x, y, mask))
    fn = getattr(_kernel(), f'dcnv3_backward_{DTYPES[value.dtype]}')
    fn(*map(_ptr, (value, x, y, mask, grad_out, grad_value, grad_x, grad_y, grad_mask)),
       *sizes, torch.get_num_threads())
    return grad_value, grad_x, grad_y, grad_mask


# one opaque node for torch.compile (no graph break), differentiable
_sample = sampling_op('dcnv3_cpu', _forward, _backward)


def dcnv3_core_cpu(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                   geometry: DCNv3Geometry) -> torch.Tensor:
    """DCNv3 core by the compiled CPU kernel; see :func:`segkit.ops.dcnv3_core`.

    Raises:
        ValueError: the tensors are not CPU tensors of one dtype, float32 or
            float64.
        RuntimeError: the kernel could not be built here.
    """
    tensors = (input, offset, mask)
    if any(t.device.type != 'cpu' or t.dtype not in DTYPES for t in tensors) or len(
            {t.dtype for t in tensors}) > 1:
        raise ValueError('the DCNv3 CPU kernel takes CPU tensors of one dtype, float32 or '
                         f'float64; got {[(t.device.type, t.dtype) for t in tensors]}')
    if not dcnv3_cpu_kernel_available():
        raise RuntimeError("the DCNv3 CPU kernel could not be built (see the warning); "
                           "use impl='gather' or 'reference'")
    s = sampling_points(input, offset, mask, geometry)
    return _sample(input.contiguous(), s.x.contiguous(), s.y.contiguous(),
                   mask.contiguous(), list(s.sizes))
