"""DCNv4 vs DCNv3: the core operators, the modules and UPerNet on them.

    python benchmarks/dcnv4.py [--device cpu|cuda] [--repeats 5] [--batch 2] [--scale 1.0]
        [--no-models]

Side by side in one run, at the FlashInternImage-T / InternImage-T stage
shapes of a 512x512 image (N=2; C=64/128/256/512; G=4/8/16/32;
128/64/32/16 px; 3x3): forward and forward+backward median time and peak
memory of forward+backward (above the inputs) of

- the cores: DCNv4's (packed offsets and masks, positions computed in the
  kernel) against DCNv3's (positions precomputed on the original's float32
  grid, masks softmaxed by the module), each by segkit's CPU kernel (on a
  GPU: the Triton kernels, against DCNv3's Triton kernels);
- the modules: DCNv4 (one linear layer for offsets and masks) against
  DCNv3 (depthwise conv, LayerNorm, GELU, two linear layers, softmax);

and the inference of UPerNet FlashInternImage-T against UPerNet
InternImage-T at 512x512 (batch 1). Target: the DCNv4 core at least 1.5x
faster than the DCNv3 core in the forward pass at stage 1 on the CPU.
"""
from __future__ import annotations

import argparse
import json

import torch

from segkit.ops import DCNv3, DCNv4, DeformGeometry
from segkit.ops.dcnv3 import dcnv3_core_cpu, dcnv3_core_triton
from segkit.ops.dcnv4 import dcnv4_core_cpu, dcnv4_core_triton
from segkit.ops.deform_sampling import packed_width
from segkit.utils.profiling import call_peak, peak_memory_in_subprocess, time_call

STAGES = [(64, 4, 128), (128, 8, 64), (256, 16, 32), (512, 32, 16)]
BATCH = 2  # --batch
MODELS = {'InternImage-T': 'upernet_internimage-t_8xb2-160k_ade20k-512x512',
          'FlashInternImage-T': 'upernet_flashinternimage-t_8xb2-160k_ade20k-512x512'}


def core_inputs(version: str, channels: int, group: int, size: int,
                device: torch.device) -> tuple:
    """(fn, tensors, geometry) of one core at one stage, offsets of a few pixels."""
    torch.manual_seed(0)
    g = DeformGeometry(3, 3, 1, 1, 1, 1, 1, 1, group, channels // group)
    x = torch.randn(BATCH, size, size, channels, device=device, requires_grad=True)
    cpu = device.type == 'cpu'
    if version == 'DCNv4':
        om = torch.randn(BATCH, size, size, packed_width(g), device=device) * 2
        return (dcnv4_core_cpu if cpu else dcnv4_core_triton), (x, om.requires_grad_()), g
    offset = (torch.randn(BATCH, size, size, group * 18, device=device) * 2).requires_grad_()
    mask = torch.softmax(torch.randn(BATCH, size, size, group, 9, device=device), -1)
    mask = mask.reshape(BATCH, size, size, group * 9).requires_grad_()
    return (dcnv3_core_cpu if cpu else dcnv3_core_triton), (x, offset, mask), g


def module_inputs(version: str, channels: int, group: int, size: int,
                  device: torch.device) -> tuple:
    torch.manual_seed(0)
    cls = DCNv4 if version == 'DCNv4' else DCNv3
    module = cls(channels, group=group).to(device)
    x = torch.randn(BATCH, size, size, channels, device=device, requires_grad=True)
    return (lambda t, g: module(t)), (x,), None


def runners(fn, tensors: tuple, g: DeformGeometry | None) -> tuple:
    def forward() -> None:
        with torch.no_grad():
            fn(*tensors, g)

    def train_step() -> None:
        out = fn(*tensors, g)
        out.backward(torch.ones_like(out))
        for t in tensors:
            t.grad = None

    return forward, train_step


def peak_of(make, version: str, stage: tuple, device: torch.device) -> int:
    """Peak bytes of one forward+backward, after a warm-up."""
    return call_peak(runners(*make(version, *stage, device))[1], device)


WHAT = {'core': core_inputs, 'module': module_inputs}


def peaks(stages: list[tuple], device: torch.device) -> dict:
    return {f'{what}-{version}-{stage[0]}': peak_of(make, version, stage, device)
            for what, make in WHAT.items() for stage in stages for version in ('DCNv3', 'DCNv4')}


def model_latency(device: torch.device, repeats: int) -> dict:
    from segkit.apis.inference import load_segmentor

    times = {}
    for name, config in MODELS.items():
        model = load_segmentor(config).to(device).eval()
        x = torch.randn(1, 3, 512, 512, device=device)
        with torch.no_grad():
            times[name] = time_call(lambda: model(x, mode='tensor'), 1, repeats, device)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    parser.add_argument('--no-models', action='store_true', help='skip the UPerNet models')
    parser.add_argument('--memory-only', action='store_true', help='(internal)')
    args = parser.parse_args()
    global BATCH
    BATCH = args.batch
    device = torch.device(args.device)
    stages = [(c, g, max(4, int(s * args.scale))) for c, g, s in STAGES]
    if args.memory_only:
        print(json.dumps(peaks(stages, device)))
        return
    if device.type == 'cpu':  # exact CPU peaks need a fixed mmap threshold: another process
        memory = peak_memory_in_subprocess([__file__, '--memory-only', '--scale',
                                            str(args.scale), '--batch', str(args.batch)])
    else:
        memory = peaks(stages, device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    kernel = 'Triton kernels' if device.type == 'cuda' else 'C++ CPU kernels'
    print(f'DCNv4 vs DCNv3, FlashInternImage-T / InternImage-T stage shapes, N={BATCH}, 3x3, '
          f'float32, {name} ({torch.get_num_threads()} CPU threads), {kernel}, '
          f'median of {args.repeats}')
    print('| what | stage (C, G, size) | DCNv3 fwd (ms) | DCNv4 fwd (ms) | fwd speed-up | '
          'DCNv3 fwd+bwd (ms) | DCNv4 fwd+bwd (ms) | fwd+bwd speed-up | '
          'peak fwd+bwd DCNv3 / DCNv4 (MB) |')
    print('|---|---|---:|---:|---:|---:|---:|---:|---|')
    for what, make in WHAT.items():
        for stage in stages:
            times = {}
            for version in ('DCNv3', 'DCNv4'):
                forward, train_step = runners(*make(version, *stage, device))
                times[version] = (time_call(forward, 1, args.repeats, device),
                                  time_call(train_step, 1, args.repeats, device))
            (f3, s3), (f4, s4) = times['DCNv3'], times['DCNv4']
            m3, m4 = (memory[f'{what}-{v}-{stage[0]}'] / 2**20 for v in ('DCNv3', 'DCNv4'))
            c, g, s = stage
            print(f'| {what} | {c}, {g}, {s}x{s} | {f3 * 1e3:.1f} | {f4 * 1e3:.1f} | '
                  f'{f3 / f4:.2f}x | {s3 * 1e3:.1f} | {s4 * 1e3:.1f} | {s3 / s4:.2f}x | '
                  f'{m3:.1f} / {m4:.1f} |')
    if not args.no_models:
        times = model_latency(device, max(1, args.repeats // 2))
        base = times['InternImage-T']
        print('\nUPerNet at 512x512, batch 1, inference (median):')
        print('| model | latency (ms) | ratio to InternImage-T |')
        print('|---|---:|---:|')
        for name, t in times.items():
            print(f'| {name} | {t * 1e3:.0f} | {t / base:.2f}x |')


if __name__ == '__main__':
    main()
