"""Deformable sampling as Triton kernels (GPU), for both position rules: the
masked bilinear gather-sum and its gradients, without the (N*G, C', H*W, K)
sampled tensor.

Wang et al., "InternImage", CVPR 2023, arXiv 2211.05778 (DCNv3); Xiong et
al., "Efficient Deformable ConvNets", CVPR 2024, arXiv 2401.06197 (DCNv4).

The same scheme as the C++ CPU kernel (``../csrc/deform_sampling_cpu.cpp``):
each program takes a block of output pixels of one group, gets each point's
position and mask by the version's rule (``PACKED``: DCNv3's precomputed
positions, or DCNv4's packed offsets with the position computed here in the
kernel's arithmetic), folds the mask into the four corner weights and
gathers the group's channel vectors; backward recomputes the corners,
reduces the dot products for the position and mask gradients and scatters
into the value gradient with atomic adds (accumulated in float32 for half
types). Arithmetic is in float32, or float64 for float64 inputs; offsets and
masks may have another dtype than the value map (autocast).

Under ``TRITON_INTERPRET=1`` the kernels run on CPU tensors, which is how
segkit's tests check them on machines without a GPU.
"""
from __future__ import annotations

import contextlib

import torch
import triton
import triton.language as tl

from .custom_op import sampling_op
from .geometry import DeformGeometry
from .positions import Samples, packed_geometry, packed_sizes

__all__ = ['packed_sample_triton', 'sample_triton']

BLOCK_PIXELS = 64


@triton.jit
def _point(xs, ys, mask, om, q, q_ok, g, k, Ho, Wo, scale,
           G: tl.constexpr, K: tl.constexpr, P: tl.constexpr, KH: tl.constexpr,
           KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr, PH: tl.constexpr,
           PW: tl.constexpr, DH: tl.constexpr, DW: tl.constexpr, CENTRE: tl.constexpr,
           PACKED: tl.constexpr, ACC: tl.constexpr):
    """Point ``k`` of each pixel ``q`` of group ``g``: its position and mask,
    by DCNv3's rule (precomputed) or DCNv4's (packed; ``CENTRE`` >= 0 is the
    index of a removed centre point)."""
    if PACKED:
        row = q.to(tl.int64) * P + g * (3 * K)
        ox = tl.load(om + row + 2 * k, mask=q_ok, other=0).to(ACC)
        oy = tl.load(om + row + 2 * k + 1, mask=q_ok, other=0).to(ACC)
        m = tl.load(om + row + 2 * K + k, mask=q_ok, other=0).to(ACC)
        if CENTRE >= 0:  # the removed centre takes no index
            p = k + (k >= CENTRE) * 1  # (k is a Python int under the interpreter)
        else:
            p = k
        i = p // KH
        j = p % KH
        half_w: tl.constexpr = (DW * (KW - 1)) // 2
        half_h: tl.constexpr = (DH * (KH - 1)) // 2
        s = tl.cast(scale, ACC)
        p0_w = ((q % Wo) * SW + (half_w - PW)).to(ACC) - half_w * s
        p0_h = (((q // Wo) % Ho) * SH + (half_h - PH)).to(ACC) - half_h * s
        x = p0_w + (tl.cast(i * DW, ACC) + ox) * s
        y = p0_h + (tl.cast(j * DH, ACC) + oy) * s
    else:
        at = (q.to(tl.int64) * G + g) * K + k
        x = tl.load(xs + at, mask=q_ok, other=-2).to(ACC)
        y = tl.load(ys + at, mask=q_ok, other=-2).to(ACC)
        m = tl.load(mask + at, mask=q_ok, other=0).to(ACC)
    return x, y, m


@triton.jit
def _corners(x, y, q_ok, H, W):
    """The top-left corner, fractions, whether any corner can be inside, and
    whether the position is not finite (NaN or inf)."""
    nan = (x - x != 0) | (y - y != 0)  # NaN or inf
    valid = q_ok & (x > -1) & (x < W) & (y > -1) & (y < H)
    # far-away, infinite or NaN positions must not reach the weights (inf * 0)
    x = tl.where(valid, x, 0)
    y = tl.where(valid, y, 0)
    xf = tl.floor(x)
    yf = tl.floor(y)
    return xf.to(tl.int32), yf.to(tl.int32), x - xf, y - yf, valid, nan


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
def _forward_kernel(value, xs, ys, mask, om, out, pixels, H, W, Ho, Wo, scale,
                    G: tl.constexpr, C: tl.constexpr, K: tl.constexpr, P: tl.constexpr,
                    KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
                    PH: tl.constexpr, PW: tl.constexpr, DH: tl.constexpr, DW: tl.constexpr,
                    CENTRE: tl.constexpr, PACKED: tl.constexpr, BLOCK_P: tl.constexpr,
                    BLOCK_C: tl.constexpr, ACC: tl.constexpr):
    g = tl.program_id(1)
    q = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.arange(0, BLOCK_C)
    q_ok = q < pixels
    c_ok = c < C
    image = (q // (Ho * Wo)).to(tl.int64) * H * W
    acc = tl.zeros((BLOCK_P, BLOCK_C), dtype=ACC)
    for k in range(K):
        x, y, m = _point(xs, ys, mask, om, q, q_ok, g, k, Ho, Wo, scale, G, K, P, KH, KW, SH,
                         SW, PH, PW, DH, DW, CENTRE, PACKED, ACC)
        x0, y0, fx, fy, valid, nan = _corners(x, y, q_ok, H, W)
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
def _backward_kernel(value, xs, ys, mask, om, grad_out, grad_value, grad_x, grad_y, grad_mask,
                     grad_om, pixels, H, W, Ho, Wo, scale,
                     G: tl.constexpr, C: tl.constexpr, K: tl.constexpr, P: tl.constexpr,
                     KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
                     PH: tl.constexpr, PW: tl.constexpr, DH: tl.constexpr, DW: tl.constexpr,
                     CENTRE: tl.constexpr, PACKED: tl.constexpr, BLOCK_P: tl.constexpr,
                     BLOCK_C: tl.constexpr, ACC: tl.constexpr):
    g = tl.program_id(1)
    q = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.arange(0, BLOCK_C)
    q_ok = q < pixels
    c_ok = c < C
    image = (q // (Ho * Wo)).to(tl.int64) * H * W
    rows = (q.to(tl.int64) * G + g) * C
    go = tl.load(grad_out + rows[:, None] + c[None, :], mask=q_ok[:, None] & c_ok[None, :],
                 other=0).to(ACC)
    for k in range(K):
        x, y, m = _point(xs, ys, mask, om, q, q_ok, g, k, Ho, Wo, scale, G, K, P, KH, KW, SH,
                         SW, PH, PW, DH, DW, CENTRE, PACKED, ACC)
        x0, y0, fx, fy, valid, nan = _corners(x, y, q_ok, H, W)
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
        if PACKED:
            s = tl.cast(scale, ACC)
            row = q.to(tl.int64) * P + g * (3 * K)
            tl.store(grad_om + row + 2 * k, (s * dx).to(grad_om.dtype.element_ty), mask=q_ok)
            tl.store(grad_om + row + 2 * k + 1, (s * dy).to(grad_om.dtype.element_ty),
                     mask=q_ok)
            tl.store(grad_om + row + 2 * K + k, dm.to(grad_om.dtype.element_ty), mask=q_ok)
        else:
            at = (q.to(tl.int64) * G + g) * K + k
            tl.store(grad_mask + at, dm.to(grad_mask.dtype.element_ty), mask=q_ok)
            tl.store(grad_x + at, dx.to(grad_x.dtype.element_ty), mask=q_ok)
            tl.store(grad_y + at, dy.to(grad_y.dtype.element_ty), mask=q_ok)


def _launch(value: torch.Tensor | None, sizes: list[int], geometry: list[int] | None
            ) -> tuple[tuple, tuple, dict]:
    """Grid, runtime sizes and constexprs of a launch; ``geometry`` as
    :func:`.positions.packed_geometry` gives it, None for precomputed positions."""
    n, h, w, h_out, w_out, group, channels, k = sizes
    pixels = n * h_out * w_out
    packed = geometry is not None
    p, kh, kw, sh, sw, ph, pw, dh, dw, removed = geometry if packed else [0] * 10
    centre = (kw // 2) * kh + kh // 2 if packed and removed else -1
    meta = dict(G=group, C=channels, K=k, P=p, KH=kh or 1, KW=kw or 1, SH=sh, SW=sw, PH=ph,
                PW=pw, DH=dh, DW=dw, CENTRE=centre, PACKED=packed, BLOCK_P=BLOCK_PIXELS,
                BLOCK_C=triton.next_power_of_2(channels),
                ACC=tl.float64 if value is not None and value.dtype == torch.float64
                else tl.float32)
    return (triton.cdiv(pixels, BLOCK_PIXELS), group), (pixels, h, w, h_out, w_out), meta


def _on(device: torch.device) -> contextlib.AbstractContextManager:
    """Kernels launch on the current CUDA device: make it the tensors' one."""
    return torch.cuda.device(device) if device.type == 'cuda' else contextlib.nullcontext()


def _forward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
             sizes: list[int]) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    grid, runtime, meta = _launch(value, sizes, None)
    with _on(value.device):
        _forward_kernel[grid](value, x, y, mask, value, out, *runtime, 1.0, **meta)
    return out


def _backward(value: torch.Tensor, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor,
              grad_out: torch.Tensor, sizes: list[int]
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    wide = torch.float64 if value.dtype == torch.float64 else torch.float32
    grad_value = torch.zeros_like(value, dtype=wide)
    grad_x, grad_y, grad_mask = (torch.empty_like(t) for t in (x, y, mask))
    grid, runtime, meta = _launch(value, sizes, None)
    with _on(value.device):
        _backward_kernel[grid](value, x, y, mask, value, grad_out, grad_value, grad_x, grad_y,
                               grad_mask, grad_x, *runtime, 1.0, **meta)
    return grad_value.to(value.dtype), grad_x, grad_y, grad_mask


def _packed_forward(value: torch.Tensor, offset_mask: torch.Tensor, sizes: list[int],
                    geometry: list[int], scale: float) -> torch.Tensor:
    n, _, _, h_out, w_out, group, channels, _ = sizes
    out = value.new_empty(n, h_out, w_out, group * channels)
    grid, runtime, meta = _launch(value, sizes, geometry)
    with _on(value.device):
        _forward_kernel[grid](value, value, value, value, offset_mask, out, *runtime, scale,
                              **meta)
    return out


def _packed_backward(value: torch.Tensor, offset_mask: torch.Tensor, grad_out: torch.Tensor,
                     sizes: list[int], geometry: list[int], scale: float
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    wide = torch.float64 if value.dtype == torch.float64 else torch.float32
    grad_value = torch.zeros_like(value, dtype=wide)
    grad_offset_mask = torch.zeros_like(offset_mask)  # the padding columns stay zero
    grid, runtime, meta = _launch(value, sizes, geometry)
    with _on(value.device):
        _backward_kernel[grid](value, value, value, value, offset_mask, grad_out, grad_value,
                               value, value, value, grad_offset_mask, *runtime, scale, **meta)
    return grad_value.to(value.dtype), grad_offset_mask


# one opaque node for torch.compile (no graph break), differentiable, as the CPU kernel
_sample = sampling_op('deform_sampling_triton', _forward, _backward, tensors=4)
_packed_sample = sampling_op('packed_sampling_triton', _packed_forward, _packed_backward,
                             tensors=2)


def sample_triton(input: torch.Tensor, s: Samples) -> torch.Tensor:
    """Precomputed positions (DCNv3's rule), by the Triton kernels."""
    return _sample(input.contiguous(), s.x.contiguous(), s.y.contiguous(),
                   s.mask.contiguous(), list(s.sizes))


def packed_sample_triton(input: torch.Tensor, offset_mask: torch.Tensor,
                         g: DeformGeometry) -> torch.Tensor:
    """DCNv4's packed offsets and masks, positions computed in the kernels."""
    sizes = packed_sizes(input, offset_mask, g)
    geometry, scale = packed_geometry(g)
    return _packed_sample(input.contiguous(), offset_mask.contiguous(), sizes, geometry, scale)
