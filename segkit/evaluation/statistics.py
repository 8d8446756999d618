"""How sure a comparison of mIoU is: the image bootstrap, paired differences, seeds.

mIoU is a dataset-level ratio (per class, the intersections summed over the
images over the unions summed over the images; classes with no union left
out; the mean over classes), so its uncertainty is computed on the same
footing: keep the per-image, per-class counts mmseg's ``intersect_and_union``
gives (:class:`ImageCounts`), resample *images* with replacement, sum their
counts, recompute the figure.

- **Image bootstrap** (Efron & Tibshirani, *An Introduction to the
  Bootstrap*, Chapman & Hall 1993, ch. 6 and 13): ``B`` resamples of the ``n``
  test images as a ``(B, n)`` matrix of how often each image is drawn; the
  summed counts of every resample are one matrix product. The 95 % interval
  is the percentile interval (the 2.5th and 97.5th percentiles of the
  resampled figures).
- **Paired differences**: two models evaluated on the same images are
  resampled with the *same* draws, so what the images have in common (hard
  images are hard for both) cancels in the difference. Two-sided p-value of
  "no difference", read off the resampled differences d* (the p-value that
  goes with the percentile interval: below 0.05 about when the 95 %
  interval excludes 0; Efron & Tibshirani 1993, ch. 16), with the +1 of
  Monte Carlo p-values (Davison & Hinkley, *Bootstrap Methods and their
  Application*, 1997, ch. 4):

      p = min(1, 2 * (1 + min(#{d* <= 0}, #{d* >= 0})) / (B + 1))

  the share of resampled differences on the far side of 0, doubled; ties at
  0 count on both sides, so identical models get p = 1, and the smallest
  possible p is 2 / (B + 1).
- **Several comparisons** with one baseline: Holm's step-down correction
  (Holm, "A simple sequentially rejective multiple test procedure", Scand.
  J. Statist. 6, 1979), which keeps the chance of any false "better" or
  "worse" among them at 5 %.
- **Seeds**: a config trained with several seeds is resampled
  hierarchically (Davison & Hinkley 1997, sec. 3.8): draw the seeds with
  replacement, then the images; its figure is the mean over seeds. The
  images are drawn once for every model (paired), the seeds per model (the
  runs of two configs share nothing).

Everything here is numpy; the figures are in percent, as mmseg prints them.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ['AREAS', 'LEVEL', 'Difference', 'ImageBootstrap', 'ImageCounts', 'Resampled',
           'bootstrap_p_value', 'class_iou', 'compare_to_baseline', 'holm', 'mean_iou',
           'miou_from_counts', 'percentile_interval', 'resample_weights', 'verdict']

# mmseg's intersect_and_union, in its order: what per_image_stats.npz holds
AREAS = ('area_intersect', 'area_union', 'area_pred_label', 'area_label')
LEVEL = 0.95
VERDICTS = ('better', 'worse', f'no detectable difference at {LEVEL * 100:.0f} %')


def class_iou(intersect: np.ndarray, union: np.ndarray) -> np.ndarray:
    """IoU per class from counts summed over images, ``(..., C)``; NaN where
    the union is 0 (a class neither labelled nor predicted), as mmseg."""
    intersect = np.asarray(intersect, np.float64)
    union = np.asarray(union, np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        return intersect / union


def mean_iou(iou: np.ndarray) -> np.ndarray | float:
    """mIoU in percent over the last axis, leaving out NaN classes (mmseg's
    ``np.nanmean(iou) * 100``); NaN where every class is NaN."""
    iou = np.asarray(iou, np.float64)
    valid = ~np.isnan(iou)
    count = valid.sum(-1)
    # NOTE: nanmean's own arithmetic (NaN -> 0, sum, divide by the count), so
    # the figure is mmseg's bit for bit, without its all-NaN warning
    total = np.where(valid, iou, 0.0).sum(-1)
    with np.errstate(divide='ignore', invalid='ignore'):
        out = total / count * 100
    return float(out) if np.ndim(out) == 0 else out


def miou_from_counts(intersect: np.ndarray, union: np.ndarray) -> float:
    """The dataset mIoU (percent) of per-image counts ``(n, C)``: summed over
    the images, then per-class IoU, then the mean over classes with a union."""
    return float(mean_iou(class_iou(np.sum(intersect, 0), np.sum(union, 0))))


@dataclass
class ImageCounts:
    """Per-image, per-class pixel counts of one evaluation, as mmseg's
    ``IoUMetric.intersect_and_union`` returns them (each ``(images, classes)``,
    int64)."""

    area_intersect: np.ndarray
    area_union: np.ndarray
    area_pred_label: np.ndarray
    area_label: np.ndarray
    img_names: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        shapes = {np.shape(getattr(self, name)) for name in AREAS}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise ValueError(f'the four areas must be (images, classes) arrays of one shape, '
                             f'got {sorted(shapes)}')
        n, c = next(iter(shapes))
        if self.img_names and len(self.img_names) != n:
            raise ValueError(f'{len(self.img_names)} image names for {n} images')
        if self.class_names and len(self.class_names) != c:
            raise ValueError(f'{len(self.class_names)} class names for {c} classes')

    @classmethod
    def from_images(cls, areas: Sequence[Sequence[object]], img_names: Sequence[str] = (),
                    class_names: Sequence[str] = ()) -> ImageCounts:
        """From one ``(intersect, union, pred, label)`` per image (tensors or
        arrays of ``(classes,)``: mmseg's float32 histograms, whole numbers)."""
        if not len(areas):
            stacked = [np.zeros((0, len(class_names)))] * 4
        else:
            stacked = [np.stack([np.asarray(image[k], np.float64) for image in areas])
                       for k in range(4)]
        return cls(*(np.rint(a).astype(np.int64) for a in stacked),
                   img_names=[str(n) for n in img_names], class_names=list(class_names))

    @property
    def num_images(self) -> int:
        return int(self.area_intersect.shape[0])

    def miou(self) -> float:
        """The dataset mIoU (percent): :func:`miou_from_counts`."""
        return miou_from_counts(self.area_intersect, self.area_union)

    def arrays(self, prefix: str = '') -> dict[str, np.ndarray]:
        """The areas, image and class names as arrays, named as in the file."""
        out = {prefix + name: np.asarray(getattr(self, name), np.int64) for name in AREAS}
        out[prefix + 'img_names'] = np.asarray(self.img_names, dtype=str)
        out[prefix + 'class_names'] = np.asarray(self.class_names, dtype=str)
        return out

    def save(self, path: str | os.PathLike,
             variants: Mapping[str, ImageCounts] | None = None) -> Path:
        """Writes ``per_image_stats.npz`` (compressed, atomically): the arrays
        of :data:`AREAS`, ``img_names`` and ``class_names``; with ``variants``
        (perturbed copies of the same images, e.g. ``'fog/3'``) also
        ``variant_keys`` and ``variant_<area>`` stacked ``(variants, images,
        classes)``."""
        from segkit.utils.io import atomic_save

        arrays = self.arrays()
        if variants:
            arrays['variant_keys'] = np.asarray(list(variants), dtype=str)
            for name in AREAS:
                arrays[f'variant_{name}'] = np.stack(
                    [np.asarray(getattr(v, name), np.int64) for v in variants.values()])

        def write(tmp: Path) -> None:
            with open(tmp, 'wb') as f:
                np.savez_compressed(f, **arrays)

        return atomic_save(path, write, suffix='.npz')

    @classmethod
    def load(cls, path: str | os.PathLike) -> ImageCounts:
        """The counts of a ``per_image_stats.npz`` (its clean images)."""
        with np.load(path) as data:
            return cls(*(data[name] for name in AREAS), img_names=list(data['img_names']),
                       class_names=list(data['class_names']))

    @staticmethod
    def load_variants(path: str | os.PathLike) -> dict[str, ImageCounts]:
        """The perturbed variants a file holds (see :meth:`save`), by key."""
        with np.load(path) as data:
            if 'variant_keys' not in data:
                return {}
            names, classes = list(data['img_names']), list(data['class_names'])
            return {str(key): ImageCounts(*(data[f'variant_{name}'][i] for name in AREAS),
                                          img_names=names, class_names=classes)
                    for i, key in enumerate(data['variant_keys'])}


def resample_weights(num_images: int, resamples: int,
                     rng: np.random.Generator | int = 0) -> np.ndarray:
    """How often each image is drawn in each bootstrap resample: ``(resamples,
    num_images)`` float64, each row summing to ``num_images`` (``n`` draws with
    replacement). Summed counts of every resample are then ``weights @ counts``."""
    if resamples < 1 or num_images < 1:
        raise ValueError(f'need at least one resample and one image, got {resamples} '
                         f'resamples of {num_images} images')
    rng = np.random.default_rng(rng)
    draws = rng.integers(0, num_images, size=(resamples, num_images))
    # NOTE: one bincount over row-offset indices counts every row at once
    offsets = draws + num_images * np.arange(resamples)[:, None]
    return np.bincount(offsets.ravel(), minlength=resamples * num_images).reshape(
        resamples, num_images).astype(np.float64)


def percentile_interval(samples: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """The percentile interval of bootstrap replicates ``(B, ...)``: ``(2, ...)``
    (lower, upper), NaN replicates left out."""
    tail = (1 - level) / 2 * 100
    samples = np.asarray(samples, np.float64)
    if not np.isnan(samples).any():
        return np.percentile(samples, [tail, 100 - tail], axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # an all-NaN column: NaN
        return np.nanpercentile(samples, [tail, 100 - tail], axis=0)


def bootstrap_p_value(differences: np.ndarray) -> float:
    """Two-sided p-value of "no difference" from resampled differences ``(B,)``:
    ``min(1, 2 * (1 + min(#{d <= 0}, #{d >= 0})) / (B + 1))`` (NaN left out;
    see the module docstring). All differences 0 give 1."""
    d = np.asarray(differences, np.float64)
    d = d[~np.isnan(d)]
    if not d.size:
        return math.nan
    tail = min(int((d <= 0).sum()), int((d >= 0).sum()))
    return min(1.0, 2 * (1 + tail) / (d.size + 1))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values, in the order given: the
    ``i``-th smallest is multiplied by ``m - i + 1`` (``m`` tests), made
    monotone, capped at 1. NaN stays NaN and does not count as a test."""
    p = np.asarray(p_values, np.float64)
    out = np.full(p.shape, math.nan)
    index = np.flatnonzero(~np.isnan(p))
    order = index[np.argsort(p[index], kind='stable')]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def verdict(delta: float, p_value: float, higher_is_better: bool = True,
            alpha: float = 1 - LEVEL) -> str:
    """``'better'``, ``'worse'`` or ``'no detectable difference at 95 %'``."""
    if not p_value < alpha or not delta or math.isnan(delta):
        return VERDICTS[2]
    return VERDICTS[0] if (delta > 0) == higher_is_better else VERDICTS[1]


@dataclass
class Resampled:
    """A figure and its bootstrap replicates (``samples``: ``(B,)``, or
    ``(B, C)`` for a per-class figure)."""

    value: float | np.ndarray
    samples: np.ndarray

    def interval(self, level: float = LEVEL) -> np.ndarray:
        return percentile_interval(self.samples, level)

    def apply(self, fn: Callable[..., object], *others: Resampled) -> Resampled:
        """``fn`` of this figure and ``others``, on the values and on the
        replicates (``fn`` works element-wise on arrays)."""
        return Resampled(fn(self.value, *(o.value for o in others)),
                         np.asarray(fn(self.samples, *(o.samples for o in others))))


@dataclass
class Difference:
    """A figure of one model minus the baseline's, paired."""

    delta: float
    ci95: tuple[float, float]
    p_value: float           # Holm-adjusted over the comparisons with the baseline
    p_value_unadjusted: float
    verdict: str


def compare_to_baseline(figures: Mapping[str, Resampled], baseline: str,
                        higher_is_better: bool = True,
                        level: float = LEVEL) -> dict[str, Difference]:
    """Each model's figure minus the baseline's, with the interval of the
    paired replicates and Holm-adjusted p-values over the comparisons.

    Args:
        figures: Per model, a figure resampled with the same image draws
            (:class:`ImageBootstrap`).
        baseline: One of ``figures``.
        higher_is_better: Whether a larger figure is "better" (mIoU, mRR;
            not mCE).

    Raises:
        ValueError: ``baseline`` is not one of ``figures``.
    """
    if baseline not in figures:
        raise ValueError(f'baseline {baseline!r} is not one of the models: '
                         f'{", ".join(figures)}')
    base = figures[baseline]
    others = [name for name in figures if name != baseline]
    deltas = {name: figures[name].apply(np.subtract, base) for name in others}
    raw = [bootstrap_p_value(deltas[name].samples) for name in others]
    adjusted = holm(raw)
    out = {}
    for name, p_raw, p in zip(others, raw, adjusted):
        d = deltas[name]
        lo, hi = percentile_interval(d.samples, level)
        out[name] = Difference(float(d.value), (float(lo), float(hi)), p, p_raw,
                               verdict(float(d.value), p, higher_is_better, 1 - level))
    return out


def _names_match(a: Sequence[str], b: Sequence[str]) -> bool:
    # NOTE: configs may name one data root differently (relative, absolute):
    # the same file names in the same order are the same images
    return list(a) == list(b) or [os.path.basename(x) for x in a] == [
        os.path.basename(x) for x in b]


class ImageBootstrap:
    """Bootstrap replicates of figures computed from per-image counts, with
    one set of image draws for every model (paired) and, for a model trained
    with several seeds, seed draws per model (hierarchical).

        boot = ImageBootstrap(counts_a.img_names, resamples=1000, seed=0)
        a, b = boot.miou([counts_a]), boot.miou([counts_b])
        compare_to_baseline({'a': a, 'b': b}, 'a')['b'].ci95

    Args:
        img_names: The test images, in the order of every count array given later.
        resamples: Bootstrap resamples ``B``.
        seed: Of the random draws (the figures are repeatable).
    """

    def __init__(self, img_names: Sequence[str], resamples: int = 1000, seed: int = 0) -> None:
        self.img_names = list(img_names)
        self.resamples = resamples
        self.rng = np.random.default_rng(seed)
        self.weights = resample_weights(len(self.img_names), resamples, self.rng)

    def check(self, counts: ImageCounts) -> None:
        """Raises ValueError unless ``counts`` are of this bootstrap's images."""
        if counts.img_names and not _names_match(counts.img_names, self.img_names):
            raise ValueError(
                f'models were evaluated on different images ({counts.num_images} images from '
                f'{counts.img_names[0]!r} against {len(self.img_names)} from '
                f'{self.img_names[0]!r}): a paired comparison needs the same test set')
        if counts.num_images != len(self.img_names):
            raise ValueError(f'{counts.num_images} images against {len(self.img_names)}')

    def seed_draws(self, runs: int) -> np.ndarray | None:
        """Which runs (seeds) each resample draws, ``(B, runs)``; None for one run."""
        if runs < 2:
            return None
        return self.rng.integers(0, runs, size=(self.resamples, runs))

    def class_iou(self, runs: Sequence[ImageCounts],
                  draws: np.ndarray | None = None) -> Resampled:
        """Per-class IoU (percent): the mean over runs, ``(C,)``, and its replicates ``(B, C)``.

        Args:
            runs: One model's evaluations of these images (one per seed).
            draws: From :meth:`seed_draws` (for several runs; drawn here if None).
        """
        return self.figures(runs, draws)[1]

    def miou(self, runs: Sequence[ImageCounts], draws: np.ndarray | None = None) -> Resampled:
        """mIoU (percent): the mean over runs and its replicates ``(B,)``
        (each run's mIoU from its resampled counts, then the seed draws)."""
        return self.figures(runs, draws)[0]

    def figures(self, runs: Sequence[ImageCounts],
                draws: np.ndarray | None = None) -> tuple[Resampled, Resampled]:
        """:meth:`miou` and :meth:`class_iou` at once (the counts resampled once)."""
        if len(runs) > 1 and draws is None:
            draws = self.seed_draws(len(runs))
        per_run = [self._class_iou(run) for run in runs]
        miou = Resampled(float(np.mean([mean_iou(v) for v, _ in per_run])),
                         self._over_seeds([mean_iou(s) for _, s in per_run], draws))
        iou = Resampled(_nanmean_stack([v * 100 for v, _ in per_run]),
                        self._over_seeds([s * 100 for _, s in per_run], draws))
        return miou, iou

    def _class_iou(self, counts: ImageCounts) -> tuple[np.ndarray, np.ndarray]:
        """Per-class IoU (fractions) of ``counts`` and of each resample."""
        self.check(counts)
        intersect = np.asarray(counts.area_intersect, np.float64)
        union = np.asarray(counts.area_union, np.float64)
        # NOTE: float64 sums of whole numbers are exact below 2**53 pixels
        return (class_iou(intersect.sum(0), union.sum(0)),
                class_iou(self.weights @ intersect, self.weights @ union))

    def _over_seeds(self, samples: list[np.ndarray], draws: np.ndarray | None) -> np.ndarray:
        if len(samples) == 1:
            return samples[0]
        if draws is None:
            draws = self.seed_draws(len(samples))
        stacked = np.stack(samples)  # (runs, B, ...)
        picked = stacked[draws.T, np.arange(self.resamples)[None, :]]  # (runs drawn, B, ...)
        return _nanmean_stack(picked)


def _nanmean_stack(values: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """The mean over the first axis leaving out NaN (a class absent from one
    run's resample), NaN where every entry is."""
    stacked = np.asarray(values, np.float64)
    valid = ~np.isnan(stacked)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(valid, stacked, 0.0).sum(0) / valid.sum(0)
