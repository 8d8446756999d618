"""Consumer-side check of ms_deform_attn_golden.pt WITHOUT the original code.

Reloads the file with ``weights_only=True`` and recomputes, from scratch (a
gather-based bilinear sampler written here: pixel coordinate ``loc * size -
0.5``, zero outside the map, i.e. grid_sample's bilinear / zeros /
align_corners=False convention; gradients by autograd):

* every ``core`` case: output and the three gradients, to 1e-12;
* every ``module`` (mmcv), ``deformable_detr`` and ``flash_deform_attn`` case:
  the module forward written from the README, output and all gradients;
* ``module_init``: the float32 sampling-offset grid, the zero parameters.

From the repository root:  python tests/data/ms_deform_attn/generator/check_golden.py
"""
from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(os.path.dirname(HERE), 'ms_deform_attn_golden.pt')
TOL = 1e-12
torch.set_num_threads(1)


def bilinear_core(value, shapes, loc, aw):
    """value (bs, S, nh, hd), loc (bs, nq, nh, L, P, 2) in [0, 1] (x, y),
    aw (bs, nq, nh, L, P) -> (bs, nq, nh * hd)."""
    bs, _, nh, hd = value.shape
    nq, P = loc.shape[1], loc.shape[4]
    out = value.new_zeros(bs, nq, nh, hd)
    start = 0
    for lv, (H, W) in enumerate(shapes.tolist()):
        v = value[:, start:start + H * W].permute(0, 2, 1, 3)            # (bs, nh, HW, hd)
        start += H * W
        x = loc[:, :, :, lv, :, 0] * W - 0.5                             # (bs, nq, nh, P)
        y = loc[:, :, :, lv, :, 1] * H - 0.5
        x0, y0 = torch.floor(x), torch.floor(y)
        fx, fy = x - x0, y - y0
        acc = 0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                xi, yi = x0.long() + dx, y0.long() + dy
                ok = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
                idx = yi.clamp(0, H - 1) * W + xi.clamp(0, W - 1)
                idx = idx.permute(0, 2, 1, 3).reshape(bs, nh, nq * P, 1).expand(-1, -1, -1, hd)
                g = torch.gather(v, 2, idx).reshape(bs, nh, nq, P, hd).permute(0, 2, 1, 3, 4)
                acc = acc + (wx * wy * ok).unsqueeze(-1) * g
        out = out + (aw[:, :, :, lv].unsqueeze(-1) * acc).sum(-2)
    return out.reshape(bs, nq, nh * hd)


def locations(ref, off, shapes, P):
    """ref (bs, nq, L, 2|4), off (bs, nq, nh, L, P, 2) in pixels of each level."""
    if ref.shape[-1] == 2:
        wh = torch.stack([shapes[:, 1], shapes[:, 0]], -1).to(off.dtype)
        return ref[:, :, None, :, None, :] + off / wh[None, None, None, :, None, :]
    return ref[:, :, None, :, None, :2] + off / P * ref[:, :, None, :, None, 2:] * 0.5


def attn_forward(sd, query, flat, ref, shapes, mask, nh, L, P, float16_locations=False):
    """Shared body of the three modules, batch-first, without residual."""
    bs, nq, _ = query.shape
    v = F.linear(flat, sd['value_proj.weight'], sd['value_proj.bias'])
    if mask is not None:
        v = v.masked_fill(mask[..., None], 0.0)
    v = v.view(bs, flat.shape[1], nh, -1)
    off = F.linear(query, sd['sampling_offsets.weight'], sd['sampling_offsets.bias'])
    off = off.view(bs, nq, nh, L, P, 2)
    logits = F.linear(query, sd['attention_weights.weight'], sd['attention_weights.bias'])
    aw = logits.view(bs, nq, nh, L * P).softmax(-1).view(bs, nq, nh, L, P)
    loc = locations(ref, off, shapes, P)
    if float16_locations:  # FlashDeformAttn: rounded to float16 (gradient too), back to float64
        loc = loc.half().to(query.dtype)
    out = bilinear_core(v, shapes, loc, aw)
    return F.linear(out, sd['output_proj.weight'], sd['output_proj.bias'])


def check(name, out, ref_out, got_grads, want_grads, tol):
    errs = [(out - ref_out).abs().max().item()]
    for k, want in want_grads.items():
        errs.append((got_grads[k] - want).abs().max().item())
    err = max(errs)
    print(f'{name:58s} max err {err:.1e}')
    assert err < tol, (name, err)
    return err


def main():
    g = torch.load(PATH, weights_only=True)
    print('meta:', g['meta']['sources']['mmcv']['commit'][:10], g['meta']['dtype'])
    worst = {}
    for c in g['core']:
        t = {k: c[k].clone().requires_grad_() for k in
             ('value', 'sampling_locations', 'attention_weights')}
        out = bilinear_core(t['value'], c['spatial_shapes'], t['sampling_locations'],
                            t['attention_weights'])
        (out * c['grad_output_weight']).sum().backward()
        worst['core'] = max(worst.get('core', 0), check(
            'core ' + c['name'], out, c['output'], {k: v.grad for k, v in t.items()},
            {k: c['grad_' + k] for k in t}, TOL))

    for c in g['module']:
        cfg = c['config']
        nh, L, P = cfg['num_heads'], cfg['num_levels'], cfg['num_points']
        sd = {k: v.clone().requires_grad_() for k, v in c['state_dict'].items()}
        t = {k: c[k].clone().requires_grad_() for k in
             ('query', 'value', 'identity', 'query_pos', 'reference_points') if c[k] is not None}
        query = t['query']
        value = t.get('value', query)               # value defaults to the query before query_pos
        identity = t.get('identity', query)         # so does the residual
        q = query + t['query_pos'] if 'query_pos' in t else query
        if not c['batch_first']:
            q, value = q.transpose(0, 1), value.transpose(0, 1)
        out = attn_forward(sd, q, value, t['reference_points'], c['spatial_shapes'],
                           c['key_padding_mask'], nh, L, P)
        if not c['batch_first']:
            out = out.transpose(0, 1)
        out = out + identity                        # dropout(0) then the residual
        (out * c['grad_output_weight']).sum().backward()
        got = {k: v.grad for k, v in t.items()}
        got.update({'p.' + k: v.grad for k, v in sd.items()})
        want = {k: c['grad_' + k] for k in t}
        want.update({'p.' + k: v for k, v in c['grad_params'].items()})
        worst['module'] = max(worst.get('module', 0), check('module ' + c['name'], out,
                                                            c['output'], got, want, 1e-11))

    for key, f16 in (('deformable_detr', False), ('flash_deform_attn', True)):
        for c in g[key]:
            cfg = c['config']
            sd = {k: v.clone().requires_grad_() for k, v in c['state_dict'].items()}
            t = {k: c[k].clone().requires_grad_() for k in
                 ('query', 'input_flatten', 'reference_points')}
            out = attn_forward(sd, t['query'], t['input_flatten'], t['reference_points'],
                               c['input_spatial_shapes'], c['input_padding_mask'],
                               cfg['n_heads'], cfg['n_levels'], cfg['n_points'], f16)
            (out * c['grad_output_weight']).sum().backward()
            got = {k: v.grad for k, v in t.items()}
            got.update({'p.' + k: v.grad for k, v in sd.items()})
            want = {k: c['grad_' + k] for k in t}
            want.update({'p.' + k: v for k, v in c['grad_params'].items()})
            worst[key] = max(worst.get(key, 0), check(f'{key} {c["name"]}', out, c['output'],
                                                      got, want, 1e-11))

    mi = g['module_init']
    H, L, P = (mi['config'][k] for k in ('num_heads', 'num_levels', 'num_points'))
    th = torch.arange(H, dtype=torch.float32) * (2.0 * math.pi / H)
    grid = torch.stack([th.cos(), th.sin()], -1)
    grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(H, 1, 1, 2).repeat(1, L, P, 1)
    grid = grid * torch.arange(1, P + 1, dtype=torch.float32).view(1, 1, P, 1)
    sd = mi['state_dict']
    assert torch.equal(sd['sampling_offsets.bias'], grid.flatten())
    for k in ('sampling_offsets.weight', 'attention_weights.weight', 'attention_weights.bias',
              'value_proj.bias', 'output_proj.bias'):
        assert not sd[k].any(), k
    for k, a in mi['xavier_bound'].items():
        assert sd[k + '.weight'].abs().max() <= a
    print('module_init: float32 grid bit-identical, zeros, xavier bounds ok')
    print('worst:', {k: f'{v:.1e}' for k, v in worst.items()})
    print('ok')


if __name__ == '__main__':
    main()
