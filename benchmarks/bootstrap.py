"""The image bootstrap of mIoU at ADE20K's size: 1,000 resamples of 2,000 images x 150 classes.

    python benchmarks/bootstrap.py [--images 2000] [--classes 150] [--resamples 1000]
                                   [--models 4] [--seeds 1] [--repeats 3]

Synthetic per-image counts (what ``per_image_stats.npz`` holds), timed side
by side in this process (median of ``--repeats``): drawing the resamples,
one model's resampled mIoU, and the whole comparison ``segkit compare`` makes
(:func:`segkit.evaluation.significance.significance`: every model's
intervals, the paired differences, per-class intervals). Target: seconds,
not minutes, for the four models of the demo at ADE20K's size.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from segkit.evaluation.significance import RunCounts, significance
from segkit.evaluation.statistics import ImageBootstrap, ImageCounts, resample_weights
from segkit.utils.tables import markdown_table


def synthetic_counts(rng: np.random.Generator, images: int, classes: int,
                     hit: float) -> ImageCounts:
    """Counts shaped like a segmentation test set's: most classes absent from an image."""
    label = rng.poisson(2000, (images, classes)) * (rng.random((images, classes)) < 0.1)
    intersect = rng.binomial(label, hit)
    false = rng.poisson(50, (images, classes)) * (rng.random((images, classes)) < 0.2)
    return ImageCounts(intersect, label + false, intersect + false, label,
                       [f'{i}.jpg' for i in range(images)], [f'c{k}' for k in range(classes)])


def median_seconds(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=2000)
    parser.add_argument('--classes', type=int, default=150)
    parser.add_argument('--resamples', type=int, default=1000)
    parser.add_argument('--models', type=int, default=4)
    parser.add_argument('--seeds', type=int, default=1, help='runs per model')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    models = {f'model{m}': [RunCounts(synthetic_counts(rng, args.images, args.classes,
                                                       0.6 + 0.02 * m))
                            for _ in range(args.seeds)] for m in range(args.models)}
    one = next(iter(models.values()))[0].clean
    boot = ImageBootstrap(one.img_names, args.resamples)
    rows = [
        ['draw the resamples (weights)',
         median_seconds(lambda: resample_weights(args.images, args.resamples), args.repeats)],
        ["one model's resampled mIoU", median_seconds(lambda: boot.miou([one]), args.repeats)],
        [f'the comparison of {args.models} models x {args.seeds} seed(s)',
         median_seconds(lambda: significance(models, resamples=args.resamples), args.repeats)]]
    print(f'{args.resamples} resamples of {args.images} images x {args.classes} classes, '
          f'median of {args.repeats}:')
    print(markdown_table(['step', 'seconds'], [[name, f'{s:.3f}'] for name, s in rows]))


if __name__ == '__main__':
    main()
