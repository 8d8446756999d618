"""Dense ResNet-50 by equivalent stride vs shift-and-stitch vs mmseg's dilated ResNet.

    python benchmarks/equivalent_stride.py [--size 512] [--repeats 3] [--device cpu]

All variants share one set of weights and run side by side in this process
(eval mode, batch 1). Printed: median time, peak memory above the model's
own, and ratios. Targets: dense OS8 at least 2.5x faster than
shift-and-stitch, and within 10% of mmseg's dilated ResNetV1c-d8.
"""
from __future__ import annotations

import argparse
import json

import torch
import torch.nn.functional as F

import segkit.mmseg  # noqa: F401  (fixes + registration)
from mmseg.models.backbones import ResNetV1c
from segkit.ops import densify
from segkit.utils.profiling import (peak_memory, peak_memory_in_subprocess, reset_peak_memory,
                                    time_call)


def shift_and_stitch(net: torch.nn.Module, x: torch.Tensor, factor: int,
                     step: int) -> torch.Tensor:
    """Runs ``net`` on ``factor**2`` inputs shifted by ``step`` pixels and interleaves."""
    h, w = x.shape[-2:]
    outs = []
    for a in range(factor):
        for b in range(factor):
            y = net(x[..., a * step:, b * step:])[-1]
            outs.append(y)
    oh, ow = outs[0].shape[-2:]
    stacked = torch.stack([F.pad(y, (0, ow - y.shape[-1], 0, oh - y.shape[-2])) for y in outs])
    n, c = stacked.shape[1:3]
    stacked = stacked.view(factor, factor, n, c, oh, ow).permute(2, 3, 4, 0, 5, 1)
    return stacked.reshape(n, c, oh * factor, ow * factor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--memory-only', action='store_true',
                        help='(internal) print the peak memory of each variant as JSON')
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    strided = ResNetV1c(depth=50, out_indices=(0, 1, 2, 3)).to(device)
    dilated = ResNetV1c(depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                        contract_dilation=True, out_indices=(0, 1, 2, 3)).to(device)
    dilated.load_state_dict(strided.state_dict())
    strided.eval()  # NOTE: mmseg's ResNet.train() returns None: no chaining
    dilated.eval()
    dense8 = densify(strided, 8)
    dense16 = densify(strided, 16)
    x = torch.randn(1, 3, args.size, args.size, device=device)

    variants = {
        'strided ResNet-50 (OS32)': lambda: strided(x),
        'dense OS16 (equivalent stride)': lambda: dense16(x),
        'dense OS8 (equivalent stride)': lambda: dense8(x),
        'mmseg dilated ResNetV1c-d8': lambda: dilated(x),
        'shift-and-stitch OS8 (16 runs)': lambda: shift_and_stitch(strided, x, 4, 8),
    }
    peaks, times = {}, {}
    with torch.no_grad():
        for name, fn in variants.items():
            fn()  # warm-up outside the memory window
            base = reset_peak_memory(device)
            fn()
            peaks[name] = peak_memory(device) - base
            if not args.memory_only:
                times[name] = time_call(fn, warmup=0, repeats=args.repeats, device=device)
    if args.memory_only:
        print(json.dumps(peaks))
        return
    if device.type == 'cpu':
        peaks = peak_memory_in_subprocess([__file__, '--memory-only', '--size', str(args.size)])
    results = {name: (times[name], peaks[name]) for name in variants}

    threads = torch.get_num_threads()
    print(f'ResNet-50 at {args.size}x{args.size}, batch 1, {device} '
          f'({threads} threads), median of {args.repeats}')
    ref = results['dense OS8 (equivalent stride)'][0]
    print('| variant | time (s) | time / dense OS8 | peak memory (MB) |')
    print('|---|---:|---:|---:|')
    for name, (seconds, peak) in results.items():
        print(f'| {name} | {seconds:.3f} | {seconds / ref:.2f} | {peak / 2**20:.0f} |')
    sns = results['shift-and-stitch OS8 (16 runs)'][0]
    d8 = results['mmseg dilated ResNetV1c-d8'][0]
    t32, t16 = results['strided ResNet-50 (OS32)'][0], results['dense OS16 (equivalent stride)'][0]
    m32, m16 = results['strided ResNet-50 (OS32)'][1], results['dense OS16 (equivalent stride)'][1]
    m8 = results['dense OS8 (equivalent stride)'][1]
    print(f'shift-and-stitch / dense OS8: {sns / ref:.2f}x (target >= 2.5)')
    print(f'dense OS8 / mmseg d8:         {ref / d8:.2f}x (target <= 1.10)')
    print(f'time   OS32 -> OS16 -> OS8: 1 : {t16 / t32:.2f} : {ref / t32:.2f}')
    print(f'memory OS32 -> OS16 -> OS8: 1 : {m16 / max(m32, 1):.2f} : {m8 / max(m32, 1):.2f}')


if __name__ == '__main__':
    main()
