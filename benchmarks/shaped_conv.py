"""ShapedConv2d vs nn.Conv2d of the same size, side by side in one run.

    python benchmarks/shaped_conv.py [--device cpu] [--repeats 11] [--batch 2] [--scale 1.0]

At the shapes a 512x512 segmentation crop gives ResNet-50's 3x3 convs
(64/128/256/512 channels at 128/64/32/16 px, quasi-hexagonal 'qh-mixed')
and ConvNeXt-T's 7x7 depthwise convs (96/192/384/768 channels at
128/64/32/16 px, hexagonal), batch 2 as in the configs: median time of an eval
forward (the shaped kernel cached) and of a training step (forward and
backward: the shaped kernel is scattered every step), and the weights.
Targets: eval forward <= 1.05x and training step <= 1.3x of nn.Conv2d;
7/9 of the weights for 3x3 kernels.
"""
from __future__ import annotations

import argparse

import torch

from segkit.ops import ShapedConv2d
from segkit.utils.profiling import time_call

# (name, in/out channels, map size, kernel, groups = channels?)
SHAPES = [('ResNet-50 3x3', c, s, 3, False) for c, s in ((64, 128), (128, 64), (256, 32),
                                                          (512, 16))]
SHAPES += [('ConvNeXt-T dw 7x7', c, s, 7, True) for c, s in ((96, 128), (192, 64), (384, 32),
                                                              (768, 16))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=11)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f'ShapedConv2d / nn.Conv2d, batch {args.batch}, float32, {name} '
          f'({torch.get_num_threads()} CPU threads), the better of two alternating '
          f'medians of {args.repeats}')
    print('| layer | channels, size | shape | weights (shaped / conv) | eval fwd conv (ms) | '
          'eval fwd ratio | train step conv (ms) | train step ratio |')
    print('|---|---|---|---:|---:|---:|---:|---:|')
    worst_eval = worst_train = 0.0
    for layer, channels, size, k, depthwise in SHAPES:
        size = max(k, int(size * args.scale))
        groups = channels if depthwise else 1
        shape = 'qh-right' if depthwise else 'qh-mixed'
        torch.manual_seed(0)
        conv = torch.nn.Conv2d(channels, channels, k, padding=k // 2, groups=groups).to(device)
        shaped = ShapedConv2d(channels, channels, k, shape, padding=k // 2,
                              groups=groups).to(device)
        x = torch.randn(args.batch, channels, size, size, device=device)
        timings: dict[str, list[tuple[float, float]]] = {'conv': [], 'shaped': []}
        # NOTE: two alternating rounds, the better of each: this VM's speed
        # drifts by tens of percent within seconds
        for _ in range(2):
            for key, module in (('conv', conv), ('shaped', shaped)):
                def forward(module: torch.nn.Module = module) -> None:
                    with torch.no_grad():
                        module(x)

                def step(module: torch.nn.Module = module) -> None:
                    module(x).sum().backward()
                    module.zero_grad(set_to_none=True)

                module.eval()
                fwd = time_call(forward, 3, args.repeats, device)
                module.train()
                timings[key].append((fwd, time_call(step, 1, args.repeats, device)))
        (conv_fwd, conv_step), (fwd, step_time) = (
            tuple(min(t[i] for t in timings[key]) for i in range(2)) for key in ('conv', 'shaped'))
        ratio = shaped.weight.numel() / conv.weight.numel()
        worst_eval, worst_train = max(worst_eval, fwd / conv_fwd), max(worst_train,
                                                                      step_time / conv_step)
        print(f'| {layer} | {channels}, {size}x{size} | {shape} | {ratio:.3f} | '
              f'{conv_fwd * 1e3:.2f} | {fwd / conv_fwd:.2f}x | {conv_step * 1e3:.2f} | '
              f'{step_time / conv_step:.2f}x |')
    print(f'worst eval forward ratio {worst_eval:.2f}x (target <= 1.05), worst training step '
          f'ratio {worst_train:.2f}x (target <= 1.3)')


if __name__ == '__main__':
    main()
