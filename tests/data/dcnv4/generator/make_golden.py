"""Golden data for DCNv4 / FlashInternImage from the ORIGINAL OpenGVLab/DCNv4
code (commit 4b848f7dd7da74ff03f7d278f902c6fd05b391b5, exported to ./orig by
fetch_originals.sh), run on CPU in float64 with the CUDA extension replaced by
the verified pure-PyTorch core of dcnv4_ref.py (see ../README.md, NOTES.md).

From the repository root:

    bash tests/data/dcnv4/generator/fetch_originals.sh
    OMP_NUM_THREADS=1 python tests/data/dcnv4/generator/make_golden.py

Writes dcnv4_golden.pt, flash_internimage_golden.pt,
flash_internimage_golden_extra.pt into tests/data/dcnv4/ (``--out-dir DIR``
writes elsewhere); all torch.load(weights_only=True)-safe.
"""
from __future__ import annotations

import argparse
import collections
import math
import os
import sys
import tempfile
import warnings

import torch

warnings.filterwarnings('ignore', category=FutureWarning)
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import orig_loader as L  # noqa: E402
from dcnv4_ref import FakeExt, dcnv4_core_loop, dcnv4_core_ref  # noqa: E402

COMMIT = '4b848f7dd7da74ff03f7d278f902c6fd05b391b5'
DT = torch.float64
DCNv4 = L.load_dcnv4()
dcnv4_func = sys.modules['DCNv4.functions.dcnv4_func']
DCNv4Function = DCNv4.DCNv4Function
dcnv3_core_f64 = L.load_dcnv3_core(True)
dcnv3_core_f32grid = L.load_dcnv3_core(False)


def out_hw(H, W, k, s, p, d):
    return (H + 2 * p - (d * (k - 1) + 1)) // s + 1, (W + 2 * p - (d * (k - 1) + 1)) // s + 1


def padded_width(G, K):
    return int(math.ceil(G * K * 3 / 8) * 8)          # modules/dcnv4.py:82


def cuda_support(N, H, W, Ho, Wo, G, D, K, dtype_bytes=4):
    """What the real extension would do with this case (fp32), per the .cu/.cuh."""
    reasons = []
    if K not in (8, 9):
        reasons.append(f'K={K}: only 8 or 9 points are instantiated '
                       '(dcnv4_im2col_cuda.cuh:275-297, col2im :395-439) -> invalid_argument')
    fd, fb = dcnv4_func.findspec(N, H, W, G, D)
    bd, bb = dcnv4_func.find_spec_bwd(N, H, W, G, D)
    if D % fd:
        reasons.append(f'D={D} not a multiple of forward d_stride={fd} (assert, cuh:341)')
    if D % bd:
        reasons.append(f'D={D} not a multiple of backward d_stride={bd}')
    mult_f = fb // (D // fd) // G if D % fd == 0 else None
    if mult_f and (N * Ho * Wo) % mult_f:
        reasons.append(f'B*Ho*Wo={N * Ho * Wo} not a multiple of block_multiplier={mult_f} '
                       '(findspec factors B*H*W of the INPUT; cuh:300-303)')
    if D % 16:
        reasons.append(f'D={D}: the DCNv4 module asserts group_channels % 16 == 0 (dcnv4.py:63)')
    return reasons


# ----------------------------------------------------------------------------
# 1. verify the reference core
# ----------------------------------------------------------------------------

def rand_case(gen, N, H, W, G, D, k, s, p, d, rc, off_std, pad_fill=True):
    Ho, Wo = out_hw(H, W, k, s, p, d)
    K = k * k - int(rc)
    P = padded_width(G, K)
    x = torch.randn(N, H, W, G * D, generator=gen, dtype=DT)
    om = torch.empty(N, Ho, Wo, P, dtype=DT)
    om5 = om[..., :G * K * 3].view(N, Ho, Wo, G, 3 * K)
    om5[..., :2 * K] = torch.randn(N, Ho, Wo, G, 2 * K, generator=gen, dtype=DT) * off_std
    om5[..., 2 * K:] = torch.randn(N, Ho, Wo, G, K, generator=gen, dtype=DT)
    # padding columns: junk (the kernel never reads them) or zeros
    om[..., G * K * 3:] = (torch.randn(N, Ho, Wo, P - G * K * 3, generator=gen, dtype=DT) * 100
                           if pad_fill else 0)
    return x, om


def unpack(om, G, K):
    N, Ho, Wo, _ = om.shape
    t = om[..., :G * K * 3].reshape(N, Ho, Wo, G, 3 * K)
    return (t[..., :2 * K].reshape(N, Ho, Wo, G * 2 * K).contiguous(),
            t[..., 2 * K:].reshape(N, Ho, Wo, G * K).contiguous())


def verify():
    gen = torch.Generator().manual_seed(1234)
    report = []
    cfgs = [  # N, H, W, G, D, k, s, p, d, rc, offset_scale, off_std, softmax
        (1, 5, 6, 2, 3, 3, 1, 1, 1, 0, 1.0, 2.0, False),
        (2, 6, 5, 1, 4, 3, 2, 1, 1, 0, 0.5, 3.0, False),
        (1, 7, 6, 2, 2, 3, 1, 2, 2, 0, 1.0, 2.0, False),
        (1, 6, 7, 3, 2, 3, 1, 1, 1, 1, 2.0, 1.0, False),
        (1, 6, 7, 2, 2, 5, 1, 2, 1, 0, 1.0, 2.0, False),
        (1, 5, 5, 2, 3, 3, 1, 1, 1, 0, 1.0, 2.0, True),
        (1, 9, 7, 1, 3, 3, 2, 0, 2, 0, 2.0, 1.5, False),
    ]
    for (N, H, W, G, D, k, s, p, d, rc, os_, sd, sm) in cfgs:
        x, om = rand_case(gen, N, H, W, G, D, k, s, p, d, rc, sd)
        K = k * k - rc
        ref = dcnv4_core_ref(x, om, k, k, s, s, p, p, d, d, G, D, os_, rc, sm)
        loop = dcnv4_core_loop(x, om, k, k, s, s, p, p, d, d, G, D, os_, rc, sm)
        e_loop = (ref - loop).abs().max().item()
        line = f'cfg N{N} {H}x{W} G{G} D{D} k{k} s{s} p{p} d{d} rc{rc} os{os_} sm{sm}: ' \
               f'|ref-loop|={e_loop:.1e}'
        assert e_loop < 1e-12, line
        # pad columns really ignored
        om2 = om.clone()
        om2[..., G * K * 3:] = 0
        assert torch.equal(dcnv4_core_ref(x, om2, k, k, s, s, p, p, d, d, G, D, os_, rc, sm), ref)
        if not sm:
            off, msk = unpack(om, G, K)
            v3 = dcnv3_core_f64(x, off, msk, k, k, s, s, p, p, d, d, G, D, os_, rc)
            e3 = (ref - v3).abs().max().item()
            v3f = dcnv3_core_f32grid(x, off, msk, k, k, s, s, p, p, d, d, G, D, os_, rc)
            e3f = (ref - v3f).abs().max().item()
            line += f' |ref-dcnv3(f64 grid)|={e3:.1e} |ref-dcnv3(f32 grid, as shipped)|={e3f:.1e}'
            assert e3 < 1e-12, line
            # gradients: autograd of ref vs autograd of the grid_sample core
            xr, omr = x.clone().requires_grad_(), om.clone().requires_grad_()
            R = torch.randn(ref.shape, generator=gen, dtype=DT)
            (dcnv4_core_ref(xr, omr, k, k, s, s, p, p, d, d, G, D, os_, rc) * R).sum().backward()
            x3 = x.clone().requires_grad_()
            off3, msk3 = off.clone().requires_grad_(), msk.clone().requires_grad_()
            out3 = dcnv3_core_f64(x3, off3, msk3, k, k, s, s, p, p, d, d, G, D, os_, rc)
            (out3 * R).sum().backward()
            g_off, g_msk = unpack(omr.grad, G, K)
            eg = max((xr.grad - x3.grad).abs().max().item(),
                     (g_off - off3.grad).abs().max().item(),
                     (g_msk - msk3.grad).abs().max().item())
            assert omr.grad[..., G * K * 3:].abs().sum() == 0
            line += f' |grad ref-dcnv3|={eg:.1e}'
            assert eg < 1e-10, line
        report.append(line)
    # gradcheck of the reference (finite differences; random offsets avoid kinks)
    x, om = rand_case(gen, 1, 4, 5, 2, 2, 3, 1, 1, 1, 0, 1.3, pad_fill=False)
    ok = torch.autograd.gradcheck(
        lambda a, b: dcnv4_core_ref(a, b, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 0.5, 0),
        (x.requires_grad_(), om.requires_grad_()), eps=1e-6, atol=1e-7)
    report.append(f'gradcheck(dcnv4_core_ref) float64: {ok}')
    # the original autograd.Function through the fake ext
    x, om = rand_case(gen, 2, 6, 7, 2, 16, 3, 1, 1, 1, 0, 2.0)
    xr, omr = x.clone().requires_grad_(), om.clone().requires_grad_()
    out = DCNv4Function.apply(xr, omr, 3, 3, 1, 1, 1, 1, 1, 1, 2, 16, 1.0, 256, 0)
    R = torch.randn(out.shape, generator=gen, dtype=DT)
    (out * R).sum().backward()
    xa, oma = x.clone().requires_grad_(), om.clone().requires_grad_()
    (dcnv4_core_ref(xa, oma, 3, 3, 1, 1, 1, 1, 1, 1, 2, 16, 1.0, 0) * R).sum().backward()
    assert torch.equal(xr.grad, xa.grad) and torch.equal(omr.grad, oma.grad)
    report.append('original DCNv4Function.apply (fake ext) == dcnv4_core_ref, grads equal')
    return report


# ----------------------------------------------------------------------------
# 2. core golden cases
# ----------------------------------------------------------------------------

CORE_CASES = [
    # name, N, H, W, G, D, k, s, p, d, remove_center, offset_scale, off_std, softmax, note
    ('k3_g2_d5_7x9', 1, 7, 9, 2, 5, 3, 1, 1, 1, 0, 1.0, 2.5, False,
     'group channels 5 (not a multiple of 16), odd 7x9, junk in padding columns'),
    ('k3_g3_d8_b3_s2_os05', 3, 7, 9, 3, 8, 3, 2, 1, 1, 0, 0.5, 3.0, False,
     'batch 3, stride 2, offset_scale 0.5'),
    ('k3_g1_d8_dil2_9x7', 1, 9, 7, 1, 8, 3, 1, 2, 2, 0, 1.0, 3.0, False,
     'dilation 2 pad 2, big offsets'),
    ('k5_g2_d5_7x9', 1, 7, 9, 2, 5, 5, 1, 2, 1, 0, 1.0, 2.5, False,
     'kernel 5 (K=25: NOT instantiated by the CUDA kernel; semantics extended)'),
    ('k3_rc_g4_d4_6x7_os05', 2, 6, 7, 4, 4, 3, 1, 1, 1, 1, 0.5, 2.0, False,
     'remove_center (K=8, G*K*3=96: no padding columns)'),
    ('k3_s2_d2_p0_os2_9x11', 1, 9, 11, 2, 8, 3, 2, 0, 2, 0, 2.0, 1.5, False,
     'stride 2 + dilation 2 + pad 0, offset_scale 2.0'),
    ('k3_g2_d16_6x6_zero_offsets', 2, 6, 6, 2, 16, 3, 1, 1, 1, 0, 1.0, 0.0, False,
     'all offsets exactly 0: sampling at integer positions (kinks); grad_offset follows the '
     "kernel's floor() convention: d/dx uses v(x+1)-v(x) (one-sided)"),
    ('k3_g2_d16_5x7_os1', 2, 5, 7, 2, 16, 3, 1, 1, 1, 0, 1.0, 2.0, False,
     'the FlashInternImage configuration (k3 s1 p1 d1, D=16): CUDA-supported'),
    ('k3_g2_d5_softmax_6x5', 1, 6, 5, 2, 5, 3, 1, 1, 1, 0, 1.0, 2.0, True,
     'softmax=True (kernel supports it; DCNv4Function always passes False)'),
]


def make_core_cases():
    gen = torch.Generator().manual_seed(2024)
    cases = []
    for (name, N, H, W, G, D, k, s, p, d, rc, os_, sd, sm, note) in CORE_CASES:
        x, om = rand_case(gen, N, H, W, G, D, k, s, p, d, rc, sd)
        K = k * k - rc
        Ho, Wo = out_hw(H, W, k, s, p, d)
        xr, omr = x.clone().requires_grad_(), om.clone().requires_grad_()
        if sm:
            out = dcnv4_core_ref(xr, omr, k, k, s, s, p, p, d, d, G, D, os_, rc, True)
        else:  # the original python path: DCNv4Function -> (fake) ext.dcnv4_forward/backward
            out = DCNv4Function.apply(xr, omr, k, k, s, s, p, p, d, d, G, D, os_, 256, rc)
        R = torch.randn(out.shape, generator=gen, dtype=DT)
        (out * R).sum().backward()
        # out-of-image fraction (for the record)
        om5 = om[..., :G * K * 3].reshape(N, Ho, Wo, G, 3 * K)
        cases.append(dict(
            name=name, note=note, input=x, offset_mask=om, kernel_size=k, stride=s, pad=p,
            dilation=d, group=G, group_channels=D, offset_scale=os_, remove_center=rc,
            softmax=sm, K=K, out_hw=[Ho, Wo], used_width=G * K * 3,
            output=out.detach(), grad_output_weight=R, grad_input=xr.grad,
            grad_offset_mask=omr.grad,
            cuda_unsupported_reasons=cuda_support(N, H, W, Ho, Wo, G, D, K),
            max_abs_offset=float(om5[..., :2 * K].abs().max())))
    return cases


# ----------------------------------------------------------------------------
# 3. module golden cases (original DCNv4 nn.Module)
# ----------------------------------------------------------------------------

MODULE_CASES = [
    ('default_c32_g2', dict(channels=32, group=2), 2, (5, 7), True),
    ('dw3_os05_c48_g3', dict(channels=48, group=3, dw_kernel_size=3, offset_scale=0.5), 1, (6, 5),
     True),
    ('center_feature_scale_c32_g2', dict(channels=32, group=2, center_feature_scale=True), 1,
     (5, 6), True),
    ('no_output_bias_remove_center_c32_g2', dict(channels=32, group=2, output_bias=False,
                                                 remove_center=True), 2, (4, 7), True),
    ('without_pointwise_c32_g2_square_noshape', dict(channels=32, group=2, without_pointwise=True,
                                                     offset_scale=2.0), 1, (6, 6), False),
    ('flash_l_like_c32_g2_dw3_os2', dict(channels=32, group=2, offset_scale=2.0, dw_kernel_size=3,
                                         output_bias=True), 1, (7, 5), True),
]


def randomize_module(m, gen, off_w_std=0.3):
    with torch.no_grad():
        for name, prm in m.named_parameters():
            if name.startswith('offset_mask.') and name.endswith('weight'):
                prm.copy_(torch.randn(prm.shape, generator=gen, dtype=prm.dtype) * off_w_std)
            elif name.endswith('bias'):
                prm.copy_(torch.randn(prm.shape, generator=gen, dtype=prm.dtype) * 0.3)
            elif name == 'center_feature_scale_proj_weight':
                prm.copy_(torch.randn(prm.shape, generator=gen, dtype=prm.dtype) * 0.3)
            # value_proj / output_proj (xavier) and offset_mask_dw (conv default) keep their init


def make_module_cases():
    gen = torch.Generator().manual_seed(7)
    cases = []
    for name, cfg, N, (H, W), with_shape in MODULE_CASES:
        torch.manual_seed(11)
        m = DCNv4.DCNv4(**cfg).to(DT)
        randomize_module(m, gen)
        C = cfg['channels']
        x = torch.randn(N, H * W, C, generator=gen, dtype=DT).requires_grad_()
        captured = {}

        def hook(mod, i, o, captured=captured, shape=(N, H, W, -1)):
            captured['offset_mask'] = o.detach().reshape(shape)

        h1 = m.offset_mask.register_forward_hook(hook)
        out = m(x, (H, W)) if with_shape else m(x)
        h1.remove()
        R = torch.randn(out.shape, generator=gen, dtype=DT)
        m.zero_grad()
        (out * R).sum().backward()
        with torch.no_grad():
            value = (m.value_proj(x) if not m.without_pointwise else x).reshape(N, H, W, C)
        K = m.kernel_size ** 2 - m.remove_center
        cases.append(dict(
            name=name, config=dict(cfg), input=x.detach(), shape=[H, W],
            called_with_shape=with_shape, state_dict=collections.OrderedDict(
                (k, v.detach().clone()) for k, v in m.state_dict().items()),
            output=out.detach(), grad_output_weight=R, grad_input=x.grad,
            grad_params={k: p.grad.clone() for k, p in m.named_parameters()},
            core_value=value, core_offset_mask=captured['offset_mask'],
            K=K, used_width=m.group * K * 3,
            note='core_value/core_offset_mask: what the module passes to DCNv4Function '
                 '(value_proj(input) and offset_mask(input or dw(input)), as (N,H,W,.))'))
    return cases


# ----------------------------------------------------------------------------
# 4. FlashInternImage golden
# ----------------------------------------------------------------------------

class _Cfg(dict):
    __getattr__ = dict.__getitem__


def randomize_backbone(model, gen):
    """Every parameter/buffer random, then rounded to float16-exact values
    (the state dicts are stored as float16 to keep files small; the golden
    outputs are computed in float64 from exactly those values)."""
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point():
                continue
            leaf = name.rsplit('.', 1)[-1]
            if '.dcn.offset_mask.' in name and leaf == 'weight':
                v = torch.randn(t.shape, generator=gen) * 0.1
            elif '.dcn.offset_mask.' in name and leaf == 'bias':
                v = torch.randn(t.shape, generator=gen) * 0.5
            elif leaf in ('gamma1', 'gamma2'):
                v = 1.0 + 0.2 * torch.randn(t.shape, generator=gen)
            elif leaf == 'running_var':
                v = 0.5 + torch.rand(t.shape, generator=gen)
            elif leaf == 'running_mean':
                v = 0.1 * torch.randn(t.shape, generator=gen)
            elif t.dim() == 1 and leaf == 'weight':          # LN / BN scale
                v = 1.0 + 0.1 * torch.randn(t.shape, generator=gen)
            elif leaf == 'bias':
                v = 0.1 * torch.randn(t.shape, generator=gen)
            else:                                           # Linear / Conv weights
                fan_in = t[0].numel()
                v = torch.randn(t.shape, generator=gen) / math.sqrt(fan_in)
            t.copy_(v.half().to(t.dtype))


BACKBONES = [
    # name, file, class ('seg'|'cls'), kwargs, released-format
    ('T_like_seg', 'main', 'seg', dict(
        core_op='DCNv4', channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], mlp_ratio=4.,
        drop_path_rate=0.0, norm_layer='LN', layer_scale=1.0, offset_scale=1.0,
        post_norm=False, with_cp=False, out_indices=(0, 1, 2, 3)),
     'as upernet_flash_internimage_t_512_160k_ade20k.py (layer_scale=1.0, pre-norm, no dw conv, '
     'offset_scale 1.0, no dcn/mlp-fc2 biases), tiny widths'),
    ('B_like_seg', 'main', 'seg', dict(
        core_op='DCNv4', channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], mlp_ratio=4.,
        drop_path_rate=0.0, norm_layer='LN', layer_scale=1.0, offset_scale=0.5,
        post_norm=True, with_cp=False, dw_kernel_size=3, out_indices=(0, 1, 2, 3)),
     'as upernet_flash_internimage_b_512_160k_ade20k.py (S identical but offset_scale 1.0): '
     'post_norm, dw_kernel_size 3, layer_scale 1.0, offset_scale 0.5; tiny widths'),
    ('T_like_cls', 'extra', 'cls', dict(
        core_op='DCNv4', num_classes=10, channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8],
        layer_scale=None, offset_scale=1.0, post_norm=False, mlp_ratio=4., with_cp=False,
        drop_path_rate=0.0, mlp_fc2_bias=False, dcn_output_bias=False, res_post_norm=False,
        dw_kernel_size=None, use_clip_projector=False, level2_post_norm=False,
        level2_post_norm_block_ids=None, center_feature_scale=False),
     'classification class as flash_intern_image_t_1k_224.yaml (layer_scale None: no gammas), '
     'with conv_head/head (num_classes 10); released format {"model": sd}'),
    ('L_like_seg', 'extra', 'seg', dict(
        core_op='DCNv4', channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], mlp_ratio=4.,
        drop_path_rate=0.0, norm_layer='LN', layer_scale=1.0, offset_scale=2.0,
        post_norm=True, with_cp=False, dcn_output_bias=True, mlp_fc2_bias=True,
        dw_kernel_size=3, out_indices=(0, 1, 2, 3)),
     'as upernet_flash_internimage_l_640_160k_ade20k.py: dcn_output_bias, mlp_fc2_bias, '
     'offset_scale 2.0, post_norm, dw 3'),
]


def make_backbones():
    seg = L.load_flash_seg()
    cls = L.load_flash_cls()
    gen = torch.Generator().manual_seed(99)
    img = torch.randn(1, 3, 64, 80, generator=gen, dtype=DT)
    files = {'main': {}, 'extra': {}}
    for name, which, kind, kw, note in BACKBONES:
        torch.manual_seed(5)
        M = (seg if kind == 'seg' else cls).FlashInternImage
        model = M(**kw)
        randomize_backbone(model, gen)
        model = model.to(DT).eval()
        FakeExt.calls.clear()
        with torch.no_grad():
            if kind == 'seg':
                outs = model(img)
                logits = None
            else:
                outs = model.forward_features_seq_out(img)
                logits = model(img)
        assert FakeExt.calls and all(c[0] == 'fwd' for c in FakeExt.calls)
        sd = collections.OrderedDict(
            (k, v.detach().clone().half() if v.is_floating_point() else v.detach().clone())
            for k, v in model.state_dict().items())
        if kind == 'seg':
            released = {'state_dict': collections.OrderedDict(('backbone.' + k, v)
                                                               for k, v in sd.items())}
            fmt = "mmseg checkpoint: {'state_dict': {'backbone.<key>': ...}} (+meta/optimizer " \
                  "and decode_head.*/auxiliary_head.* keys in the real files, omitted here)"
        else:
            released = {'model': sd}
            fmt = "classification checkpoint: {'model': sd} (training checkpoints also hold " \
                  "optimizer/lr_scheduler/epoch/config and maybe model_ema, utils.py:291-310)"
        # round trip through the ORIGINAL loader (seg: init_weights with init_cfg)
        if kind == 'seg':
            with tempfile.TemporaryDirectory() as td:
                path = os.path.join(td, 'ckpt.pth')
                torch.save(released, path)
                torch.manual_seed(123)
                m2 = M(**kw, init_cfg=_Cfg(type='Pretrained', checkpoint=path))
                m2.init_weights()
            m2 = m2.to(DT).eval()
            with torch.no_grad():
                outs2 = m2(img)
            assert all(torch.equal(a, b) for a, b in zip(outs, outs2)), name
        entry = dict(
            name=name, note=note, source_class=('segmentation/mmseg_custom/models/backbones/'
                                                'flash_intern_image.py' if kind == 'seg' else
                                                'classification/models/flash_intern_image.py'),
            constructor_kwargs={k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
            released_format=fmt, checkpoint=released, state_dict_dtype='float16 (values exact; '
            'cast to float64 to reproduce)',
            input=img, outputs=[o.contiguous() for o in outs],
            output_shapes=[list(o.shape) for o in outs],
            dcnv4_calls=[list(c[1]) + list(c[2]) for c in FakeExt.calls])
        if logits is not None:
            entry['logits'] = logits
        files[which][name] = entry
        print(f'{name}: outs {[tuple(o.shape) for o in outs]}, {len(sd)} keys, '
              f'{sum(v.numel() for v in sd.values())} numbers')
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out-dir', default=DATA)
    out_dir = ap.parse_args().out_dir
    rep = verify()
    print('\n'.join(rep))
    meta = dict(repo='https://github.com/OpenGVLab/DCNv4', commit=COMMIT, dtype='float64',
                torch=str(torch.__version__),
                generator='make_golden.py + dcnv4_ref.py + orig_loader.py',
                verification='\n'.join(rep))
    core = make_core_cases()
    mods = make_module_cases()
    torch.save(dict(meta=meta, core=core, module=mods), os.path.join(out_dir, 'dcnv4_golden.pt'))
    files = make_backbones()
    torch.save(dict(meta=meta, models=files['main']),
               os.path.join(out_dir, 'flash_internimage_golden.pt'))
    torch.save(dict(meta=meta, models=files['extra']),
               os.path.join(out_dir, 'flash_internimage_golden_extra.pt'))
    for f in ('dcnv4_golden.pt', 'flash_internimage_golden.pt',
              'flash_internimage_golden_extra.pt'):
        p = os.path.join(out_dir, f)
        d = torch.load(p, weights_only=True)
        print(f, os.path.getsize(p), 'bytes; weights_only load ok:', list(d))


if __name__ == '__main__':
    main()
