"""Multi-scale deformable attention: segkit's core vs mmcv's pure-PyTorch path.

    python benchmarks/deformable_attention.py [--device cpu|cuda] [--repeats 3] [--scale 1.0]

At Mask2Former's pixel-decoder shapes (a 512x512 input: levels at 1/8, 1/16
and 1/32, 64x64 + 32x32 + 16x16 = 5376 keys, every key a query as in the
encoder's self-attention; 8 heads of 32 channels, 4 points; batch 2),
side by side in one run:

1. the core: mmcv 2.1.0's ``multi_scale_deformable_attn_pytorch`` (what mmcv
   runs without its compiled ops: one ``grid_sample`` per level, the stacked
   samples kept for backward) against segkit's implementations ('cpu': the
   C++ kernel; 'reference': segkit's ``grid_sample`` formulation;
   'gather'; 'triton' on a GPU); forward and forward+backward median time
   and the peak memory of forward+backward above the inputs. Targets on the
   CPU: forward+backward at least 2x mmcv's with at most half its extra peak
   memory; on a GPU the Triton path against the pure-PyTorch one.
2. the first eager call of each deformable operator in a fresh process:
   its time, the modules it imports (sympy among them or not) and the
   resident memory it adds.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

import torch

from segkit.ops import multi_scale_deformable_attn
from segkit.utils.profiling import call_peak, peak_memory_in_subprocess, time_call

LEVELS = [(64, 64), (32, 32), (16, 16)]  # 512x512 at strides 8, 16, 32
HEADS, HEAD_DIMS, POINTS = 8, 32, 4


def make_inputs(scale: float, batch: int, device: torch.device) -> tuple:
    torch.manual_seed(0)
    shapes = torch.tensor([[max(2, int(h * scale)), max(2, int(w * scale))] for h, w in LEVELS])
    keys = int((shapes[:, 0] * shapes[:, 1]).sum())
    value = torch.randn(batch, keys, HEADS, HEAD_DIMS, device=device, requires_grad=True)
    # reference points on the pixel centres, offsets of a few pixels, as trained
    loc = (torch.rand(batch, keys, HEADS, len(LEVELS), POINTS, 2, device=device) * 1.1 - 0.05)
    weights = torch.softmax(torch.randn(batch, keys, HEADS, len(LEVELS) * POINTS,
                                        device=device), -1)
    weights = weights.view(batch, keys, HEADS, len(LEVELS), POINTS)
    return value, shapes.to(device), loc.requires_grad_(), weights.requires_grad_()


def implementation(name: str):  # noqa: ANN201 - (value, shapes, loc, weights) -> out
    if name == 'mmcv':
        import segkit.compat  # noqa: F401  (mmcv-lite imports with segkit's mmcv._ext)
        from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch

        return lambda v, s, loc, w: multi_scale_deformable_attn_pytorch(v, s, loc, w)
    return lambda v, s, loc, w: multi_scale_deformable_attn(v, s, None, loc, w, impl=name)


def runners(name: str, inputs: tuple) -> tuple:
    value, shapes, loc, weights = inputs
    fn = implementation(name)

    def forward() -> None:
        with torch.no_grad():
            fn(value, shapes, loc, weights)

    def train_step() -> None:
        fn(value, shapes, loc, weights).sum().backward()
        value.grad = loc.grad = weights.grad = None

    return forward, train_step


def peak_of(name: str, inputs: tuple, device: torch.device) -> int:
    """Peak bytes of one forward+backward, after a warm-up."""
    return call_peak(runners(name, inputs)[1], device)


FIRST_CALL = '''
import resource, sys, time, torch
from segkit.ops import DCNv3, DCNv4, MultiScaleDeformableAttention
layer, x = {layer}
before, rss = set(sys.modules), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
layer(*x).sum().backward()
new = set(sys.modules) - before
print(json.dumps(dict(seconds=time.perf_counter() - start, modules=len(new),
                      sympy=any(m.split('.')[0] == 'sympy' for m in new),
                      mb=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024)))
'''
LAYERS = {
    'DCNv3': '(DCNv3(64, group=4), (torch.randn(1, 32, 32, 64, requires_grad=True),))',
    'DCNv4': '(DCNv4(64, group=4), (torch.randn(1, 32, 32, 64, requires_grad=True),))',
    'MultiScaleDeformableAttention': (
        '(lambda m: (lambda q: m(q, reference_points=torch.rand(1, 80, 2, 2), '
        'spatial_shapes=torch.tensor([[8, 8], [4, 4]]))))('
        'MultiScaleDeformableAttention(64, 8, 2, 4, batch_first=True)), '
        '(torch.randn(1, 80, 64, requires_grad=True),)'),
}


def first_calls() -> None:
    print('\nFirst eager forward+backward in a fresh process (CPU)')
    print('| operator | time (s) | modules imported | sympy | resident memory added (MB) |')
    print('|---|---:|---:|---|---:|')
    for name, layer in LAYERS.items():
        script = 'import json\n' + FIRST_CALL.format(layer=layer)
        out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {name} | {r['seconds']:.2f} | {r['modules']} | {r['sympy']} | {r['mb']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    parser.add_argument('--no-first-calls', action='store_true',
                        help='skip the fresh-process first-call table')
    parser.add_argument('--memory-only', action='store_true', help='(internal)')
    args = parser.parse_args()
    device = torch.device(args.device)
    names = ['mmcv', 'reference', *(['cpu', 'gather'] if device.type == 'cpu'
                                    else ['triton', 'gather'])]
    if args.memory_only or device.type != 'cpu':
        inputs = make_inputs(args.scale, args.batch, device)
        peaks = {name: peak_of(name, inputs, device) for name in names}
        if args.memory_only:
            print(json.dumps(peaks))
            return
    else:  # exact CPU peaks need a fixed mmap threshold from the start: another process
        peaks = peak_memory_in_subprocess([__file__, '--memory-only', '--scale', str(args.scale),
                                           '--batch', str(args.batch)])
    inputs = make_inputs(args.scale, args.batch, device)
    keys = inputs[0].shape[1]
    device_name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f'Multi-scale deformable attention, levels {inputs[1].tolist()} ({keys} keys, as many '
          f'queries), {HEADS} heads x {HEAD_DIMS}, {POINTS} points, batch {args.batch}, float32, '
          f'{device_name} ({torch.get_num_threads()} CPU threads), median of {args.repeats}; '
          "speed-up and memory ratio against mmcv's pure-PyTorch path")
    print('| impl | fwd (ms) | fwd+bwd (ms) | fwd speed-up | fwd+bwd speed-up | '
          'peak fwd+bwd (MB) | memory ratio |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    times = {}
    for name in names:
        forward, train_step = runners(name, inputs)
        times[name] = (time_call(forward, 1, args.repeats, device),
                       time_call(train_step, 1, args.repeats, device))
    (ref_fwd, ref_step), ref_peak = times['mmcv'], peaks['mmcv']
    for name in names:
        (fwd, step), peak = times[name], peaks[name]
        label = "mmcv's pure PyTorch" if name == 'mmcv' else f'segkit {name}'
        print(f'| {label} | {fwd * 1e3:.1f} | {step * 1e3:.1f} | {ref_fwd / fwd:.2f}x | '
              f'{ref_step / step:.2f}x | {peak / 2**20:.1f} | {peak / max(ref_peak, 1):.2f} |')
    if device.type == 'cpu' and not args.no_first_calls:
        first_calls()


if __name__ == '__main__':
    main()
