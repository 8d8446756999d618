"""Dcls2d (segkit) vs the reference ``dcls`` package at ConvNeXt-T-dcls shapes.

    python benchmarks/dcls.py [--device cpu] [--repeats 3] [--scale 1.0]

Depthwise 17x17 DCLS with K=34 (Gaussian), channels 96/192/384 at 56/28/14
px, batch 1 and 8, side by side in one run: forward and forward+backward
median time, peak memory of forward+backward, and segkit's cached eval
forward against a plain ``F.conv2d`` with the same kernel. Targets:
never slower, at least 1.5x faster at batch 1 training, peak
memory at most the reference's, eval forward within 1.05x of ``F.conv2d``.
"""
from __future__ import annotations

import argparse
import json
import logging

import torch
import torch.nn.functional as F

from segkit.ops.dcls import Dcls2d
from segkit.utils.profiling import (peak_memory, peak_memory_in_subprocess, reset_peak_memory,
                                    time_call)

SHAPES = [(96, 56), (192, 28), (384, 14)]


def build(channels: int, device: torch.device) -> tuple:
    from DCLS.construct.modules import Dcls2d as RefDcls2d

    logging.getLogger().setLevel(logging.ERROR)
    ref = RefDcls2d(channels, channels, kernel_count=34, dilated_kernel_size=17, padding=8,
                    groups=channels, version='gauss', use_implicit_gemm=False).to(device)
    ours = Dcls2d(channels, channels, 34, padding=8, dilated_kernel_size=17,
                  groups=channels).to(device)
    ours.load_state_dict(ref.state_dict())
    return {'reference': ref, 'segkit': ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--scale', type=float, default=1.0,
                        help='shrink the maps and the channels (tests)')
    parser.add_argument('--memory-only', action='store_true', help='(internal)')
    parser.add_argument('--model-size', type=int, default=512,
                        help='UPerNet ConvNeXt-T vs -T-dcls inference at this size (0: skip)')
    args = parser.parse_args()
    device = torch.device(args.device)
    times, peaks = {}, {}
    shapes = [(max(1, round(channels * args.scale)), max(1, round(size * args.scale)))
              for channels, size in SHAPES]
    for batch in args.batches:
        for channels, size in shapes:
            layers = build(channels, device)
            x = torch.randn(batch, channels, size, size, device=device)
            for name, layer in layers.items():
                layer.train()

                def step(layer=layer) -> None:
                    layer(x).sum().backward()
                    layer.zero_grad(set_to_none=True)

                def forward(layer=layer) -> None:
                    with torch.no_grad():
                        layer(x)

                key = f'{batch}-{channels}-{name}'
                step()
                base = reset_peak_memory(device)
                step()
                peaks[key] = peak_memory(device) - base
                if not args.memory_only:
                    times[key] = (time_call(forward, 1, args.repeats, device),
                                  time_call(step, 1, args.repeats, device))
            if not args.memory_only:
                ours = layers['segkit'].eval()
                kernel = ours.construct_kernel().detach()
                # NOTE: the same convolution either way; interleaved rounds of 5
                # calls, best of 5, so machine noise does not decide the ratio
                with torch.no_grad():
                    cached, plain = [], []
                    for _ in range(5):
                        cached.append(time_call(lambda: ours(x), 1, 5, device))
                        plain.append(time_call(lambda: F.conv2d(x, kernel, ours.bias, padding=8,
                                                                groups=channels), 1, 5, device))
                times[f'{batch}-{channels}-eval'] = (min(cached), min(plain))
    if args.memory_only:
        print(json.dumps(peaks))
        return
    if device.type == 'cpu':
        peaks = peak_memory_in_subprocess([__file__, '--memory-only', '--scale', str(args.scale),
                                           '--batches', *map(str, args.batches)])
    print(f'Dcls2d depthwise 17x17, K=34, gauss, {device} ({torch.get_num_threads()} '
          f'threads), median of {args.repeats}')
    print('| batch, C, size | fwd ref (ms) | fwd segkit (ms) | train ref (ms) | '
          'train segkit (ms) | train speed-up | peak ref (MB) | peak segkit (MB) | '
          'eval cached / F.conv2d |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for batch in args.batches:
        for channels, size in shapes:
            (fr, tr), (fs, ts) = (times[f'{batch}-{channels}-reference'],
                                  times[f'{batch}-{channels}-segkit'])
            mr, ms = peaks[f'{batch}-{channels}-reference'], peaks[f'{batch}-{channels}-segkit']
            cached, plain = times[f'{batch}-{channels}-eval']
            print(f'| {batch}, {channels}, {size}x{size} | {fr * 1e3:.1f} | {fs * 1e3:.1f} | '
                  f'{tr * 1e3:.1f} | {ts * 1e3:.1f} | {tr / ts:.2f}x | {mr / 2**20:.1f} | '
                  f'{ms / 2**20:.1f} | {cached / plain:.2f} |')
    if args.model_size:
        model_throughput(args.model_size, device, args.repeats)


def model_throughput(size: int, device: torch.device, repeats: int) -> None:
    """UPerNet ConvNeXt-T with 7x7 depthwise vs 17x17 DCLS mixers, inference."""
    from pathlib import Path

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import segkit.mmseg  # noqa: F401  (fixes + registration)

    init_default_scope('mmseg')
    root = Path(__file__).resolve().parents[1] / 'configs' / 'convnext'
    rates = {}
    for name in ('upernet_convnext-t_8xb2-160k_ade20k-512x512.py',
                 'upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py'):
        cfg = Config.fromfile(str(root / name))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model).to(device).eval()
        x = torch.randn(1, 3, size, size, device=device)
        with torch.no_grad():
            seconds = time_call(lambda: model(x, mode='tensor'), 1, repeats, device)
        rates[name] = 1.0 / seconds
        print(f'{name}: {seconds * 1e3:.0f} ms/image, {1 / seconds:.2f} images/s')
    dw, dcls = rates.values()
    print(f'UPerNet ConvNeXt-T-dcls / ConvNeXt-T throughput at {size}x{size}: '
          f'{dcls / dw:.2f} (target >= 0.85)')


if __name__ == '__main__':
    main()
