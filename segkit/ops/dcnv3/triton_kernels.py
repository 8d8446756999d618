"""DCNv3 core as Triton kernels (GPU): the masked bilinear gather-sum and its
gradients, without the (N*G, C', H*W, K) sampled tensor.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

The same scheme as the C++ CPU kernel (``../csrc/dcnv3_cpu.cpp``): positions
come from :func:`.geometry.sampling_points` (the original's rounding), each
program takes a block of output pixels of one group, folds
the mask into the four corner weights and gathers the group's channel
vectors; backward recomputes the corners, reduces the dot products for the
position and mask gradients and scatters into the value gradient with
atomic adds (accumulated in float32 for half types). Arithmetic is in
float32, or float64 for float64 inputs; offsets and mask may have another
dtype than the value map (autocast).

Under ``TRITON_INTERPRET=1`` the kernels run on CPU tensors, which is how
segkit's tests check them on machines without a GPU.
"""
from __future__ import annotations

import contextlib

import torch
import triton
import triton.language as tl

from .custom_op import sampling_op
from .geometry import DCNv3Geometry, sampling_points

__all__ = ['dcnv3_core_triton']

BLOCK_PIXELS = 64


@triton.jit
def _point(xs, ys, mask, s, q_ok, H, W, ACC: tl.constexpr):
    """Sample ``s``: its top-left corner, fractions, mask, whether any corner
    can be inside, and whether its position is not finite (NaN or inf)."""
    x = tl.load(xs + s, mask=q_ok, other=-2).to(ACC)
    y = tl.load(ys + s, mask=q_ok, other=-2).to(ACC)
    m = tl.load(mask + s, mask=q_ok, other=0).to(ACC)
    nan = (x - x != 0) | (y - y != 0)  # NaN or inf
    valid = q_ok & (x > -1) & (x < W) & (y > -1) & (y < H)
    # far-away, infinite or NaN positions must not reach the weights (inf * 0)
    x = tl.where(valid, x, 0)
    y = tl.where(valid, y, 0)
    xf = tl.floor(x)
    yf = tl.floor(y)
    return xf.to(tl.int32), yf.to(tl.int32), x - xf, y - yf, m, valid, nan


@triton.jit
def _corner(x0, y0, fx, fy, DX: tl.constexpr, DY: tl.constexpr, H, W, valid):
    """Corner (x0 + DX, y0 + DY): pixel index, whether inside, weight, d/dx, d/dy."""
    cx = x0 + DX
    cy = y0 + DY
    inside = valid & (cx >= 0) & (cx < W) & (cy >= 0) & (cy < H)
    wx = fx if DX else 1 - fx
    wy = fy if DY else 1 - fy
    dwx = wy if DX else -wy
    dwy = wx if DY else -wx
    # NOTE: not tl.where(inside, index, 0): Triton 3.6 fails to compile that
    # select for sm_90 (mismatched layouts in TritonGPURemoveLayoutConversions,
    # seen on an H200); every load and atomic through it is masked by inside
    pixel = cy * W + cx
    return pixel, inside, wx * wy, dwx, dwy


@triton.jit
def _block(pixels, H, W, HW_out, C: tl.constexpr, BLOCK_P: tl.constexpr,
           BLOCK_C: tl.constexpr):
    """This program's group, output pixels and channel lanes (with their
    bounds), and the offset of each pixel's image in the value map."""
    q = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.arange(0, BLOCK_C)
    return tl.program_id(1), q, q < pixels, c, c < C, (q // HW_out).to(tl.int64) * H * W


@triton.jit
def _forward_kernel(value, xs, ys, mask, out, pixels, H, W, HW_out,
                    G: tl.constexpr, C: tl.constexpr, K: tl.constexpr,
                    BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr, ACC: tl.constexpr):
    g, q, q_ok, c, c_ok, image = _block(pixels, H, W, HW_out, C, BLOCK_P, BLOCK_C)
    acc = tl.zeros((BLOCK_P, BLOCK_C), dtype=ACC)
    for k in range(K):
        s = (q.to(tl.int64) * G + g) * K + k
        x0, y0, fx, fy, m, valid, nan = _point(xs, ys, mask, s, q_ok, H, W, ACC)
        acc += tl.where(nan, float('nan'), 0)[:, None]  # as grid_sample: not finite in, NaN out
        for corner in tl.static_range(4):
            pixel, inside, weight, _, _ = _corner(x0, y0, fx, fy, corner % 2,
                                                  corner // 2, H, W, valid)
            row = ((image + pixel) * G + g) * C
            v = tl.load(value + row[:, None] + c[None, :], mask=inside[:, None] & c_ok[None, :],
                        other=0).to(ACC)
            acc += (m * weight)[:, None] * v
    rows = (q.to(tl.int64) * G + g) * C
    tl.store(out + rows[:, None] + c[None, :], acc.to(out.dtype.element_ty),
             mask=q_ok[:, None] & c_ok[None, :])


@triton.jit
def _backward_kernel(value, xs, ys, mask, grad_out, grad_value, grad_x, grad_y, grad_mask,
                     pixels, H, W, HW_out, G: tl.constexpr, C: tl.constexpr, K: tl.constexpr,
                     BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr, ACC: tl.constexpr):
    g, q, q_ok, c, c_ok, image = _block(pixels, H, W, HW_out, C, BLOCK_P, BLOCK_C)
    rows = (q.to(tl.int64) * G + g) * C
    go = tl.load(grad_out + rows[:, None] + c[None, :], mask=q_ok[:, None] & c_ok[None, :],
                 other=0).to(ACC)
    for k in range(K):
        s = (q.to(tl.int64) * G + g) * K + k
        x0, y0, fx, fy, m, valid, nan = _point(xs, ys, mask, s, q_ok, H, W, ACC)
        dm = tl.zeros((BLOCK_P,), dtype=ACC)
        dx = tl.zeros((BLOCK_P,), dtype=ACC)
        dy = tl.zeros((BLOCK_P,), dtype=ACC)
        for corner in tl.static_range(4):
            pixel, inside, weight, dwx, dwy = _corner(x0, y0, fx, fy, corner % 2,
                                                      corner // 2, H, W, valid)
            row = ((image + pixel) * G + g) * C
            ok = inside[:, None] & c_ok[None, :]
            v = tl.load(value + row[:, None] + c[None, :], mask=ok, other=0).to(ACC)
            dot = tl.sum(v * go, axis=1)
            dm += weight * dot
            dx += dwx * dot
            dy += dwy * dot
            contribution = (m * weight)[:, None] * go
            tl.atomic_add(grad_value + row[:, None] + c[None, :],
                          contribution.to(grad_value.dtype.element_ty), mask=ok)
        dm = tl.where(nan, float('nan'), dm)
        dx = tl.where(nan, float('nan'), m * dx)
        dy = tl.where(nan, float('nan'), m * dy)
        tl.store(grad_mask + s, dm.to(grad_mask.dtype.element_ty), mask=q_ok)
        tl.store(grad_x + s, dx.to(grad_x.dtype.element_ty), mask=q_ok)
        tl.store(grad_y + s, dy.to(grad_y.dtype.element_ty), mask=q_ok)


def _launch_args(value: torch.Tensor, sizes: tuple[int, ...]) -> tuple[tuple, dict]:
    n, h, w, h_out, w_out, group, channels, k = sizes
    pixels = n * h_out * w_out
    grid = (triton.cdiv(pixels, BLOCK_PIXELS), group)
    meta = dict(G=group, C=channels, K=k, BLOCK_P=BLOCK_PIXELS,
                BLOCK_C=triton.next_power_of_2(channels),
                ACC=tl.float64 if value.dtype == torch.float64 else tl.float32)
    return grid, (pixels, h, w, h_out * w_out), meta


def _on(device: torch.device) -> contextlib.AbstractContextManager:
    """Kernels launch on the current CUDA device: make it the tensors' one."""
    return torch.cuda.device(device) if device.type == 'cuda' else contextlib.nullcontext()


def _forward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
             sizes: list[int]) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    grid, launch, meta = _launch_args(value, sizes)
    with _on(value.device):
        _forward_kernel[grid](value, x, y, mask, out, *launch, **meta)
    return out


def _backward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
              grad_out: torch.Tensor, sizes: list[int]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    wide = torch.float64 if value.dtype == torch.float64 else torch.float32
    grad_value = torch.zeros_like(value, dtype=wide)
    grad_x, grad_y, grad_mask = (torch.empty_like(t) for t in (x, y, mask))
    grid, launch, meta = _launch_args(value, sizes)
    with _on(value.device):
        _backward_kernel[grid](value, x, y, mask, grad_out, grad_value, grad_x, grad_y,
                               grad_mask, *launch, **meta)
    return grad_value.to(value.dtype), grad_x, grad_y, grad_mask


# one opaque node for torch.compile (no graph break), differentiable, as the CPU kernel
_sample = sampling_op('dcnv3_triton', _forward, _backward)


def dcnv3_core_triton(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                      geometry: DCNv3Geometry) -> torch.Tensor:
    """DCNv3 core by the Triton kernels; see :func:`segkit.ops.dcnv3_core`."""
    s = sampling_points(input, offset, mask, geometry)
    return _sample(input.contiguous(), s.x.contiguous(), s.y.contiguous(), mask.contiguous(),
                   list(s.sizes))
