"""DCNv3 core by a compiled C++ CPU kernel (``../csrc/dcnv3_cpu.cpp``).

The kernel is plain C++ on raw pointers, built by the system compiler on
first use (:func:`segkit.utils.native.load_native`). A custom autograd
function wraps it: the mask is folded into the four bilinear corner weights,
the forward is one weighted gather-sum per output pixel and the backward
recomputes the corners, so nothing larger than the offsets is saved; its
scatter-add is split by (image, group), so it needs no atomics and gives the
same bits for any thread count.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import torch
from torch.autograd.function import FunctionCtx

from segkit.utils.native import load_native

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


# NOTE: the kernel is a torch.library custom op (forward and backward), so
# torch.compile keeps it as one opaque node (no graph break) and autograd sees
# a function with a fake implementation for shape propagation
@torch.library.custom_op('segkit::dcnv3_cpu_forward', mutates_args=())
def _forward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
             sizes: list[int]) -> torch.Tensor:
    """Samples ``value`` at (x, y) weighted by ``mask``: see csrc/dcnv3_cpu.cpp."""
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    fn = getattr(_kernel(), f'dcnv3_forward_{DTYPES[value.dtype]}')
    fn(*map(_ptr, (value, x, y, mask, out)), *sizes, torch.get_num_threads())
    return out


@_forward.register_fake
def _(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
      sizes: list[int]) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    return value.new_empty(n, h_out, w_out, group * channels)


@torch.library.custom_op('segkit::dcnv3_cpu_backward', mutates_args=())
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


@_backward.register_fake
def _(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
      grad_out: torch.Tensor, sizes: list[int]
      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return tuple(torch.empty_like(t) for t in (value, x, y, mask))


def _save(ctx: FunctionCtx, inputs: tuple, output: torch.Tensor) -> None:
    value, x, y, mask, sizes = inputs
    ctx.save_for_backward(value, x, y, mask)
    ctx.sizes = sizes


def _gradients(ctx: FunctionCtx, grad_out: torch.Tensor) -> tuple:
    value, x, y, mask = ctx.saved_tensors
    return (*_backward(value, x, y, mask, grad_out.contiguous(), ctx.sizes), None)


_forward.register_autograd(_gradients, setup_context=_save)


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
    return _forward(input.contiguous(), s.x.contiguous(), s.y.contiguous(),
                    mask.contiguous(), list(s.sizes))
