"""Deployment latency side by side in one run: PyTorch eager, torch.compile,
onnxruntime, and bfloat16 autocast, on this machine.

    python benchmarks/export.py [--configs NAME ...] [--full-size 512 512] [--repeats 5]
        [--compile-backend inductor]

Per model: the whole segmentor as exported (normalisation, backbone, decode
head, resize to the input; :class:`segkit.apis.export.SegmentorForExport`),
batch 1, eval, no gradients. Default models: every sample config at its
128x128 crop and UPerNet InternImage-T / ConvNeXt-T-dcls at 512x512. Columns:
median latency of float32 eager, ``torch.compile`` (default mode; its compile
time apart), onnxruntime (CPU provider, the exported file) and eager under
bfloat16 autocast, each as a ratio to float32 eager, and the largest
difference of each to float32 eager relative to the largest logit.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from segkit.apis.export import SegmentorForExport, export_onnx
from segkit.apis.inference import load_segmentor
from segkit.utils.profiling import time_call

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p.stem for p in (REPO / 'configs' / 'sample').glob('*.py'))
FULL = ['internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512',
        'convnext/upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512']


def _relative(a: torch.Tensor, ref: torch.Tensor) -> float:
    return float((a.float() - ref).abs().max() / ref.abs().max())


def bench(config: str, size: tuple[int, int], repeats: int,
          backend: str = 'inductor') -> dict:
    """Latencies (s) and differences of the four ways of running ``config``."""
    import onnxruntime as ort

    torch.manual_seed(0)
    model = load_segmentor(config)  # in eval mode; SyncBN runs as BN in one process
    wrapper = SegmentorForExport(model).eval()
    image = torch.rand(1, 3, *size) * 255
    with torch.no_grad():
        ref = wrapper(image)
        compiled = torch.compile(wrapper, backend=backend)
        start = time.perf_counter()
        compiled(image)
        compile_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            export_onnx(model, Path(tmp) / 'model.onnx', size)
            session = ort.InferenceSession(str(Path(tmp) / 'model.onnx'),
                                           providers=['CPUExecutionProvider'])
        feed = {'image': image.numpy()}

        def bf16() -> torch.Tensor:
            with torch.autocast('cpu', dtype=torch.bfloat16):
                return wrapper(image)

        runs = {'eager': lambda: wrapper(image), 'compile': lambda: compiled(image),
                'onnxruntime': lambda: torch.from_numpy(session.run(None, feed)[0]),
                'bf16': bf16}
        result = dict(compile_s=compile_s)
        for key, fn in runs.items():
            result[f'{key}_diff'] = _relative(fn(), ref)
        # NOTE: two alternating rounds, the better of each: this VM's speed
        # drifts by tens of percent within seconds
        for _ in range(2):
            for key, fn in runs.items():
                seconds = time_call(fn, warmup=1, repeats=repeats)
                result[key] = min(result.get(key, seconds), seconds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--configs', nargs='+', default=SAMPLES + FULL,
                        help='config names (default: every sample config and two full ones)')
    parser.add_argument('--sample-size', type=int, nargs=2, default=(128, 128))
    parser.add_argument('--full-size', type=int, nargs=2, default=(512, 512))
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--compile-backend', default='inductor',
                        help="torch.compile's backend ('aot_eager': no code generation, tests)")
    args = parser.parse_args()
    print(f'batch 1, {torch.get_num_threads()} CPU threads, torch {torch.__version__}, '
          f'torch.compile backend {args.compile_backend}, '
          f'the better of two alternating medians of {args.repeats}; ratio = time / '
          'float32 eager; diff = max |logit - eager| / max |eager logit|')
    print('| model | size | eager fp32 (ms) | compile | onnxruntime | bf16 autocast | '
          'compile time (s) | diff compile / onnxruntime / bf16 |')
    print('|---|---|---:|---:|---:|---:|---:|---|')
    for config in args.configs:
        size = tuple(args.full_size if '/' in config else args.sample_size)
        r = bench(config, size, args.repeats, args.compile_backend)
        ratios = ' | '.join(f'{r[k] / r["eager"]:.2f}x' for k in ('compile', 'onnxruntime',
                                                                   'bf16'))
        diffs = ' / '.join(f'{r[k + "_diff"]:.1e}' for k in ('compile', 'onnxruntime', 'bf16'))
        print(f'| {config.rpartition("/")[2]} | {size[0]}x{size[1]} | {r["eager"] * 1e3:.1f} | '
              f'{ratios} | {r["compile_s"]:.0f} | {diffs} |', flush=True)


if __name__ == '__main__':
    main()
