"""Golden data for multi-scale deformable attention from the ORIGINAL code.

Runs, on the CPU in float64 with fixed seeds, the original implementations
exported by ``fetch_originals.sh`` into ``orig/`` (see ../README.md):
mmcv 2.1.0 ``multi_scale_deformable_attn_pytorch`` and
``MultiScaleDeformableAttention``; Deformable-DETR ``ms_deform_attn_core_pytorch``
and ``MSDeformAttn`` (CUDA function routed to the pure-PyTorch core);
Mask2Former's ``MSDeformAttn`` (its own CPU fallback, cross-check only);
DCNv4 ``FlashDeformAttn`` with its CUDA extension replaced by the pure-PyTorch
re-computation of ``flash_ref.py``, verified against a scalar transliteration
of the kernels.

From the repository root:

    bash tests/data/ms_deform_attn/generator/fetch_originals.sh
    OMP_NUM_THREADS=1 python tests/data/ms_deform_attn/generator/make_golden.py

Writes tests/data/ms_deform_attn/ms_deform_attn_golden.pt
(``torch.load(path, weights_only=True)``); ``--out PATH`` writes elsewhere.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import math
import os
import sys
import warnings

import numpy as np
import torch

warnings.filterwarnings('ignore', message='.*CUDA is not available.*')
warnings.filterwarnings('ignore', category=FutureWarning)
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import orig_loader as L  # noqa: E402
from flash_ref import (FakeExt, cuda_unsupported_reasons, flash_backward_loop,  # noqa: E402
                       flash_deform_attn_ref, flash_forward_loop)

DT = torch.float64
SOURCES = {
    'mmcv': dict(repo='https://github.com/open-mmlab/mmcv',
                 commit='57c4e25e06e2d4f8a9357c84bcd24089a284dc88',
                 ref='v2.1.0', files=['mmcv/ops/multi_scale_deform_attn.py']),
    'deformable_detr': dict(repo='https://github.com/fundamentalvision/Deformable-DETR',
                            commit='11169a60c33333af00a4849f1808023eba96a931',
                            files=['models/ops/functions/ms_deform_attn_func.py',
                                   'models/ops/modules/ms_deform_attn.py']),
    'mask2former': dict(repo='https://github.com/facebookresearch/Mask2Former',
                        commit='9b0651c6c1d5b3af2e6da0589b719c514ec0d69a',
                        files=['mask2former/modeling/pixel_decoder/ops/functions/'
                               'ms_deform_attn_func.py',
                               'mask2former/modeling/pixel_decoder/ops/modules/ms_deform_attn.py']),
    'dcnv4': dict(repo='https://github.com/OpenGVLab/DCNv4',
                  commit='4b848f7dd7da74ff03f7d278f902c6fd05b391b5',
                  files=['DCNv4_op/DCNv4/modules/flash_deform_attn.py',
                         'DCNv4_op/DCNv4/functions/flash_deform_attn_func.py',
                         'DCNv4_op/src/cuda/flash_deform_im2col_cuda.cuh',
                         'DCNv4_op/src/cuda/flash_deform_col2im_cuda.cuh',
                         'DCNv4_op/src/cuda/common.h',
                         'DCNv4_op/src/cuda/flash_deform_attn_cuda.cu']),
}

MM = L.load_mmcv()
DD_FUNC, DD_MOD, DD_MSDA = L.load_deformable_detr()
M2F_FUNC, M2F_MOD = L.load_mask2former()
DCNV4 = L.load_dcnv4()
FLASH_FUNC = sys.modules['DCNv4.functions.flash_deform_attn_func']


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def level_start_index(shapes):
    return torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])


def is_pow2(n):
    return n > 0 and n & (n - 1) == 0


def maxdiff(a, b):
    return float((a - b).detach().abs().max()) if a.numel() else 0.0


def make_locations(gen, bs, nq, nh, shapes, P, lo=-0.2, hi=1.2):
    """(bs, nq, nh, L, P, 2) normalised (x, y): uniform in [lo, hi] plus, per
    level, points exactly on pixel centres (only along axes whose size is a
    power of two, where (i + 0.5) / size, the grid 2 * loc - 1 and
    loc * size - 0.5 are all exact, so every implementation sees the same
    integer coordinate), exactly on the map border (0.0 or 1.0) and far
    outside (no contribution)."""
    Lv = len(shapes)
    loc = lo + (hi - lo) * torch.rand(bs, nq, nh, Lv, P, 2, generator=gen, dtype=DT)
    n = bs * nq * nh * P
    counts = dict(centre_coords=0, border_coords=0, far_outside=0)

    def rint(k):
        return int(torch.randint(k, (1,), generator=gen))

    for li, (H, W) in enumerate(shapes.tolist()):
        idx = torch.randperm(n, generator=gen).tolist()
        k_c, k_b, k_f = max(1, n // 6), max(1, n // 10), max(1, n // 20)
        for t, i in enumerate(idx[:k_c + k_b + k_f]):
            b, q, h, p = np.unravel_index(i, (bs, nq, nh, P))
            if t < k_c:
                for ax, size in ((0, W), (1, H)):
                    if is_pow2(size):
                        loc[b, q, h, li, p, ax] = (rint(size) + 0.5) / size
                        counts['centre_coords'] += 1
            elif t < k_c + k_b:
                loc[b, q, h, li, p, rint(2)] = float(rint(2))
                counts['border_coords'] += 1
            else:
                loc[b, q, h, li, p, rint(2)] = (-0.6, 1.7)[rint(2)]
                counts['far_outside'] += 1
    return loc, counts


def location_stats(loc, shapes):
    """Fractions for the record: outside [0, 1]; no contribution at all
    (the CUDA kernels' range test h > -1, w > -1, h < H, w < W fails)."""
    wh = torch.stack([shapes[:, 1], shapes[:, 0]], -1).to(DT)          # (L, 2) = (W, H)
    pix = loc * wh[:, None, :] - 0.5                                    # (..., L, P, 2)
    outside = ((loc < 0) | (loc > 1)).any(-1)
    dead = ((pix <= -1) | (pix >= wh[:, None, :])).any(-1)
    on_minus1 = (pix == -1).any()
    assert not on_minus1, 'a sample exactly at pixel coordinate -1 (conventions differ there)'
    return dict(n_points=int(outside.numel()), n_outside_unit_square=int(outside.sum()),
                n_no_contribution=int(dead.sum()))


def grads_of(out, R, tensors):
    return torch.autograd.grad((out * R).sum(), tensors, allow_unused=True)


def sd_copy(m):
    return collections.OrderedDict((k, v.detach().clone()) for k, v in m.state_dict().items())


# ---------------------------------------------------------------------------
# 1. verification of the flash kernel re-computation and of the cores
# ---------------------------------------------------------------------------

def rand_flash_inputs(gen, B, Q, G, D, K, shape_list, lo=-0.2, hi=1.2, centres=True):
    shapes = torch.tensor(shape_list, dtype=torch.int64)
    lsi = level_start_index(shapes)
    S = int(shapes.prod(1).sum())
    Lv = len(shape_list)
    v = torch.randn(B, S, G, D, generator=gen, dtype=DT)
    loc, _ = (make_locations(gen, B, Q, G, shapes, K, lo, hi) if centres else
              (lo + (hi - lo) * torch.rand(B, Q, G, Lv, K, 2, generator=gen, dtype=DT), None))
    logits = torch.randn(B, Q, G, Lv * K, generator=gen, dtype=DT) * 2
    sla = torch.cat([loc.reshape(B, Q, G, Lv * K * 2), logits], -1).contiguous()
    return v, shapes, lsi, sla, loc, logits


def verify():
    gen = torch.Generator().manual_seed(31337)
    rep = []
    worst = collections.defaultdict(float)
    cfgs = [  # B, Q, G, D, K, shapes
        (2, 3, 2, 3, 4, [(5, 7), (3, 4), (2, 1)]),
        (1, 5, 1, 8, 8, [(4, 6)]),
        (1, 2, 3, 2, 4, [(8, 12), (4, 6), (2, 3), (1, 2)]),
        (2, 2, 2, 4, 8, [(3, 5), (2, 2), (1, 1), (2, 3), (1, 4)]),
        (1, 4, 2, 5, 4, [(6, 6), (3, 3)]),
    ]
    for (B, Q, G, D, K, shp) in cfgs:
        v, shapes, lsi, sla, loc, logits = rand_flash_inputs(gen, B, Q, G, D, K, shp)
        ref = flash_deform_attn_ref(v, shapes, lsi, sla, K)
        loop = flash_forward_loop(v, shapes, lsi, sla, K)
        R = torch.randn(ref.shape, generator=gen, dtype=DT)
        vr, sr = v.clone().requires_grad_(), sla.clone().requires_grad_()
        gv, gs = grads_of(flash_deform_attn_ref(vr, shapes, lsi, sr, K), R, (vr, sr))
        lgv, lgs = flash_backward_loop(v, shapes, lsi, sla, K, R)
        e = [maxdiff(ref, loop), maxdiff(gv, lgv), maxdiff(gs, lgs)]
        # against the grid_sample core (mmcv) fed softmax(logits): output and gradients
        Lv = len(shp)
        lr = loc.clone().requires_grad_()
        lgr = logits.clone().requires_grad_()
        vm = v.clone().requires_grad_()
        aw = torch.softmax(lgr, -1).view(B, Q, G, Lv, K)
        mo = MM.multi_scale_deformable_attn_pytorch(vm, shapes, lr, aw)
        mgv, mgl, mglg = grads_of(mo, R, (vm, lr, lgr))
        gs_loc = gs[..., :Lv * K * 2].reshape(B, Q, G, Lv, K, 2)
        gs_lg = gs[..., Lv * K * 2:]
        e_mm = [maxdiff(ref, mo), maxdiff(gv, mgv), maxdiff(gs_loc, mgl), maxdiff(gs_lg, mglg)]
        line = (f'flash B{B} Q{Q} G{G} D{D} K{K} L{Lv} {shp}: |vectorised - scalar loop| '
                f'out {e[0]:.1e} grad_value {e[1]:.1e} grad_sampling_loc_attn {e[2]:.1e}; '
                f'|vectorised - mmcv grid_sample core on softmax(logits)| out {e_mm[0]:.1e} '
                f'grads {max(e_mm[1:]):.1e}')
        assert max(e) < 1e-12 and max(e_mm) < 1e-12, line
        worst['flash_vs_loop'] = max(worst['flash_vs_loop'], *e)
        worst['flash_vs_mmcv_core'] = max(worst['flash_vs_mmcv_core'], *e_mm)
        rep.append(line)

    # gradcheck (finite differences) of the re-computation, away from kinks
    v, shapes, lsi, sla, _, _ = rand_flash_inputs(gen, 1, 2, 2, 2, 4, [(3, 4), (2, 3)],
                                                  lo=0.05, hi=0.95, centres=False)
    ok = torch.autograd.gradcheck(lambda a, b: flash_deform_attn_ref(a, shapes, lsi, b, 4),
                                  (v.requires_grad_(), sla.requires_grad_()), eps=1e-6, atol=1e-7)
    rep.append(f'gradcheck(flash_deform_attn_ref) float64: {ok}')

    # the original FlashDeformAttnFunction through the fake ext == the re-computation
    v, shapes, lsi, sla, _, _ = rand_flash_inputs(gen, 2, 5, 2, 8, 8, [(5, 7), (3, 4), (2, 1)])
    vr, sr = v.clone().requires_grad_(), sla.clone().requires_grad_()
    out = DCNV4.FlashDeformAttnFunction.apply(vr, shapes, lsi, sr, 64, 8)
    R = torch.randn(out.shape, generator=gen, dtype=DT)
    g1 = grads_of(out, R, (vr, sr))
    va, sa = v.clone().requires_grad_(), sla.clone().requires_grad_()
    out2 = flash_deform_attn_ref(va, shapes, lsi, sa, 8)
    g2 = grads_of(out2, R, (va, sa))
    assert torch.equal(out, out2) and all(torch.equal(a, b) for a, b in zip(g1, g2))
    rep.append('original FlashDeformAttnFunction.apply (fake ext) == flash_deform_attn_ref: '
               'output and both gradients bit-identical')

    # the two grid_sample cores (mmcv, Deformable-DETR) and the original
    # MSDeformAttnFunction routed to the latter
    v, shapes, lsi, _, loc, logits = rand_flash_inputs(gen, 2, 7, 2, 5, 4, [(5, 7), (3, 4), (2, 1)])
    aw = torch.randn(2, 7, 2, 3, 4, generator=gen, dtype=DT)
    R = torch.randn(2, 7, 10, generator=gen, dtype=DT)
    res = []
    for f in (MM.multi_scale_deformable_attn_pytorch, DD_FUNC.ms_deform_attn_core_pytorch,
              lambda a, s, b, c: DD_FUNC.MSDeformAttnFunction.apply(a, s, lsi, b, c, 64)):
        t = [x.clone().requires_grad_() for x in (v, loc, aw)]
        o = f(t[0], shapes, t[1], t[2])
        res.append([o.detach()] + list(grads_of(o, R, t)))
    e1 = max(maxdiff(a, b) for a, b in zip(res[0], res[1]))
    e2 = max(maxdiff(a, b) for a, b in zip(res[1], res[2]))
    assert e1 == 0 and e2 == 0
    assert DD_MSDA.calls[-2:] == ['fwd', 'bwd']
    rep.append('mmcv multi_scale_deformable_attn_pytorch vs Deformable-DETR '
               f'ms_deform_attn_core_pytorch: max diff {e1:.1e} (output and 3 gradients); '
               f'Deformable-DETR MSDeformAttnFunction.apply (routed) vs its core: {e2:.1e}')

    # the installed mmcv-lite file is the exported v2.1.0 file
    try:
        import mmcv
        inst = os.path.join(os.path.dirname(mmcv.__file__), 'ops', 'multi_scale_deform_attn.py')
        h = [hashlib.sha256(open(p, 'rb').read()).hexdigest()
             for p in (inst, MM.__file__)]
        rep.append(f'installed mmcv {mmcv.__version__} multi_scale_deform_attn.py identical to the '
                   f'v2.1.0 export: {h[0] == h[1]} (sha256 {h[1][:16]}...)')
    except ImportError:
        pass
    return rep, dict(worst)


# ---------------------------------------------------------------------------
# 2. core cases
# ---------------------------------------------------------------------------

CORE_CASES = [
    # name, bs, nq, nh, hd, P, shapes, softmax, note
    ('odd_levels_bs2_h2_d5_p4', 2, 7, 2, 5, 4, [(5, 7), (3, 4), (2, 1)], False,
     'odd, unequal levels incl. a 2x1 map; 7 queries; raw (unnormalised) weights'),
    ('single_level_h1_d1_p1', 1, 5, 1, 1, 1, [(6, 5)], False,
     'one level, one head, one channel, one point'),
    ('ddetr_l4_h8_d4_p4_softmax', 2, 6, 8, 4, 4, [(6, 8), (3, 4), (2, 3), (1, 2)], True,
     'L=4 like Deformable DETR, 8 heads, attention weights softmaxed over L*P'),
    ('two_levels_h8_d8_p1', 1, 3, 8, 8, 1, [(3, 5), (2, 2)], False,
     'P=1, 8 heads of 8 channels'),
    ('mask2former_like_l3_h8_d6_p4', 1, 13, 8, 6, 4, [(8, 8), (4, 4), (2, 2)], False,
     'L=3 power-of-two levels (every centre point exact on both axes), 13 queries'),
    ('wide_spread_h2_d7_p4', 2, 6, 2, 7, 4, [(5, 3), (1, 1), (3, 6)], False,
     'locations in [-0.6, 1.6]: many outside, a 1x1 level'),
]


def make_core_cases():
    gen = torch.Generator().manual_seed(2025)
    cases, worst = [], 0.0
    for name, bs, nq, nh, hd, P, shp, sm, note in CORE_CASES:
        shapes = torch.tensor(shp, dtype=torch.int64)
        lsi = level_start_index(shapes)
        S = int(shapes.prod(1).sum())
        Lv = len(shp)
        lo, hi = (-0.6, 1.6) if name.startswith('wide') else (-0.2, 1.2)
        value = torch.randn(bs, S, nh, hd, generator=gen, dtype=DT)
        loc, counts = make_locations(gen, bs, nq, nh, shapes, P, lo, hi)
        aw = torch.randn(bs, nq, nh, Lv, P, generator=gen, dtype=DT)
        if sm:
            aw = torch.softmax(aw.view(bs, nq, nh, Lv * P), -1).view(bs, nq, nh, Lv, P)
        R = torch.randn(bs, nq, nh * hd, generator=gen, dtype=DT)
        res = {}
        for key, f in (('mmcv', MM.multi_scale_deformable_attn_pytorch),
                       ('ddetr', DD_FUNC.ms_deform_attn_core_pytorch)):
            t = [x.clone().requires_grad_() for x in (value, loc, aw)]
            o = f(t[0], shapes, t[1], t[2])
            res[key] = [o.detach()] + list(grads_of(o, R, t))
        d = max(maxdiff(a, b) for a, b in zip(res['mmcv'], res['ddetr']))
        worst = max(worst, d)
        out, gv, gl, ga = res['mmcv']
        assert out.shape == (bs, nq, nh * hd)
        cases.append(dict(
            name=name, note=note, value=value, spatial_shapes=shapes, level_start_index=lsi,
            sampling_locations=loc, attention_weights=aw, attention_weights_softmaxed=sm,
            output=out, grad_output_weight=R, grad_value=gv, grad_sampling_locations=gl,
            grad_attention_weights=ga, max_diff_mmcv_vs_deformable_detr=d,
            location_stats=dict(location_stats(loc, shapes), **counts)))
    return cases, worst


# ---------------------------------------------------------------------------
# 3. modules: shared randomisation (the three originals use the same names)
# ---------------------------------------------------------------------------

def randomize(m, gen, E):
    """sampling_offsets: weight N(0, 0.1^2), bias = 0.5 * the init grid + N(0, 0.3^2)
    (offsets of a few pixels); attention_weights: weight N(0, 0.3^2), bias
    N(0, 0.5^2); value_proj / output_proj keep their xavier weights, biases
    N(0, 0.1^2)."""
    with torch.no_grad():
        so, aw = m.sampling_offsets, m.attention_weights
        so.weight.copy_(torch.randn(so.weight.shape, generator=gen, dtype=DT) * 0.1)
        so.bias.mul_(0.5).add_(torch.randn(so.bias.shape, generator=gen, dtype=DT) * 0.3)
        aw.weight.copy_(torch.randn(aw.weight.shape, generator=gen, dtype=DT) * 0.3)
        aw.bias.copy_(torch.randn(aw.bias.shape, generator=gen, dtype=DT) * 0.5)
        for lin in (m.value_proj, m.output_proj):
            lin.bias.copy_(torch.randn(lin.bias.shape, generator=gen, dtype=DT) * 0.1)


def ref_points(gen, bs, nq, Lv, kind):
    if kind == 2:
        return torch.rand(bs, nq, Lv, 2, generator=gen, dtype=DT)
    xy = 0.05 + 0.9 * torch.rand(bs, nq, 1, 2, generator=gen, dtype=DT)
    wh = 0.2 + 0.8 * torch.rand(bs, nq, 1, 2, generator=gen, dtype=DT)
    # the same box on every level (as a DETR decoder passes it), plus a little noise per level
    jitter = 0.02 * torch.randn(bs, nq, Lv, 4, generator=gen, dtype=DT)
    return torch.cat([xy, wh], -1).expand(bs, nq, Lv, 4) + jitter


def padding_mask(bs, shapes, pad_cols, kind):
    """(bs, num_keys) bool, True = padding. kind 'right': batch element 1
    padded on the right (the last `pad_cols` columns of every level, as an
    image padded on the right); 'random': scattered keys."""
    rows = []
    for b in range(bs):
        parts = []
        for H, W in shapes.tolist():
            m = torch.zeros(H, W, dtype=torch.bool)
            if kind == 'right' and b % 2 == 1 and W > 1:
                m[:, W - min(pad_cols, W - 1):] = True
            parts.append(m.flatten())
        rows.append(torch.cat(parts))
    mask = torch.stack(rows)
    if kind == 'random':
        g = torch.Generator().manual_seed(5)
        mask = torch.rand(mask.shape, generator=g) < 0.25
    return mask


class _Capture:
    """Records the arguments the mmcv module hands to its core function
    (wraps the module-level name it calls; the computation is unchanged)."""

    def __init__(self):
        self.args = None
        self.fn = MM.multi_scale_deformable_attn_pytorch

    def __call__(self, value, shapes, loc, aw):
        self.args = (value.detach().clone(), loc.detach().clone(), aw.detach().clone())
        return self.fn(value, shapes, loc, aw)


MODULE_CASES = [
    # name, ctor kwargs, bs, nq (None = num_keys: value defaults to the query), shapes,
    # ref kind, flags
    ('bf_true_self_ref2d_pos_mask_e16_h2_l3_p4',
     dict(embed_dims=16, num_heads=2, num_levels=3, num_points=4, batch_first=True, dropout=0.0),
     2, None, [(5, 7), (3, 4), (2, 1)], 2, dict(value=False, query_pos=True, mask='right')),
    ('bf_false_value_ref4d_identity_ratio05_e32_h4_l4_p4',
     dict(embed_dims=32, num_heads=4, num_levels=4, num_points=4, batch_first=False, dropout=0.0,
          value_proj_ratio=0.5),
     2, 6, [(4, 6), (2, 3), (2, 2), (1, 1)], 4, dict(value=True, identity=True, query_pos=True)),
    ('bf_false_self_ref2d_mask_e16_h4_l2_p2',
     dict(embed_dims=16, num_heads=4, num_levels=2, num_points=2, batch_first=False, dropout=0.0),
     2, None, [(4, 5), (2, 3)], 2, dict(value=False, mask='random')),
    ('bf_true_value_ref4d_l1_p1_h1_e8',
     dict(embed_dims=8, num_heads=1, num_levels=1, num_points=1, batch_first=True, dropout=0.0),
     1, 5, [(6, 5)], 4, dict(value=True)),
    ('bf_true_value_ref2d_mask_ratio05_e16_h2_l2_p3',
     dict(embed_dims=16, num_heads=2, num_levels=2, num_points=3, batch_first=True, dropout=0.0,
          value_proj_ratio=0.5),
     2, 7, [(3, 5), (2, 2)], 2, dict(value=True, mask='right', query_pos=True)),
    ('mask2former_like_bf_true_self_e16_h8_l3_p4',
     dict(embed_dims=16, num_heads=8, num_levels=3, num_points=4, batch_first=True, dropout=0.0),
     2, None, [(4, 4), (2, 2), (1, 1)], 2, dict(value=False, query_pos=True, mask='right',
                                                ref='centres')),
]


def layout(gen, bs, n, E, batch_first):
    """An N(0, 1) (bs, n, E) tensor in the module's layout."""
    t = torch.randn(bs, n, E, generator=gen, dtype=DT)
    return t if batch_first else t.transpose(0, 1).contiguous()


def run_with_grads(mod, call, inputs, R):
    """call(mod, *inputs) on fresh leaves; output and the gradients of
    (output * R).sum() w.r.t. the inputs and every parameter."""
    leaves = [t.clone().requires_grad_() for t in inputs]
    o = call(mod, *leaves)
    ps = dict(mod.named_parameters())
    g = grads_of(o, R, leaves + list(ps.values()))
    return o.detach(), g[:len(leaves)], dict(zip(ps, g[len(leaves):]))


def centre_ref_points(bs, shapes, Lv):
    """Mask2Former/mmdet encoder reference points: every pixel centre of
    every level, normalised by its own level size, repeated over levels."""
    pts = []
    for H, W in shapes.tolist():
        y, x = torch.meshgrid(torch.linspace(0.5, H - 0.5, H, dtype=DT),
                              torch.linspace(0.5, W - 0.5, W, dtype=DT), indexing='ij')
        pts.append(torch.stack([x.reshape(-1) / W, y.reshape(-1) / H], -1))
    ref = torch.cat(pts, 0)
    return ref[None, :, None, :].expand(bs, -1, Lv, 2).clone()


def make_mmcv_module_cases():
    gen = torch.Generator().manual_seed(77)
    cases = []
    for name, kw, bs, nq, shp, rk, fl in MODULE_CASES:
        shapes = torch.tensor(shp, dtype=torch.int64)
        lsi = level_start_index(shapes)
        S = int(shapes.prod(1).sum())
        Lv = len(shp)
        E = kw['embed_dims']
        torch.manual_seed(3)
        m = MM.MultiScaleDeformableAttention(**kw).to(DT)
        randomize(m, gen, E)
        bf = kw['batch_first']
        nq_ = S if nq is None else nq

        query = layout(gen, bs, nq_, E, bf)
        value = layout(gen, bs, S, E, bf) if fl.get('value') else None
        identity = layout(gen, bs, nq_, E, bf) if fl.get('identity') else None
        query_pos = layout(gen, bs, nq_, E, bf) if fl.get('query_pos') else None
        mask = padding_mask(bs, shapes, 2, fl['mask']) if fl.get('mask') else None
        if fl.get('ref') == 'centres':
            ref = centre_ref_points(bs, shapes, Lv)
        else:
            ref = ref_points(gen, bs, nq_, Lv, rk)
        ins = dict(query=query, value=value, identity=identity, query_pos=query_pos,
                   reference_points=ref)
        req = {k: v.clone().requires_grad_() for k, v in ins.items() if v is not None}
        cap = _Capture()
        MM.multi_scale_deformable_attn_pytorch = cap
        try:
            out = m(req['query'], value=req.get('value'), identity=req.get('identity'),
                    query_pos=req.get('query_pos'), key_padding_mask=mask,
                    reference_points=req['reference_points'], spatial_shapes=shapes,
                    level_start_index=lsi)
        finally:
            MM.multi_scale_deformable_attn_pytorch = cap.fn
        R = torch.randn(out.shape, generator=gen, dtype=DT)
        names = list(req)
        params = dict(m.named_parameters())
        g = grads_of(out, R, [req[k] for k in names] + list(params.values()))
        grads = dict(zip(names, g[:len(names)]))
        core_value, core_loc, core_aw = cap.args
        cases.append(dict(
            name=name, config=dict(kw), batch_first=bf, state_dict=sd_copy(m),
            query=query, value=value, identity=identity, query_pos=query_pos,
            key_padding_mask=mask, reference_points=ref, spatial_shapes=shapes,
            level_start_index=lsi, output=out.detach(), grad_output_weight=R,
            grad_query=grads['query'], grad_value=grads.get('value'),
            grad_identity=grads.get('identity'), grad_query_pos=grads.get('query_pos'),
            grad_reference_points=grads['reference_points'],
            grad_params={k: gp for k, gp in zip(params, g[len(names):])},
            core_value=core_value, core_sampling_locations=core_loc,
            core_attention_weights=core_aw,
            location_stats=location_stats(core_loc, shapes)))
    return cases


def make_module_init():
    """Default init (init_weights) of mmcv's module, float32 as mmcv makes it."""
    kw = dict(embed_dims=16, num_heads=8, num_levels=3, num_points=4, batch_first=True)
    torch.manual_seed(0)
    m = MM.MultiScaleDeformableAttention(**kw)
    grids = {}
    for H in (1, 2, 3, 4, 6, 8):
        mh = MM.MultiScaleDeformableAttention(embed_dims=8 * H, num_heads=H, num_levels=2,
                                              num_points=3)
        b = mh.sampling_offsets.bias.detach().clone()
        assert b.dtype == torch.float32
        # the same grid in Deformable-DETR's and DCNv4's _reset_parameters
        for other in (DD_MOD.MSDeformAttn(8 * H, 2, H, 3), DCNV4.FlashDeformAttn(8 * H, 2, H, 3)):
            assert torch.equal(other.sampling_offsets.bias.detach(), b)
        grids[f'heads{H}_levels2_points3'] = b.view(H, 2, 3, 2)
    E = kw['embed_dims']
    return dict(
        config=kw, torch_manual_seed=0, state_dict=sd_copy(m), dtype='float32',
        sampling_offsets_bias_grids=grids,
        xavier_bound=dict(value_proj=math.sqrt(6 / (E + E)), output_proj=math.sqrt(6 / (E + E))),
        note='sampling_offsets.weight, attention_weights.* and the projection biases are 0; '
             'value_proj/output_proj weights xavier-uniform U(-a, a), a = sqrt(6/(fan_in+fan_out)) '
             '(their values depend on the RNG stream: torch.manual_seed(0) then construction); '
             'sampling_offsets.bias viewed as (heads, levels, points, 2) (x, y): computed in '
             'float32 '
             '(thetas = arange(H, float32) * (2 pi / H), (cos, sin) / max(|cos|, |sin|), times '
             'point index + 1), so e.g. -4.37e-08 where 0 is meant and 0.99999964 where 1 is meant')


# ---------------------------------------------------------------------------
# 4. Deformable-DETR MSDeformAttn (+ Mask2Former and mmcv cross-checks)
# ---------------------------------------------------------------------------

DDETR_CASES = [
    # name, (d_model, n_levels, n_heads, n_points), bs, nq, shapes, ref kind, mask
    ('encoder_like_ref2d_mask_d16_l3_h2_p4', (16, 3, 2, 4), 2, 9, [(5, 7), (3, 4), (2, 1)], 2,
     'right'),
    ('decoder_like_ref4d_d16_l4_h8_p4', (16, 4, 8, 4), 2, 5, [(6, 8), (3, 4), (2, 3), (1, 2)], 4,
     None),
    ('ref2d_d12_l1_h3_p1', (12, 1, 3, 1), 1, 4, [(6, 5)], 2, None),
    ('ref4d_mask_d16_l2_h4_p2', (16, 2, 4, 2), 2, 3, [(4, 5), (2, 3)], 4, 'random'),
]


def make_ddetr_cases():
    gen = torch.Generator().manual_seed(99)
    cases, worst_m2f, worst_mmcv = [], 0.0, 0.0
    for name, (E, Lv, nh, P), bs, nq, shp, rk, mk in DDETR_CASES:
        shapes = torch.tensor(shp, dtype=torch.int64)
        lsi = level_start_index(shapes)
        S = int(shapes.prod(1).sum())
        torch.manual_seed(3)
        m = DD_MOD.MSDeformAttn(E, Lv, nh, P).to(DT)
        randomize(m, gen, E)
        query = torch.randn(bs, nq, E, generator=gen, dtype=DT)
        flat = torch.randn(bs, S, E, generator=gen, dtype=DT)
        ref = ref_points(gen, bs, nq, Lv, rk)
        mask = padding_mask(bs, shapes, 2, mk) if mk else None
        R = torch.randn(bs, nq, E, generator=gen, dtype=DT)

        ins = (query, flat, ref)

        def ddetr_call(mod, q, f, r, shapes=shapes, lsi=lsi, mask=mask):
            return mod(q, r, f, shapes, lsi, mask)

        def mmcv_call(mod, q, f, r, shapes=shapes, lsi=lsi, mask=mask):
            # batch_first, the residual made 0, dropout 0
            return mod(q, value=f, identity=torch.zeros_like(q), key_padding_mask=mask,
                       reference_points=r, spatial_shapes=shapes, level_start_index=lsi)

        n0 = len(DD_MSDA.calls)
        out, (gq, gf, gr), gp = run_with_grads(m, ddetr_call, ins, R)
        assert DD_MSDA.calls[n0:] == ['fwd', 'bwd'], DD_MSDA.calls[n0:]
        sd = sd_copy(m)
        # Mask2Former's copy, same state dict, its CPU fallback
        m2 = M2F_MOD.MSDeformAttn(E, Lv, nh, P).to(DT)
        m2.load_state_dict(sd)
        o2, g2, gp2 = run_with_grads(m2, ddetr_call, ins, R)
        d2 = max([maxdiff(out, o2)] + [maxdiff(a, b) for a, b in zip((gq, gf, gr), g2)]
                 + [maxdiff(gp[k], gp2[k]) for k in gp])
        # mmcv's module: same names, batch_first, identity 0 (the residual), no dropout
        m3 = MM.MultiScaleDeformableAttention(E, nh, Lv, P, dropout=0.0, batch_first=True).to(DT)
        m3.load_state_dict(sd)
        o3, g3, gp3 = run_with_grads(m3, mmcv_call, ins, R)
        d3 = max([maxdiff(out, o3)] + [maxdiff(a, b) for a, b in zip((gq, gf, gr), g3)]
                 + [maxdiff(gp[k], gp3[k]) for k in gp])
        worst_m2f, worst_mmcv = max(worst_m2f, d2), max(worst_mmcv, d3)
        cases.append(dict(
            name=name, config=dict(d_model=E, n_levels=Lv, n_heads=nh, n_points=P),
            state_dict=sd, query=query, reference_points=ref, input_flatten=flat,
            input_spatial_shapes=shapes, input_level_start_index=lsi, input_padding_mask=mask,
            output=out, grad_output_weight=R, grad_query=gq, grad_input_flatten=gf,
            grad_reference_points=gr, grad_params=gp,
            max_diff_mask2former=d2, max_diff_mmcv_module=d3))
    return cases, worst_m2f, worst_mmcv


# ---------------------------------------------------------------------------
# 5. DCNv4 FlashDeformAttn
# ---------------------------------------------------------------------------

FLASH_CASES = [
    # name, (d_model, n_levels, n_heads, n_points), bs, nq, shapes, ref kind, mask
    ('ref2d_mask_d16_l3_h2_p4', (16, 3, 2, 4), 2, 6, [(5, 7), (3, 4), (2, 1)], 2, 'right'),
    ('ref4d_d16_l2_h2_p8', (16, 2, 2, 8), 2, 3, [(6, 8), (3, 4)], 4, None),
    ('ref2d_d8_l1_h1_p4', (8, 1, 1, 4), 1, 7, [(6, 5)], 2, None),
    ('ref2d_mask_d32_l3_h4_p4', (32, 3, 4, 4), 1, 6, [(4, 4), (2, 2), (1, 1)], 2, 'random'),
]


class _FlashCapture:
    def __init__(self):
        self.fn = FLASH_FUNC.ext.flash_deform_attn_forward
        self.args = None

    def __call__(self, value, shapes, lsi, sla, im2col_step, K, d_stride, block_thread):
        out = self.fn(value, shapes, lsi, sla, im2col_step, K, d_stride, block_thread)
        self.args = dict(value=value.detach().clone(), sampling_loc_attn=sla.detach().clone(),
                         output=out.detach().clone(), im2col_step=im2col_step, K=K,
                         d_stride=d_stride, block_thread=block_thread)
        return out


def fp16_exact(t):
    return bool(torch.equal(t, t.half().to(t.dtype)))


def make_flash_cases():
    gen = torch.Generator().manual_seed(4242)
    cases, checks = [], []
    for name, (E, Lv, nh, P), bs, nq, shp, rk, mk in FLASH_CASES:
        shapes = torch.tensor(shp, dtype=torch.int64)
        lsi = level_start_index(shapes)
        S = int(shapes.prod(1).sum())
        torch.manual_seed(3)
        m = DCNV4.FlashDeformAttn(E, Lv, nh, P).to(DT)
        randomize(m, gen, E)
        query = torch.randn(bs, nq, E, generator=gen, dtype=DT)
        flat = torch.randn(bs, S, E, generator=gen, dtype=DT)
        ref = ref_points(gen, bs, nq, Lv, rk)
        mask = padding_mask(bs, shapes, 2, mk) if mk else None
        R = torch.randn(bs, nq, E, generator=gen, dtype=DT)
        q, f, r = (t.clone().requires_grad_() for t in (query, flat, ref))
        cap = _FlashCapture()
        FLASH_FUNC.ext.flash_deform_attn_forward = cap
        n0 = len(FakeExt.calls)
        try:
            out = m(q, r, f, shapes, lsi, mask)
        finally:
            FLASH_FUNC.ext.flash_deform_attn_forward = cap.fn
        params = dict(m.named_parameters())
        g = grads_of(out, R, [q, f, r] + list(params.values()))
        assert [c[0] for c in FakeExt.calls[n0:]] == ['fwd', 'bwd']
        sla = cap.args['sampling_loc_attn']
        locs = sla[..., :Lv * P * 2]
        assert sla.dtype == DT and fp16_exact(locs) and not fp16_exact(sla[..., Lv * P * 2:])
        # the gradient reaching sampling_offsets / reference_points went through the float16
        # cast's backward: the location gradient is float16-rounded
        # semantics check, independent of flash_ref: mmcv's grid_sample core fed the
        # float16-rounded locations and softmax(logits) gives the kernel output
        with torch.no_grad():
            v_ = cap.args['value']
            aw = torch.softmax(sla[..., Lv * P * 2:], -1).view(bs, nq, nh, Lv, P)
            mo = MM.multi_scale_deformable_attn_pytorch(
                v_, shapes, locs.reshape(bs, nq, nh, Lv, P, 2), aw)
            e_sem = maxdiff(mo, cap.args['output'])
            # for scale only (NOT the original): the same without the float16 rounding
            so = m.sampling_offsets(query).view(bs, nq, nh, Lv, P, 2)
            if rk == 2:
                wh = torch.stack([shapes[:, 1], shapes[:, 0]], -1)
                loc64 = ref[:, :, None, :, None, :] + so / wh[None, None, None, :, None, :]
            else:
                loc64 = ref[:, :, None, :, None, :2] + so / P * ref[:, :, None, :, None, 2:] * 0.5
            o64 = m.output_proj(MM.multi_scale_deformable_attn_pytorch(v_, shapes, loc64, aw))
            e_half = maxdiff(o64, out.detach())
            e_loc = maxdiff(loc64.flatten(-3), locs)
        assert e_sem < 1e-12, e_sem
        checks.append(f'flash {name}: |kernel output - mmcv core(float16-rounded locations, '
                      f'softmax(logits))| {e_sem:.1e}; float16 cast moves locations by up to '
                      f'{e_loc:.1e} and the module output by up to {e_half:.1e}')
        value = cap.args['value']
        cases.append(dict(
            name=name, config=dict(d_model=E, n_levels=Lv, n_heads=nh, n_points=P),
            state_dict=sd_copy(m), query=query, reference_points=ref, input_flatten=flat,
            input_spatial_shapes=shapes, input_level_start_index=lsi, input_padding_mask=mask,
            output=out.detach(), grad_output_weight=R, grad_query=g[0], grad_input_flatten=g[1],
            grad_reference_points=g[2], grad_params=dict(zip(params, g[3:])),
            kernel_value=value, kernel_sampling_loc_attn=sla, kernel_output=cap.args['output'],
            kernel_K=cap.args['K'], kernel_d_stride=cap.args['d_stride'],
            kernel_block_thread=cap.args['block_thread'],
            output_without_float16_cast=o64, max_abs_float16_location_error=e_loc,
            max_diff_kernel_vs_mmcv_core_on_rounded_locations=e_sem,
            cuda_unsupported_reasons=cuda_unsupported_reasons(value, shapes, P)))
    return cases, checks


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(DATA, 'ms_deform_attn_golden.pt'))
    args = ap.parse_args()
    rep, worst = verify()
    core, w_core = make_core_cases()
    rep.append(f'core cases: max |mmcv - Deformable-DETR| over outputs and gradients {w_core:.1e}')
    module = make_mmcv_module_cases()
    module_init = make_module_init()
    rep.append('default init: sampling_offsets.bias grids of mmcv, Deformable-DETR and DCNv4 '
               'FlashDeformAttn bit-identical (heads 1, 2, 3, 4, 6, 8)')
    ddetr, w_m2f, w_mmcv = make_ddetr_cases()
    rep.append(f'Deformable-DETR MSDeformAttn vs Mask2Former MSDeformAttn (same state dict): max '
               f'diff {w_m2f:.1e}; vs mmcv MultiScaleDeformableAttention(batch_first=True, '
               f'identity=0): {w_mmcv:.1e} (outputs, input and parameter gradients)')
    flash, fchecks = make_flash_cases()
    rep += fchecks
    print('\n'.join(rep))
    meta = dict(
        format_version=1, dtype='float64', torch=str(torch.__version__), sources=SOURCES,
        generator='tests/data/ms_deform_attn/generator/make_golden.py '
                  '(+ orig_loader.py, flash_ref.py)',
        verification=rep, worst=worst, grad_loss='(output * grad_output_weight).sum()')
    golden = dict(meta=meta, core=core, module=module, module_init=module_init,
                  deformable_detr=ddetr, flash_deform_attn=flash)
    torch.save(golden, args.out)
    back = torch.load(args.out, weights_only=True)
    print(args.out, os.path.getsize(args.out), 'bytes; weights_only load ok:', list(back))


if __name__ == '__main__':
    main()
