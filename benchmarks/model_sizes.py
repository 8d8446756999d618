"""Parameters and FLOPs of configs' models, for the configs/<family>/README.md tables.

    python benchmarks/model_sizes.py CONFIG [CONFIG ...] [--size 512 2048]

Parameters of the whole segmentor (auxiliary head included); FLOPs are
mmengine's count (a multiply-add counts once, the papers' convention) of
its inference path (backbone and decode head) on one image of --size (H W);
ADE20K papers report 2048x512 inputs, Cityscapes papers 1024x2048.
Random weights: nothing is downloaded.
"""
from __future__ import annotations

import argparse

import segkit.mmseg  # noqa: F401  (fixes + registration)
from segkit.apis.benchmark import count_flops
from segkit.apis.inference import load_segmentor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--size', type=int, nargs=2, default=[512, 2048], metavar=('H', 'W'))
    args = parser.parse_args()
    size = tuple(args.size)
    print(f'| config | params (M) | GFLOPs @{size[0]}x{size[1]} |')
    print('|---|---:|---:|')
    for config in args.configs:
        # SyncBN runs as BN in one process (torch's SyncBatchNorm falls back)
        model = load_segmentor(config)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        flops = count_flops(model, size)
        gflops = f'{flops / 1e9:.0f}' if flops is not None else 'n/a'
        print(f'| {config.rsplit("/", 1)[-1].removesuffix(".py")} | {params:.1f} | {gflops} |',
              flush=True)


if __name__ == '__main__':
    main()
