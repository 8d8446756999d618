"""Pure-PyTorch reference of the DCNv4 CUDA op (OpenGVLab/DCNv4 @ 4b848f7).

Transliterates DCNv4_op/src/cuda/dcnv4_im2col_cuda.cuh (forward_kernel_dcn_reg,
lines 142-244) and common.h (ms_deform_attn_im2col_bilinear, lines 41-98),
vectorised. Backward = autograd of this function, which reproduces
dcnv4_col2im_cuda.cuh (backward_kernel_dcn*, common.h
ms_deform_attn_col2im_bilinear lines 100-212): floor() gets no gradient, the
bilinear fractions get d/dpos = 1, out-of-range corners/points contribute 0.

Also provides the fake ``DCNv4.ext`` (dcnv4_forward / dcnv4_backward with the
exact argument lists of DCNv4_op/src/dcnv4.h) used to run the ORIGINAL python
classes (DCNv4Function, DCNv4 module, FlashInternImage) on CPU.
"""
from __future__ import annotations

import numpy as np
import torch


def _opmath(dtype: torch.dtype) -> torch.dtype:
    # at::opmath_type: half/bfloat16 -> float, float -> float, double -> double
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def dcnv4_core_ref(value, offset_mask, kernel_h, kernel_w, stride_h, stride_w,
                   pad_h, pad_w, dilation_h, dilation_w, group, group_channels,
                   offset_scale, remove_center=0, softmax=False):
    """value (N, H, W, G*D) channels-last; offset_mask (N, Ho, Wo, P) with
    P >= G*K*3 (the module pads P to a multiple of 8; columns >= G*K*3 are
    ignored). Returns (N, Ho, Wo, G*D) in value's dtype."""
    N, H, W, C = value.shape
    G, D = group, group_channels
    assert C == G * D, (C, G, D)
    Ho = (H + 2 * pad_h - (dilation_h * (kernel_h - 1) + 1)) // stride_h + 1
    Wo = (W + 2 * pad_w - (dilation_w * (kernel_w - 1) + 1)) // stride_w + 1
    K = kernel_h * kernel_w - int(bool(remove_center))
    assert offset_mask.shape[:3] == (N, Ho, Wo), (offset_mask.shape, (N, Ho, Wo))
    assert offset_mask.shape[3] >= G * K * 3
    op = _opmath(value.dtype)
    # the C++ entry point takes `const float offset_scale` (dcnv4.h:70), then
    # converts to opmath_t: emulate the float32 rounding.
    s = float(np.float32(offset_scale))

    # per query, per group: [2K offsets (x=w, y=h interleaved), K masks] at gi*K*3
    om = offset_mask[..., :G * K * 3].reshape(N, Ho, Wo, G, 3 * K)
    off = om[..., :2 * K].reshape(N, Ho, Wo, G, K, 2).to(op)
    mask = om[..., 2 * K:].to(op)                      # (N, Ho, Wo, G, K)
    if softmax:
        mask = torch.softmax(mask, dim=-1)

    # point order: i over kernel_w OUTER, j over kernel_h INNER (cuh:216-217)
    pts = [(i, j) for i in range(kernel_w) for j in range(kernel_h)
           if (i != kernel_w // 2 or j != kernel_h // 2 or not remove_center)]
    assert len(pts) == K
    ki = torch.tensor([p[0] for p in pts], dtype=op)  # x / w index
    kj = torch.tensor([p[1] for p in pts], dtype=op)  # y / h index

    half_w = (dilation_w * (kernel_w - 1)) >> 1
    half_h = (dilation_h * (kernel_h - 1)) >> 1
    wo = torch.arange(Wo)
    ho = torch.arange(Ho)
    p0_w = (half_w - pad_w + wo * stride_w).to(op)     # int in the kernel
    p0_h = (half_h - pad_h + ho * stride_h).to(op)
    p0_w_ = p0_w - half_w * s                           # opmath
    p0_h_ = p0_h - half_h * s
    # w_im = p0_w_ + (i*dilation_w + off_x) * offset_scale   (cuh:219-224)
    w_im = p0_w_.view(1, 1, Wo, 1, 1) + (ki * dilation_w + off[..., 0]) * s
    h_im = p0_h_.view(1, Ho, 1, 1, 1) + (kj * dilation_h + off[..., 1]) * s

    valid = (h_im > -1) & (w_im > -1) & (h_im < H) & (w_im < W)     # cuh:227
    h_low = torch.floor(h_im)
    w_low = torch.floor(w_im)
    lh = h_im - h_low
    lw = w_im - w_low
    hh = 1 - lh
    hw = 1 - lw
    h_low_i = h_low.detach().long()
    w_low_i = w_low.detach().long()
    h_high_i = h_low_i + 1
    w_high_i = w_low_i + 1

    v = value.reshape(N, H * W, G, D).permute(0, 2, 1, 3)   # (N, G, HW, D)

    def corner(hi, wi):
        ok = valid & (hi >= 0) & (hi < H) & (wi >= 0) & (wi < W)
        idx = (hi.clamp(0, H - 1) * W + wi.clamp(0, W - 1))           # (N,Ho,Wo,G,K)
        idx = idx.permute(0, 3, 1, 2, 4).reshape(N, G, Ho * Wo * K, 1).expand(-1, -1, -1, D)
        g = torch.gather(v, 2, idx).reshape(N, G, Ho, Wo, K, D).permute(0, 2, 3, 1, 4, 5)
        return g.to(op) * ok.unsqueeze(-1).to(op)

    v1 = corner(h_low_i, w_low_i)
    v2 = corner(h_low_i, w_high_i)
    v3 = corner(h_high_i, w_low_i)
    v4 = corner(h_high_i, w_high_i)
    w1, w2, w3, w4 = hh * hw, hh * lw, lh * hw, lh * lw
    samp = (w1.unsqueeze(-1) * v1 + w2.unsqueeze(-1) * v2 +
            w3.unsqueeze(-1) * v3 + w4.unsqueeze(-1) * v4)           # (N,Ho,Wo,G,K,D)
    out = (mask.unsqueeze(-1) * samp).sum(-2)                       # (N,Ho,Wo,G,D)
    return out.reshape(N, Ho, Wo, G * D).to(value.dtype)


def dcnv4_core_loop(value, offset_mask, kh, kw, sh, sw, ph, pw, dh, dw, G, D, s,
                    remove_center=0, softmax=False):
    """Scalar, line-by-line transliteration of forward_kernel_dcn_reg +
    ms_deform_attn_im2col_bilinear (slow; for tiny cross-checks only)."""
    import math
    N, H, W, C = value.shape
    Ho = (H + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    Wo = (W + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    K = kh * kw - (1 if remove_center else 0)
    P = offset_mask.shape[3]
    val = value.double().numpy()
    om = offset_mask.double().numpy().reshape(N, Ho * Wo, P)
    out = np.zeros((N, Ho * Wo, G * D))
    for bi in range(N):
        for qi in range(Ho * Wo):
            for gi in range(G):
                p_off = om[bi, qi, gi * K * 3:]
                mk = [p_off[K * 2 + i] for i in range(K)]
                if softmax:
                    m = max(mk)
                    e = [math.exp(x - m) for x in mk]
                    mk = [x / sum(e) for x in e]
                p0_w = ((dw * (kw - 1)) >> 1) - pw + (qi % Wo) * sw
                p0_h = ((dh * (kh - 1)) >> 1) - ph + (qi // Wo) * sh
                p0_w_ = p0_w - ((dw * (kw - 1)) >> 1) * s
                p0_h_ = p0_h - ((dh * (kh - 1)) >> 1) * s
                acc = np.zeros(D)
                oi = mi = 0
                for i in range(kw):
                    for j in range(kh):
                        if i != kw // 2 or j != kh // 2 or not remove_center:
                            w_im = p0_w_ + (i * dw + p_off[oi]) * s
                            h_im = p0_h_ + (j * dh + p_off[oi + 1]) * s
                            attn = mk[mi]
                            if h_im > -1 and w_im > -1 and h_im < H and w_im < W:
                                hl, wl = math.floor(h_im), math.floor(w_im)
                                lh, lw = h_im - hl, w_im - wl
                                hh, hw = 1 - lh, 1 - lw
                                vs = []
                                for (a, b, ok) in ((hl, wl, hl >= 0 and wl >= 0),
                                                   (hl, wl + 1, hl >= 0 and wl + 1 < W),
                                                   (hl + 1, wl, hl + 1 < H and wl >= 0),
                                                   (hl + 1, wl + 1, hl + 1 < H and wl + 1 < W)):
                                    vs.append(val[bi, a, b, gi * D:(gi + 1) * D] if ok
                                              else np.zeros(D))
                                acc += attn * (hh * hw * vs[0] + hh * lw * vs[1] +
                                               lh * hw * vs[2] + lh * lw * vs[3])
                            oi += 2
                            mi += 1
                out[bi, qi, gi * D:(gi + 1) * D] = acc
    return torch.from_numpy(out.reshape(N, Ho, Wo, G * D))


class FakeExt:
    """Stand-in for the compiled ``DCNv4.ext`` (DCNv4_op/src/vision.cpp),
    same argument lists as DCNv4_op/src/dcnv4.h."""

    calls = []

    @staticmethod
    def dcnv4_forward(value, p_offset, kernel_h, kernel_w, stride_h, stride_w,
                      pad_h, pad_w, dilation_h, dilation_w, group, group_channels,
                      offset_scale, im2col_step, remove_center, d_stride,
                      block_thread, softmax):
        FakeExt.calls.append(('fwd', tuple(value.shape), tuple(p_offset.shape), d_stride,
                              block_thread, bool(softmax)))
        assert value.is_contiguous() and p_offset.is_contiguous()  # dcnv4_cuda.cu:34-37
        assert p_offset.shape[3] % 8 == 0                           # dcnv4_cuda.cu:46
        with torch.no_grad():
            return dcnv4_core_ref(value, p_offset, kernel_h, kernel_w, stride_h, stride_w,
                                  pad_h, pad_w, dilation_h, dilation_w, group,
                                  group_channels, offset_scale, remove_center, softmax)

    @staticmethod
    def dcnv4_backward(value, p_offset, kernel_h, kernel_w, stride_h, stride_w,
                       pad_h, pad_w, dilation_h, dilation_w, group, group_channels,
                       offset_scale, im2col_step, grad_output, remove_center,
                       d_stride, block_thread, softmax):
        FakeExt.calls.append(('bwd', tuple(value.shape), tuple(p_offset.shape), d_stride,
                              block_thread, bool(softmax)))
        with torch.enable_grad():
            v = value.detach().requires_grad_(True)
            o = p_offset.detach().requires_grad_(True)
            out = dcnv4_core_ref(v, o, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                                 pad_w, dilation_h, dilation_w, group, group_channels,
                                 offset_scale, remove_center, softmax)
            gi, go = torch.autograd.grad(out, (v, o), grad_output, allow_unused=True)
        if go is None:
            go = torch.zeros_like(p_offset)
        return [gi, go]

    @staticmethod
    def flash_deform_attn_forward(*a, **k):
        raise NotImplementedError('FlashDeformAttn is not part of this golden data')

    flash_deform_attn_backward = flash_deform_attn_forward
