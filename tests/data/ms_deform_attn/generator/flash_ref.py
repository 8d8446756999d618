"""Pure-PyTorch re-computation of DCNv4's flash deformable-attention CUDA op.

Written for this repository from the kernel sources of OpenGVLab/DCNv4 at
4b848f7dd7da74ff03f7d278f902c6fd05b391b5 (paths under ``DCNv4_op/src/``):

* forward: ``flash_deform_attn_cuda.cu`` (``flash_deform_attn_cuda_forward``,
  lines 26-84) -> ``flash_deform_im2col_cuda.cuh`` (``forward_kernel_reg``,
  lines 130-209, the kernel launched at line 232) -> ``cuda/common.h``
  (``ms_deform_attn_im2col_bilinear``, lines 41-98);
* backward: ``flash_deform_attn_cuda.cu`` (``flash_deform_attn_cuda_backward``,
  lines 86-163) -> ``flash_deform_col2im_cuda.cuh`` (``backward_kernel``
  lines 20-169, ``backward_kernel_warp_primitive`` lines 171-318) ->
  ``common.h`` (``ms_deform_attn_col2im_bilinear``, lines 100-212).

What the kernel computes, per batch b, query q and head g, with the packed
``sampling_loc_attn[b, q, g, :]`` of length ``L*K*3``:

* ``[0, 2LK)``: (loc_w, loc_h) pairs, level-major then point (``offset_idx``
  += 2 per point, cuh:184-196); ``[2LK, 3LK)``: L*K attention *logits*,
  softmaxed jointly over all L*K in opmath_t (cuh:148-171, max-subtracted);
* per point ``h_im = loc_h * H_l - 0.5``, ``w_im = loc_w * W_l - 0.5``; a point
  contributes only if ``h_im > -1 && w_im > -1 && h_im < H_l && w_im < W_l``
  (cuh:188-190); bilinear with ``floor``, corners outside the map read 0
  (common.h:47-97);
* output[b, q, g*D + d] = sum over (l, k) of softmax_lk * bilinear(value_l).

Backward (common.h:100-212 and the softmax backward, col2im cuh:300-316):
grad_value by the bilinear weights times attn; grad of loc_w is
``sum_d (d bilinear / d w_im) * top_grad * W_l * attn`` (the
``offset_scale_w = spatial_w`` argument, col2im cuh:273-276); the logit
gradient is the softmax backward of ``g_lk = sum_d bilinear_lk * top_grad``.
For a point that fails the range test the kernel writes neither its location
gradient (stays 0: ``at::zeros_like``) nor its ``g_lk`` entry of the shared
``cache_g_mask_before_softmax`` (col2im cuh:285-292 inside the ``if``), which
is then read uninitialised by the softmax backward; the mathematically
correct value 0 is used here (and by autograd of the vectorised function).
"""
from __future__ import annotations

import math

import numpy as np
import torch


def _opmath(dtype: torch.dtype) -> torch.dtype:
    # at::opmath_type: half/bfloat16 -> float, float -> float, double -> double
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def flash_deform_attn_ref(value, spatial_shapes, level_start_index, sampling_loc_attn, K):
    """Vectorised re-computation of ``ext.flash_deform_attn_forward``.

    value (B, S, G, D); spatial_shapes (L, 2) int64 (H, W); level_start_index (L,);
    sampling_loc_attn (B, Q, G, L*K*3) in value's dtype. Returns (B, Q, G*D).
    Differentiable (autograd gives the kernel's backward, see the module doc).
    """
    B, S, G, D = value.shape
    L = spatial_shapes.shape[0]
    Q = sampling_loc_attn.shape[1]
    assert sampling_loc_attn.shape == (B, Q, G, L * K * 3), sampling_loc_attn.shape
    op = _opmath(value.dtype)
    sla = sampling_loc_attn.to(op)
    loc = sla[..., :L * K * 2].reshape(B, Q, G, L, K, 2)
    attn = torch.softmax(sla[..., L * K * 2:], dim=-1).reshape(B, Q, G, L, K)
    out = torch.zeros(B, Q, G, D, dtype=op)
    shapes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]
    starts = [int(s) for s in level_start_index.tolist()]
    for li, (H, W) in enumerate(shapes):
        v = value[:, starts[li]:starts[li] + H * W].to(op)            # (B, HW, G, D)
        v = v.permute(0, 2, 1, 3)                                       # (B, G, HW, D)
        h_im = loc[:, :, :, li, :, 1] * H - 0.5                         # (B, Q, G, K)
        w_im = loc[:, :, :, li, :, 0] * W - 0.5
        valid = (h_im > -1) & (w_im > -1) & (h_im < H) & (w_im < W)
        h_low = torch.floor(h_im)
        w_low = torch.floor(w_im)
        lh = h_im - h_low
        lw = w_im - w_low
        hh = 1 - lh
        hw = 1 - lw
        hl = h_low.detach().long()
        wl = w_low.detach().long()

        def corner(hi, wi, valid=valid, v=v, H=H, W=W):
            ok = valid & (hi >= 0) & (hi < H) & (wi >= 0) & (wi < W)
            idx = hi.clamp(0, H - 1) * W + wi.clamp(0, W - 1)           # (B, Q, G, K)
            idx = idx.permute(0, 2, 1, 3).reshape(B, G, Q * K, 1).expand(-1, -1, -1, D)
            g = torch.gather(v, 2, idx).reshape(B, G, Q, K, D).permute(0, 2, 1, 3, 4)
            return g * ok.unsqueeze(-1).to(op)

        samp = ((hh * hw).unsqueeze(-1) * corner(hl, wl)
                + (hh * lw).unsqueeze(-1) * corner(hl, wl + 1)
                + (lh * hw).unsqueeze(-1) * corner(hl + 1, wl)
                + (lh * lw).unsqueeze(-1) * corner(hl + 1, wl + 1))   # (B, Q, G, K, D)
        out = out + (attn[:, :, :, li].unsqueeze(-1) * samp).sum(-2)
    return out.reshape(B, Q, G * D).to(value.dtype)


# ---------------------------------------------------------------------------
# scalar transliterations of the two kernels (slow; tiny cross-checks only)
# ---------------------------------------------------------------------------

def _softmax_kernel(logits):
    """cuh:152-171: max, sum of exp(x - max), divide (sequential)."""
    m = -1e100
    for x in logits:
        m = max(m, x)
    e = []
    s = 0.0
    for x in logits:
        r = math.exp(x - m)
        e.append(r)
        s += r
    return [x / s for x in e]


def _bilinear_corners(val, H, W, h_im, w_im):
    """common.h:47-90: floor, fractions, the four corners (None = not read)."""
    h_low = math.floor(h_im)
    w_low = math.floor(w_im)
    h_high, w_high = h_low + 1, w_low + 1
    lh, lw = h_im - h_low, w_im - w_low
    hh, hw = 1 - lh, 1 - lw
    c1 = val[h_low * W + w_low] if (h_low >= 0 and w_low >= 0) else None
    c2 = val[h_low * W + w_high] if (h_low >= 0 and w_high < W) else None
    c3 = val[h_high * W + w_low] if (h_high < H and w_low >= 0) else None
    c4 = val[h_high * W + w_high] if (h_high < H and w_high < W) else None
    idx = (h_low * W + w_low, h_low * W + w_high, h_high * W + w_low, h_high * W + w_high)
    return (lh, lw, hh, hw), (c1, c2, c3, c4), idx


def flash_forward_loop(value, spatial_shapes, level_start_index, sampling_loc_attn, K):
    """Line-by-line transliteration of forward_kernel_reg (float64 numpy)."""
    B, S, G, D = value.shape
    L = spatial_shapes.shape[0]
    Q = sampling_loc_attn.shape[1]
    val = value.double().numpy()
    off = sampling_loc_attn.double().numpy()
    shapes = spatial_shapes.tolist()
    starts = level_start_index.tolist()
    out = np.zeros((B, Q, G, D))
    for bi in range(B):
        for qi in range(Q):
            for gi in range(G):
                p = off[bi, qi, gi]
                mask = _softmax_kernel([p[L * K * 2 + i] for i in range(L * K)])
                acc = np.zeros(D)
                offset_idx = mask_idx = 0
                for li in range(L):
                    H, W = shapes[li]
                    v = val[bi, starts[li]:starts[li] + H * W, gi]        # (HW, D)
                    for _ki in range(K):
                        loc_w, loc_h = p[offset_idx], p[offset_idx + 1]
                        attn = mask[mask_idx]
                        h_im = loc_h * H - 0.5
                        w_im = loc_w * W - 0.5
                        if h_im > -1 and w_im > -1 and h_im < H and w_im < W:
                            (lh, lw, hh, hw), cs, _ = _bilinear_corners(v, H, W, h_im, w_im)
                            z = np.zeros(D)
                            c1, c2, c3, c4 = (c if c is not None else z for c in cs)
                            acc += attn * (hh * hw * c1 + hh * lw * c2
                                           + lh * hw * c3 + lh * lw * c4)
                        offset_idx += 2
                        mask_idx += 1
                out[bi, qi, gi] = acc
    return torch.from_numpy(out.reshape(B, Q, G * D))


def flash_backward_loop(value, spatial_shapes, level_start_index, sampling_loc_attn, K,
                        grad_output):
    """Line-by-line transliteration of backward_kernel(_warp_primitive) +
    ms_deform_attn_col2im_bilinear (float64 numpy). Returns (grad_value,
    grad_sampling_loc_attn). Out-of-range points: g_lk = 0 (see module doc)."""
    B, S, G, D = value.shape
    L = spatial_shapes.shape[0]
    Q = sampling_loc_attn.shape[1]
    val = value.double().numpy()
    off = sampling_loc_attn.double().numpy()
    top = grad_output.double().numpy().reshape(B, Q, G, D)
    shapes = spatial_shapes.tolist()
    starts = level_start_index.tolist()
    g_val = np.zeros((B, S, G, D))
    g_off = np.zeros((B, Q, G, L * K * 3))
    for bi in range(B):
        for qi in range(Q):
            for gi in range(G):
                p = off[bi, qi, gi]
                tg = top[bi, qi, gi]
                mask = _softmax_kernel([p[L * K * 2 + i] for i in range(L * K)])
                g_mask = [0.0] * (L * K)            # cache_g_mask_before_softmax
                offset_idx = mask_idx = 0
                for li in range(L):
                    H, W = shapes[li]
                    v = val[bi, starts[li]:starts[li] + H * W, gi]
                    for ki in range(K):
                        loc_w, loc_h = p[offset_idx], p[offset_idx + 1]
                        attn = mask[mask_idx]
                        h_im = loc_h * H - 0.5
                        w_im = loc_w * W - 0.5
                        if h_im > -1 and w_im > -1 and h_im < H and w_im < W:
                            (lh, lw, hh, hw), cs, idx = _bilinear_corners(v, H, W, h_im, w_im)
                            w1, w2, w3, w4 = hh * hw, hh * lw, lh * hw, lh * lw
                            gh = np.zeros(D)
                            gw = np.zeros(D)
                            z = np.zeros(D)
                            base = starts[li]
                            if cs[0] is not None:
                                gh -= hw * cs[0]
                                gw -= hh * cs[0]
                                g_val[bi, base + idx[0], gi] += tg * attn * w1
                            if cs[1] is not None:
                                gh -= lw * cs[1]
                                gw += hh * cs[1]
                                g_val[bi, base + idx[1], gi] += tg * attn * w2
                            if cs[2] is not None:
                                gh += hw * cs[2]
                                gw -= lh * cs[2]
                                g_val[bi, base + idx[2], gi] += tg * attn * w3
                            if cs[3] is not None:
                                gh += lw * cs[3]
                                gw += lh * cs[3]
                                g_val[bi, base + idx[3], gi] += tg * attn * w4
                            o = li * K * 2 + ki * 2
                            g_off[bi, qi, gi, o] = (gw * tg).sum() * (W * attn)
                            g_off[bi, qi, gi, o + 1] = (gh * tg).sum() * (H * attn)
                            c1, c2, c3, c4 = (c if c is not None else z for c in cs)
                            cur = w1 * c1 + w2 * c2 + w3 * c3 + w4 * c4
                            g_mask[li * K + ki] = (cur * tg).sum()
                        offset_idx += 2
                        mask_idx += 1
                for i in range(L * K):                 # softmax backward, cuh:301-316
                    gi_ = 0.0
                    for j in range(L * K):
                        if i != j:
                            gi_ -= g_mask[j] * mask[i] * mask[j]
                        else:
                            gi_ += g_mask[i] * mask[i] * (1 - mask[i])
                    g_off[bi, qi, gi, L * K * 2 + i] = gi_
    return torch.from_numpy(g_val), torch.from_numpy(g_off)


# ---------------------------------------------------------------------------
# stand-in for the compiled ``DCNv4.ext`` (DCNv4_op/src/vision.cpp)
# ---------------------------------------------------------------------------

def cuda_unsupported_reasons(value, spatial_shapes, K, dtype=None):
    """What the real extension would refuse or mishandle, per the .cu/.cuh."""
    B, S, G, D = value.shape
    L = spatial_shapes.shape[0]
    dtype = dtype or value.dtype
    r = []
    if K not in (4, 8):
        r.append(f'K={K}: only K in (4, 8) is instantiated (flash_deform_im2col_cuda.cuh:424-450)')
    if not 1 <= L <= 5:
        r.append(f'L={L}: only 1..5 levels (flash_deform_im2col_cuda.cuh:234-253)')
    if D % 8:
        r.append(f'D={D}: the forward always uses d_stride=8 (flash_deform_attn_func.py:46) '
                 'and asserts D % d_stride == 0 (flash_deform_im2col_cuda.cuh:223)')
    if dtype == torch.float64:
        r.append('float64: dispatched (AT_DISPATCH_FLOATING_TYPES_AND2, '
                 'flash_deform_attn_cuda.cu:68) but the inner dispatch only handles 2- and '
                 '4-byte types (assert sizeof(scalar_t) == 4, flash_deform_im2col_cuda.cuh:355); '
                 'the golden float64 is the same '
                 'arithmetic carried out in double')
    return r


class FakeExt:
    """``flash_deform_attn_forward/backward`` with the argument lists of
    DCNv4_op/src/dcnv4.h:19-62; the DCNv4 conv entry points are not used here."""

    calls = []

    @staticmethod
    def flash_deform_attn_forward(value, spatial_shapes, level_start_index, sampling_loc_attn,
                                  im2col_step, K, d_stride, block_thread):
        FakeExt.calls.append(('fwd', tuple(value.shape), tuple(sampling_loc_attn.shape), K,
                              d_stride, block_thread))
        # flash_deform_attn_cuda.cu:31-37 (contiguity) and :73-76 (data_ptr<scalar_t> of
        # both value and sampling_loc_attn: the same dtype is required)
        assert value.is_contiguous() and sampling_loc_attn.is_contiguous()
        assert sampling_loc_attn.dtype == value.dtype, (sampling_loc_attn.dtype, value.dtype)
        with torch.no_grad():
            return flash_deform_attn_ref(value, spatial_shapes, level_start_index,
                                         sampling_loc_attn, K)

    @staticmethod
    def flash_deform_attn_backward(value, spatial_shapes, level_start_index, sampling_loc_attn,
                                   grad_output, im2col_step, K, d_stride, block_thread):
        FakeExt.calls.append(('bwd', tuple(value.shape), tuple(sampling_loc_attn.shape), K,
                              d_stride, block_thread))
        assert grad_output.is_contiguous()
        with torch.enable_grad():
            v = value.detach().requires_grad_(True)
            s = sampling_loc_attn.detach().requires_grad_(True)
            out = flash_deform_attn_ref(v, spatial_shapes, level_start_index, s, K)
            gv, gs = torch.autograd.grad(out, (v, s), grad_output)
        return [gv, gs]

    @staticmethod
    def dcnv4_forward(*args, **kwargs):
        raise NotImplementedError('DCNv4 conv is not part of this golden data '
                                  '(see tests/data/dcnv4/)')

    dcnv4_backward = dcnv4_forward
