"""DCNv3 core: segkit's fast path vs the reference (grid_sample) formulation.

    python benchmarks/dcnv3.py [--device cpu] [--repeats 3]

At InternImage-T stage shapes (N=2; C=64/128/256/512; G=4/8/16/32;
128/64/32/16 px; 3x3), side by side in one run: forward and forward+backward
median time, and peak memory of forward+backward (above inputs). CPU targets
(issue 5): forward+backward at least 1.5x faster, peak memory at most half.
"""
from __future__ import annotations

import argparse
import json

import torch

from segkit.ops.dcnv3 import dcnv3_core_fast, dcnv3_core_reference
from segkit.utils.profiling import (peak_memory, peak_memory_in_subprocess, reset_peak_memory,
                                    time_call)

STAGES = [(64, 4, 128), (128, 8, 64), (256, 16, 32), (512, 32, 16)]
IMPLS = {'reference': dcnv3_core_reference, 'fast': dcnv3_core_fast}


def make_inputs(channels: int, group: int, size: int, device: torch.device) -> tuple:
    torch.manual_seed(0)
    n, k = 2, 9
    x = torch.randn(n, size, size, channels, device=device, requires_grad=True)
    offset = (torch.randn(n, size, size, group * k * 2, device=device) * 2).requires_grad_()
    mask = torch.softmax(torch.randn(n, size, size, group, k, device=device), -1)
    mask = mask.reshape(n, size, size, group * k).requires_grad_()
    return x, offset, mask, (3, 3, 1, 1, 1, 1, 1, 1, group, channels // group, 1.0)


def runners(impl: str, inputs: tuple) -> tuple:
    x, offset, mask, args = inputs
    fn = IMPLS[impl]

    def forward() -> None:
        with torch.no_grad():
            fn(x, offset, mask, *args)

    def train_step() -> None:
        out = fn(x, offset, mask, *args)
        out.backward(torch.ones_like(out))
        x.grad = offset.grad = mask.grad = None

    return forward, train_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    parser.add_argument('--memory-only', action='store_true', help='(internal)')
    args = parser.parse_args()
    device = torch.device(args.device)
    stages = [(c, g, max(4, int(s * args.scale))) for c, g, s in STAGES]
    peaks, times = {}, {}
    for c, g, s in stages:
        inputs = make_inputs(c, g, s, device)
        for impl in IMPLS:
            forward, train_step = runners(impl, inputs)
            train_step()
            base = reset_peak_memory(device)
            train_step()
            peaks[f'{c}-{impl}'] = peak_memory(device) - base
            if not args.memory_only:
                times[f'{c}-{impl}'] = (time_call(forward, 1, args.repeats, device),
                                        time_call(train_step, 0, args.repeats, device))
    if args.memory_only:
        print(json.dumps(peaks))
        return
    if device.type == 'cpu':
        peaks = peak_memory_in_subprocess([__file__, '--memory-only', '--scale', str(args.scale)])
    print(f'DCNv3 core, InternImage-T stage shapes, N=2, 3x3, {device} '
          f'({torch.get_num_threads()} threads), median of {args.repeats}')
    print('| stage (C, G, size) | fwd ref (ms) | fwd fast (ms) | fwd+bwd ref (ms) | '
          'fwd+bwd fast (ms) | fwd+bwd speed-up | peak ref (MB) | peak fast (MB) | '
          'memory ratio |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for c, g, s in stages:
        (fr, tr), (ff, tf) = times[f'{c}-reference'], times[f'{c}-fast']
        mr, mf = peaks[f'{c}-reference'], peaks[f'{c}-fast']
        print(f'| {c}, {g}, {s}x{s} | {fr * 1e3:.1f} | {ff * 1e3:.1f} | {tr * 1e3:.1f} | '
              f'{tf * 1e3:.1f} | {tr / tf:.2f}x | {mr / 2**20:.1f} | {mf / 2**20:.1f} | '
              f'{mf / max(mr, 1):.2f} |')


if __name__ == '__main__':
    main()
