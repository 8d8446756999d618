"""A whole Mask2Former training step and inference on the CPU, and where the time goes.

    python benchmarks/mask2former.py [--config NAME] [--batch 2] [--repeats 3]

Mask2Former (Cheng et al., CVPR 2022, arXiv 2112.01527) with mmseg 1.x's
head (mmdet 3.3.0's) on segkit's multi-scale deformable attention, by
default the sample config (FlashInternImage-c16, 128x128 crops, random
images and labels): the median time of a training step (forward, losses,
backward) and of inference, and, from one profiled training step, the
share of the step spent in

- multi-scale deformable attention (the pixel decoder's modules, forward,
  and the backward of their sampling kernel),
- matching: each decoder layer's point-sampled costs and Hungarian
  assignment (mmdet's ``_get_targets_single``),
- the point-sampled losses (``_loss_by_feat_single`` without the matching).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
from collections.abc import Iterator

import torch

CONFIG = 'mask2former_flashinternimage-c16_sample-128x128'


@contextlib.contextmanager
def labelled(*targets: tuple[type, str, str]) -> Iterator[None]:
    """Runs each ``cls.method`` inside ``torch.profiler.record_function(label)``."""
    saved = []
    for cls, method, label in targets:
        original = getattr(cls, method)

        def wrapper(*args: object, _fn=original, _label=label, **kwargs: object) -> object:
            with torch.profiler.record_function(_label):
                return _fn(*args, **kwargs)
        saved.append((cls, method, original))
        setattr(cls, method, functools.wraps(original)(wrapper))
    try:
        yield
    finally:
        for cls, method, original in saved:
            setattr(cls, method, original)


def batch(model: torch.nn.Module, size: int, n: int, classes: int, train: bool) -> dict:
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    samples = []
    for _ in range(n):
        sample = SegDataSample()
        # blocks of classes, so that every image has a few segments to match
        blocks = torch.randint(0, classes, (1, 1, size // 16, size // 16))
        labels = torch.nn.functional.interpolate(blocks.float(), size=(size, size))
        sample.gt_sem_seg = PixelData(data=labels[0].long())
        sample.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size),
                                 pad_shape=(size, size)))
        samples.append(sample)
    images = [torch.rand(3, size, size) * 255 for _ in range(n)]
    return model.data_preprocessor(dict(inputs=images, data_samples=samples), train)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()

    from mmdet.models.dense_heads import Mask2FormerHead

    from segkit.apis.inference import load_segmentor
    from segkit.ops import MultiScaleDeformableAttention
    from segkit.utils.profiling import time_call

    model = load_segmentor(args.config, None)
    size = int(model.cfg.crop_size[0])
    classes = model.decode_head.num_classes
    model.train()
    data = batch(model, size, args.batch, classes, True)

    def step() -> None:
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        model.zero_grad(set_to_none=True)

    model.eval()
    test = batch(model, size, 1, classes, False)

    def infer() -> None:
        with torch.no_grad():
            model(**test, mode='predict')

    infer_s = time_call(infer, 1, args.repeats)
    model.train()
    step_s = time_call(step, 1, args.repeats)
    labels = ((MultiScaleDeformableAttention, 'forward', 'deformable attention'),
              (Mask2FormerHead, '_get_targets_single', 'matching'),
              (Mask2FormerHead, '_loss_by_feat_single', 'losses'))
    with labelled(*labels), torch.profiler.profile() as prof:
        step()
    events = {e.key: e.cpu_time_total for e in prof.key_averages()}
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    attention = events.get('deformable attention', 0) + sum(
        t for k, t in events.items() if k.endswith('deform_sampling_cpuBackward'))
    matching = events.get('matching', 0)
    shares = {'multi-scale deformable attention (forward, kernel backward)': attention,
              'matching (point-sampled costs, Hungarian assignment)': matching,
              'point-sampled losses': events.get('losses', 0) - matching}
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f'Mask2Former, {args.config} ({params:.2f} M parameters), {size}x{size}, '
          f'{torch.get_num_threads()} CPU threads, median of {args.repeats}')
    print('| what | time (ms) |')
    print('|---|---:|')
    print(f'| training step, batch {args.batch} | {step_s * 1e3:.0f} |')
    print(f'| inference, one image | {infer_s * 1e3:.0f} |')
    print('\nShare of one profiled training step')
    print('| part | share |')
    print('|---|---:|')
    for name, t in shares.items():
        print(f'| {name} | {100 * t / total:.1f} % |')


if __name__ == '__main__':
    main()
