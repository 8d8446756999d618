"""DCNv3 core: segkit's fast paths vs the reference (grid_sample) formulation.

    python benchmarks/dcnv3.py [--device cpu|cuda] [--repeats 3] [--batch 2] [--impls cpu gather]

At InternImage-T stage shapes (N=2; C=64/128/256/512; G=4/8/16/32;
128/64/32/16 px; 3x3), side by side in one run: forward and forward+backward
median time, and peak memory of forward+backward (above the inputs), of the
reference and of each fast path ('cpu': the C++ kernel; 'triton': the GPU
kernels; 'gather': pure PyTorch embedding_bag). Targets: on the
CPU, forward+backward at least 1.5x faster and peak memory at most half of
the reference; on a GPU, the Triton kernels at least 3x faster than the
pure-PyTorch path.
"""
from __future__ import annotations

import argparse
import json

import torch

from segkit.ops import DeformGeometry as DCNv3Geometry
from segkit.ops.dcnv3 import (dcnv3_core_cpu, dcnv3_core_gather, dcnv3_core_reference,
                              dcnv3_core_triton)
from segkit.utils.profiling import call_peak, peak_memory_in_subprocess, time_call

STAGES = [(64, 4, 128), (128, 8, 64), (256, 16, 32), (512, 32, 16)]
BATCH = 2  # --batch
IMPLS = {'reference': dcnv3_core_reference, 'cpu': dcnv3_core_cpu, 'triton': dcnv3_core_triton,
         'gather': dcnv3_core_gather}


def make_inputs(channels: int, group: int, size: int, device: torch.device) -> tuple:
    torch.manual_seed(0)
    n, k = BATCH, 9
    x = torch.randn(n, size, size, channels, device=device, requires_grad=True)
    offset = (torch.randn(n, size, size, group * k * 2, device=device) * 2).requires_grad_()
    mask = torch.softmax(torch.randn(n, size, size, group, k, device=device), -1)
    mask = mask.reshape(n, size, size, group * k).requires_grad_()
    return x, offset, mask, DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, group, channels // group)


def runners(impl: str, inputs: tuple) -> tuple:
    x, offset, mask, geometry = inputs
    fn = IMPLS[impl]

    def forward() -> None:
        with torch.no_grad():
            fn(x, offset, mask, geometry)

    def train_step() -> None:
        out = fn(x, offset, mask, geometry)
        out.backward(torch.ones_like(out))
        x.grad = offset.grad = mask.grad = None

    return forward, train_step


def peak_of(impl: str, inputs: tuple, device: torch.device) -> int:
    """Peak bytes of one forward+backward, after a warm-up."""
    return call_peak(runners(impl, inputs)[1], device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--impls', nargs='+', choices=[i for i in IMPLS if i != 'reference'],
                        help="default: 'cpu gather' on the CPU, 'triton gather' on a GPU")
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    parser.add_argument('--memory-only', action='store_true', help='(internal)')
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    device = torch.device(args.device)
    impls = ['reference', *(args.impls or (['cpu', 'gather'] if device.type == 'cpu'
                                           else ['triton', 'gather']))]
    stages = [(c, g, max(4, int(s * args.scale))) for c, g, s in STAGES]
    if args.memory_only or device.type != 'cpu':
        peaks = {f'{c}-{impl}': peak_of(impl, make_inputs(c, g, s, device), device)
                 for c, g, s in stages for impl in impls}
        if args.memory_only:
            print(json.dumps(peaks))
            return
    else:  # exact CPU peaks need a fixed mmap threshold from the start: another process
        peaks = peak_memory_in_subprocess([__file__, '--memory-only', '--scale', str(args.scale),
                                           '--batch', str(args.batch),
                                           '--impls', *impls[1:]])
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f'DCNv3 core, InternImage-T stage shapes, N={BATCH}, 3x3, float32, {name} '
          f'({torch.get_num_threads()} CPU threads), median of {args.repeats}; '
          'speed-up and memory ratio against the reference')
    print('| stage (C, G, size) | impl | fwd (ms) | fwd+bwd (ms) | fwd speed-up | '
          'fwd+bwd speed-up | peak fwd+bwd (MB) | memory ratio |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for c, g, s in stages:
        inputs = make_inputs(c, g, s, device)
        times = {}
        for impl in impls:
            forward, train_step = runners(impl, inputs)
            times[impl] = (time_call(forward, 1, args.repeats, device),
                           time_call(train_step, 1, args.repeats, device))
        (ref_fwd, ref_step), ref_peak = times['reference'], peaks[f'{c}-reference']
        for impl in impls:
            (fwd, step), peak = times[impl], peaks[f'{c}-{impl}']
            print(f'| {c}, {g}, {s}x{s} | {impl} | {fwd * 1e3:.1f} | {step * 1e3:.1f} | '
                  f'{ref_fwd / fwd:.2f}x | {ref_step / step:.2f}x | {peak / 2**20:.1f} | '
                  f'{peak / max(ref_peak, 1):.2f} |')


if __name__ == '__main__':
    main()
