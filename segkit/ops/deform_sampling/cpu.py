"""Deformable sampling by a compiled C++ CPU kernel (``../csrc/deform_sampling_cpu.cpp``).

The kernel is plain C++ on raw pointers, built by the system compiler on
first use (:func:`segkit.utils.native.load_native`), and wrapped as custom
ops (:mod:`.custom_op`), one per position rule: :func:`sample_cpu` takes
precomputed positions (DCNv3), :func:`packed_sample_cpu` DCNv4's packed
offsets and masks, whose positions it computes itself. The mask is folded
into the four bilinear corner weights, the forward is one weighted
gather-sum per output pixel and the backward recomputes the corners, so
nothing larger than the offsets is saved; its scatter-add is split by
(image, group), so it needs no atomics and gives the same bits for any
thread count.
"""
from __future__ import annotations

import ctypes
from collections.abc import Callable
from pathlib import Path

import torch

from segkit.utils.native import load_native

from .custom_op import sampling_op
from .geometry import DeformGeometry
from .positions import Samples, packed_geometry, packed_sizes

__all__ = ['cpu_kernel_available', 'packed_sample_cpu', 'sample_cpu']

_SOURCE = Path(__file__).parents[1] / 'csrc' / 'deform_sampling_cpu.cpp'
DTYPES = {torch.float32: 'f32', torch.float64: 'f64'}


def _kernel() -> ctypes.CDLL | None:
    lib = load_native(_SOURCE)
    if lib is not None and not getattr(lib, 'segkit_ready', False):
        ptr, i64, threads = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        sizes = [i64] * 8
        packed = sizes + [ptr, ctypes.c_double, threads]
        for suffix in DTYPES.values():
            getattr(lib, f'sample_forward_{suffix}').argtypes = [ptr] * 5 + sizes + [threads]
            getattr(lib, f'sample_backward_{suffix}').argtypes = [ptr] * 9 + sizes + [threads]
            getattr(lib, f'packed_forward_{suffix}').argtypes = [ptr] * 3 + packed
            getattr(lib, f'packed_backward_{suffix}').argtypes = [ptr] * 5 + packed
        lib.segkit_ready = True
    return lib


def _constant_under_compile(fn: Callable[[], bool]) -> Callable[[], bool]:
    """``torch.compiler.assume_constant_result`` (torch.compile asks ``fn``
    once instead of tracing it), without that decorator's import of all of
    ``torch._dynamo`` (2.6 s of every process start here): it sets only this
    attribute (torch 2.6 to 2.14). test_compile's no-graph-break tests fail
    if that changes."""
    fn._dynamo_marked_constant = True  # type: ignore[attr-defined]
    return fn


@_constant_under_compile  # ctypes inside: asked once, not traced
def cpu_kernel_available() -> bool:
    """Whether the C++ CPU kernel is built (building it on the first call)."""
    return _kernel() is not None


def _ptr(t: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(t.data_ptr())


def _fn(name: str, t: torch.Tensor):  # noqa: ANN202 - a ctypes function
    return getattr(_kernel(), f'{name}_{DTYPES[t.dtype]}')


def _forward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
             sizes: list[int]) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    _fn('sample_forward', value)(*map(_ptr, (value, x, y, mask, out)), *sizes,
                                 torch.get_num_threads())
    return out


def _backward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
              grad_out: torch.Tensor, sizes: list[int]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    grad_value = torch.zeros_like(value)
    grad_x, grad_y, grad_mask = (torch.empty_like(t) for t in (x, y, mask))
    _fn('sample_backward', value)(
        *map(_ptr, (value, x, y, mask, grad_out, grad_value, grad_x, grad_y, grad_mask)),
        *sizes, torch.get_num_threads())
    return grad_value, grad_x, grad_y, grad_mask


def _packed_forward(value: torch.Tensor, offset_mask: torch.Tensor, sizes: list[int],
                    geometry: list[int], scale: float) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    _fn('packed_forward', value)(*map(_ptr, (value, offset_mask, out)), *sizes,
                                 (ctypes.c_int64 * len(geometry))(*geometry), scale,
                                 torch.get_num_threads())
    return out


def _packed_backward(value: torch.Tensor, offset_mask: torch.Tensor, grad_out: torch.Tensor,
                     sizes: list[int], geometry: list[int], scale: float
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    grad_value = torch.zeros_like(value)
    grad_offset_mask = torch.zeros_like(offset_mask)  # the padding columns stay zero
    _fn('packed_backward', value)(
        *map(_ptr, (value, offset_mask, grad_out, grad_value, grad_offset_mask)), *sizes,
        (ctypes.c_int64 * len(geometry))(*geometry), scale, torch.get_num_threads())
    return grad_value, grad_offset_mask


# one opaque node for torch.compile (no graph break), differentiable
_sample = sampling_op('deform_sampling_cpu', _forward, _backward, tensors=4)
_packed_sample = sampling_op('packed_sampling_cpu', _packed_forward, _packed_backward,
                             tensors=2)


def _check(tensors: tuple[torch.Tensor, ...]) -> None:
    if any(t.device.type != 'cpu' or t.dtype not in DTYPES for t in tensors) or len(
            {t.dtype for t in tensors}) > 1:
        raise ValueError('the CPU sampling kernel takes CPU tensors of one dtype, float32 or '
                         f'float64; got {[(t.device.type, t.dtype) for t in tensors]}')
    if not cpu_kernel_available():
        raise RuntimeError("the CPU sampling kernel could not be built (see the warning); "
                           "use impl='gather' or 'reference'")


def sample_cpu(input: torch.Tensor, s: Samples) -> torch.Tensor:
    """Precomputed positions (DCNv3's rule), by the C++ kernel.

    Raises:
        ValueError: the tensors are not CPU tensors of one dtype, float32 or
            float64.
        RuntimeError: the kernel could not be built here.
    """
    _check((input, s.x, s.y, s.mask))
    return _sample(input.contiguous(), s.x.contiguous(), s.y.contiguous(),
                   s.mask.contiguous(), list(s.sizes))


def packed_sample_cpu(input: torch.Tensor, offset_mask: torch.Tensor,
                      g: DeformGeometry) -> torch.Tensor:
    """DCNv4's packed offsets and masks, positions computed in the kernel.

    Raises:
        ValueError: bad shapes, or not CPU tensors of one dtype (float32/64).
        RuntimeError: the kernel could not be built here.
    """
    sizes = packed_sizes(input, offset_mask, g)
    _check((input, offset_mask))
    geometry, scale = packed_geometry(g)
    return _packed_sample(input.contiguous(), offset_mask.contiguous(), sizes, geometry, scale)
