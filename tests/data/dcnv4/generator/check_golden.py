"""Consumer-side check of dcnv4_golden.pt WITHOUT the original code: the core
cases against dcnv4_ref.dcnv4_core_ref, the module cases against a from-scratch
re-implementation of DCNv4.forward written from NOTES.md section (d).

From the repository root:  python tests/data/dcnv4/generator/check_golden.py
"""
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dcnv4_ref import dcnv4_core_ref  # noqa: E402

torch.set_num_threads(1)


def module_forward(sd, cfg, x, shape):
    """NOTES.md (d), from scratch."""
    C = cfg['channels']
    G = cfg.get('group', 4)
    k = cfg.get('kernel_size', 3)
    N, Lq, _ = x.shape
    H, W = shape if shape is not None else (int(Lq ** 0.5), int(Lq ** 0.5))
    wp = cfg.get('without_pointwise', False)
    v = x if wp else F.linear(x, sd['value_proj.weight'], sd['value_proj.bias'])
    v = v.reshape(N, H, W, -1)
    if cfg.get('dw_kernel_size') is not None:
        d = cfg['dw_kernel_size']
        om_in = F.conv2d(x.view(N, H, W, C).permute(0, 3, 1, 2), sd['offset_mask_dw.weight'],
                         sd['offset_mask_dw.bias'], padding=(d - 1) // 2, groups=C)
        om_in = om_in.permute(0, 2, 3, 1).reshape(N, Lq, C)
    else:
        om_in = x
    om = F.linear(om_in, sd['offset_mask.weight'], sd['offset_mask.bias']).reshape(N, H, W, -1)
    out = dcnv4_core_ref(v, om, k, k, cfg.get('stride', 1), cfg.get('stride', 1),
                         cfg.get('pad', 1), cfg.get('pad', 1), cfg.get('dilation', 1),
                         cfg.get('dilation', 1), G, C // G, cfg.get('offset_scale', 1.0),
                         int(cfg.get('remove_center', False)))
    if cfg.get('center_feature_scale', False):
        s = torch.sigmoid(F.linear(out, sd['center_feature_scale_proj_weight'],
                                   sd['center_feature_scale_proj_bias']))   # from the DCN OUTPUT
        s = s.repeat_interleave(C // G, dim=-1)
        out = out * (1 - s) + v * s
    out = out.reshape(N, Lq, -1)
    if not wp:
        out = F.linear(out, sd['output_proj.weight'], sd.get('output_proj.bias'))
    return out


def main():
    g = torch.load(os.path.join(os.path.dirname(HERE), 'dcnv4_golden.pt'), weights_only=True)
    print(g['meta']['repo'], g['meta']['commit'])
    for c in g['core']:
        x = c['input'].clone().requires_grad_()
        om = c['offset_mask'].clone().requires_grad_()
        k, s, p, d = c['kernel_size'], c['stride'], c['pad'], c['dilation']
        out = dcnv4_core_ref(x, om, k, k, s, s, p, p, d, d, c['group'], c['group_channels'],
                             c['offset_scale'], c['remove_center'], c['softmax'])
        (out * c['grad_output_weight']).sum().backward()
        e = [(out - c['output']).abs().max().item(), (x.grad - c['grad_input']).abs().max().item(),
             (om.grad - c['grad_offset_mask']).abs().max().item()]
        print(f"core {c['name']:32s} out/gx/gom err {e[0]:.1e} {e[1]:.1e} {e[2]:.1e}")
        assert max(e) < 1e-12
    for c in g['module']:
        sd = {k: v.clone().requires_grad_() for k, v in c['state_dict'].items()}
        x = c['input'].clone().requires_grad_()
        out = module_forward(sd, c['config'], x, c['shape'] if c['called_with_shape'] else None)
        (out * c['grad_output_weight']).sum().backward()
        e = max([(out - c['output']).abs().max().item(),
                 (x.grad - c['grad_input']).abs().max().item()]
                + [(sd[k].grad - v).abs().max().item() for k, v in c['grad_params'].items()])
        print(f"module {c['name']:42s} max err {e:.1e}")
        assert e < 1e-12
    print('ok')


if __name__ == '__main__':
    main()
