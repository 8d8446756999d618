"""DCNv2 against the plain 3x3 conv and DCNv3, side by side in one run.

    python benchmarks/deformable.py [--device cpu] [--repeats 5] [--batch 2] [--scale 1.0]

1. Layers, at the shapes a 512x512 crop gives ResNet-50's 3x3 convs (64 /
   128 / 256 / 512 channels at 128 / 64 / 32 / 16 px), batch 2: the plain
   ``nn.Conv2d``, DCNv2 (``ModulatedDeformConv2dPack``, offsets of a few
   pixels) by torchvision's ``deform_conv2d`` (the reference kernel), by
   the shared core's ``grid_sample`` formulation (``impl='reference'``) and
   by its C++ kernel (``'cpu'``, what 'auto' takes on the CPU), and segkit's
   DCNv3 module at the same channels (G = C/16 as InternImage; its
   projections and depthwise conv included). Median time of an eval
   forward and of a training step (forward and backward), and each as a
   ratio to the plain conv.
2. Whole models: UPerNet ResNet-50-DCNv2
   (``configs/dcn_resnet/upernet_r50-dcnv2_4xb4-160k_ade20k-512x512.py``)
   against the same UPerNet with the plain ResNet-50 (``dcn=None``),
   inference at 512x512, batch 1.

``--scale`` shrinks every map (a smoke test).
"""
from __future__ import annotations

import argparse

import torch

from segkit.ops import DCNv3, ModulatedDeformConv2dPack
from segkit.utils.profiling import time_call

STAGES = [(64, 128), (128, 64), (256, 32), (512, 16)]  # ResNet-50's 3x3 convs at 512x512
UPERNET = 'dcn_resnet/upernet_r50-dcnv2_4xb4-160k_ade20k-512x512'


class _ChannelsLast(torch.nn.Module):
    """DCNv3 (channels-last) where an NCHW conv sits."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dcn = DCNv3(channels, group=max(1, channels // 16))
        with torch.no_grad():  # offsets of a few pixels, as for DCNv2
            self.dcn.offset.weight.normal_(0, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dcn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _dcnv2(channels: int, impl: str = 'auto') -> torch.nn.Module:
    layer = ModulatedDeformConv2dPack(channels, channels, 3, padding=1, bias=False, impl=impl)
    with torch.no_grad():
        layer.conv_offset.weight.normal_(0, 0.5 / (channels * 9) ** 0.5)
        layer.conv_offset.bias.normal_(0, 2.0)
    return layer


class _Torchvision(torch.nn.Module):
    """The same DCNv2 layer computed by ``torchvision.ops.deform_conv2d``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layer = _dcnv2(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torchvision.ops

        out = self.layer.conv_offset(x)
        split = 2 * out.shape[1] // 3
        return torchvision.ops.deform_conv2d(x, out[:, :split], self.layer.weight, None,
                                             padding=(1, 1), mask=out[:, split:].sigmoid())


def layers(args: argparse.Namespace, device: torch.device) -> None:
    print(f'3x3 layers at ResNet-50 stage shapes, batch {args.batch}, float32, '
          f'{torch.get_num_threads()} CPU threads, median of {args.repeats}; ratio to the '
          'plain conv')
    print('| channels, size | layer | eval fwd (ms) | fwd ratio | train step (ms) | '
          'step ratio |')
    print('|---|---|---:|---:|---:|---:|')
    for channels, size in STAGES:
        size = max(4, int(size * args.scale))
        torch.manual_seed(0)
        x = torch.randn(args.batch, channels, size, size, device=device)
        variants = [('plain 3x3 conv', torch.nn.Conv2d(channels, channels, 3, padding=1,
                                                        bias=False)),
                    ('DCNv2, torchvision kernel', _Torchvision(channels)),
                    ('DCNv2, grid_sample (reference)', _dcnv2(channels, 'reference')),
                    ('DCNv2, segkit core (auto)', _dcnv2(channels)),
                    (f'DCNv3 (G={max(1, channels // 16)})', _ChannelsLast(channels))]
        base = None
        for name, module in variants:
            module = module.to(device)

            def forward(module: torch.nn.Module = module) -> None:
                with torch.no_grad():
                    module(x)

            def step(module: torch.nn.Module = module) -> None:
                module(x).sum().backward()
                module.zero_grad(set_to_none=True)

            module.eval()
            fwd = time_call(forward, 1, args.repeats, device)
            module.train()
            train = time_call(step, 1, args.repeats, device)
            base = base or (fwd, train)
            print(f'| {channels}, {size}x{size} | {name} | {fwd * 1e3:.1f} | '
                  f'{fwd / base[0]:.2f}x | {train * 1e3:.1f} | {train / base[1]:.2f}x |')


def models(args: argparse.Namespace, device: torch.device) -> None:
    from segkit.apis.inference import load_segmentor

    size = max(32, int(512 * args.scale))
    image = torch.randn(1, 3, size, size, device=device)
    times = {}
    for name, options in (('UPerNet ResNet-50', {'model.backbone.dcn': None}),
                          ('UPerNet ResNet-50-DCNv2', None)):
        torch.manual_seed(0)
        model = load_segmentor(UPERNET, device=str(device), cfg_options=options)
        params = sum(p.numel() for p in model.parameters())

        def infer(model: torch.nn.Module = model) -> None:
            with torch.no_grad():
                model(image, mode='tensor')

        times[name] = (time_call(infer, 1, args.repeats, device), params)
    print(f'\nUPerNet inference at {size}x{size}, batch 1, float32, '
          f'{torch.get_num_threads()} CPU threads, median of {args.repeats}')
    print('| model | params (M) | inference (ms) | ratio |')
    print('|---|---:|---:|---:|')
    base = times['UPerNet ResNet-50'][0]
    for name, (seconds, params) in times.items():
        print(f'| {name} | {params / 1e6:.1f} | {seconds * 1e3:.0f} | {seconds / base:.2f}x |')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--scale', type=float, default=1.0, help='shrink the maps (tests)')
    args = parser.parse_args()
    device = torch.device(args.device)
    layers(args, device)
    models(args, device)


if __name__ == '__main__':
    main()
