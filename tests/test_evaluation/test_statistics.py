"""The image bootstrap and paired comparisons on synthetic counts whose truth is known."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from segkit.evaluation.statistics import (AREAS, ImageBootstrap, ImageCounts, bootstrap_p_value,
                                          compare_to_baseline, holm, mean_iou, miou_from_counts,
                                          percentile_interval, resample_weights)

NAMES = [f'img_{i:03d}.png' for i in range(100)]


def _counts(rng: np.random.Generator, n: int = 100, classes: int = 4,
            hit: float = 0.8) -> ImageCounts:
    label = rng.poisson(200, (n, classes)) * (rng.random((n, classes)) < 0.7)
    intersect = rng.binomial(label, hit)
    false = rng.poisson(30, (n, classes))
    return ImageCounts(intersect, label + false, intersect + false, label,
                       img_names=NAMES[:n], class_names=[f'c{k}' for k in range(classes)])


def test_miou_from_counts_is_mmsegs_figure_bit_for_bit() -> None:
    """The same formula as mmseg's IoUMetric on the same totals, classes
    with no union (class 2 here) left out, not a mean of per-image IoUs."""
    from mmseg.evaluation.metrics import IoUMetric

    intersect = np.array([[5, 0, 0, 1], [2, 3, 0, 0]])
    union = np.array([[9, 4, 0, 1], [2, 7, 0, 3]])
    label = np.array([[6, 1, 0, 1], [2, 6, 0, 3]])
    ours = miou_from_counts(intersect, union)
    assert ours == pytest.approx((7 / 11 + 3 / 11 + 1 / 4) / 3 * 100, rel=1e-12)
    totals = [torch.from_numpy(a.sum(0).astype(np.float64))
              for a in (intersect, union, union - label + intersect, label)]
    mmseg = IoUMetric.total_area_to_metrics(*totals, ['mIoU'])
    assert ours == np.nanmean(mmseg['IoU']) * 100  # exactly
    assert math.isnan(mean_iou(np.full(3, np.nan)))


def test_identical_models_differ_by_exactly_nothing() -> None:
    counts = _counts(np.random.default_rng(0))
    boot = ImageBootstrap(counts.img_names, resamples=500, seed=1)
    twin = ImageCounts(*(getattr(counts, a).copy() for a in AREAS), img_names=NAMES)
    a, b = boot.miou([counts]), boot.miou([twin])
    diff = compare_to_baseline({'a': a, 'b': b}, 'a')['b']
    assert diff.delta == 0 and diff.ci95 == (0.0, 0.0)
    assert diff.p_value == 1 and diff.p_value_unadjusted == 1
    assert diff.verdict == 'no detectable difference at 95 %'
    lo, hi = a.interval()
    assert lo < a.value < hi and a.value == counts.miou()


def test_better_on_every_image_by_a_fixed_margin_is_better() -> None:
    base = _counts(np.random.default_rng(2), hit=0.6)
    gain = np.minimum(base.area_intersect + 5, base.area_label)  # 5 more pixels right
    better = ImageCounts(gain, base.area_union - (gain - base.area_intersect),
                         base.area_pred_label, base.area_label, img_names=NAMES)
    boot = ImageBootstrap(NAMES, resamples=999, seed=0)
    figures = {'base': boot.miou([base]), 'better': boot.miou([better])}
    diff = compare_to_baseline(figures, 'base')['better']
    assert diff.delta > 0 and diff.ci95[0] > 0
    assert diff.p_value_unadjusted == 2 / 1000  # every resample on one side
    assert diff.verdict == 'better'
    assert compare_to_baseline(figures, 'better')['base'].verdict == 'worse'
    # mCE-like figures: lower is better
    assert compare_to_baseline(figures, 'base', higher_is_better=False)['better'].verdict == \
        'worse'


# the population behind the coverage test: per image a difficulty h ~ Beta(4, 2)
# shared by both models (their errors are correlated), per class a label area
# Poisson(lam) present with probability pi, intersections Binomial(label, q h),
# false positives Poisson(mu (1 - h)); so the population IoU of a class is
# pi lam q E[h] / (pi lam + mu (1 - E[h])), and the true mIoU difference is known
LAM = np.array([400., 300., 200., 100.])
PI = np.array([0.9, 0.7, 0.5, 0.3])
MODELS = {'a': (np.array([0.9, 0.8, 0.6, 0.5]), np.array([60., 50., 40., 30.])),
          'b': (np.array([0.92, 0.8, 0.65, 0.5]), np.array([50., 50., 40., 35.]))}
EH = 4 / 6


def _population_miou(q: np.ndarray, mu: np.ndarray) -> float:
    return float(np.mean(PI * LAM * q * EH / (PI * LAM + mu * (1 - EH))) * 100)


def _test_set(rng: np.random.Generator, n: int = 100) -> dict[str, ImageCounts]:
    h = rng.beta(4, 2, (n, 1))
    label = rng.poisson(LAM, (n, 4)) * (rng.random((n, 4)) < PI)
    out = {}
    for name, (q, mu) in MODELS.items():
        intersect = rng.binomial(label, q * h)
        false = rng.poisson(mu * (1 - h))
        out[name] = ImageCounts(intersect, label + false, intersect + false, label)
    return out


def test_intervals_cover_the_truth_95_percent_of_the_time() -> None:
    """1,000 simulated test sets of 100 images, 500 resamples each. The
    bounds: a coverage anywhere in [0.93, 0.97] gives at least 902 and at
    most 986 covers but once in 2,000 runs on each side (binomial quantiles:
    scipy.stats.binom.ppf(0.0005, 1000, 0.93) = 902, binom.isf(0.0005, 1000,
    0.97) = 986), so the test fails by chance at most once in 1,000. (The
    percentile interval covers about 94 % here: 0.942 in 4,000 sets of
    1,000 resamples.) Unpaired draws (about 100 %) or a 90 % interval
    (about 89 %) fail it."""
    truth_a = _population_miou(*MODELS['a'])
    truth_diff = _population_miou(*MODELS['b']) - truth_a
    rng = np.random.default_rng(20261207)
    runs, covers_diff, covers_a = 1000, 0, 0
    for run in range(runs):
        sets = _test_set(rng)
        boot = ImageBootstrap(NAMES, resamples=500, seed=run)
        figures = {name: boot.miou([counts]) for name, counts in sets.items()}
        lo, hi = compare_to_baseline(figures, 'a')['b'].ci95
        covers_diff += lo <= truth_diff <= hi
        lo, hi = figures['a'].interval()
        covers_a += lo <= truth_a <= hi
    assert 902 <= covers_diff <= 986, covers_diff / runs
    assert 902 <= covers_a <= 986, covers_a / runs


def test_paired_interval_is_narrower_when_errors_are_correlated() -> None:
    sets = _test_set(np.random.default_rng(5))
    paired = ImageBootstrap(NAMES, resamples=1000, seed=0)
    a, b = paired.miou([sets['a']]), paired.miou([sets['b']])
    width_paired = np.subtract(*compare_to_baseline({'a': a, 'b': b}, 'a')['b'].ci95[::-1])
    # unpaired: each model's images drawn on their own
    other = ImageBootstrap(NAMES, resamples=1000, seed=1).miou([sets['b']])
    lo, hi = percentile_interval(other.samples - a.samples)
    assert width_paired < 0.5 * (hi - lo)


def test_seeds_add_their_own_spread() -> None:
    """Three runs of one config, each 1 point apart: the hierarchical
    interval (seeds, then images) is wider than one run's image interval
    and centred on the mean over seeds; identical runs give one run's figure."""
    rng = np.random.default_rng(3)
    base = _counts(rng)
    runs = []
    for shift in (-1, 0, 1):
        gain = np.clip(base.area_intersect + shift * 6, 0, base.area_label)
        runs.append(ImageCounts(gain, base.area_union - (gain - base.area_intersect),
                                base.area_pred_label, base.area_label, img_names=NAMES))
    boot = ImageBootstrap(NAMES, resamples=1000, seed=0)
    one = boot.miou(runs[1:2])
    pooled = boot.miou(runs)
    assert pooled.value == pytest.approx(np.mean([r.miou() for r in runs]))
    assert np.ptp(pooled.interval()) > 1.5 * np.ptp(one.interval())
    assert boot.seed_draws(1) is None and boot.seed_draws(3).shape == (1000, 3)
    same = boot.miou([runs[1]] * 3)
    np.testing.assert_allclose(same.samples, one.samples, rtol=1e-12)
    per_class = boot.class_iou(runs)
    assert per_class.value.shape == (4,) and per_class.samples.shape == (1000, 4)


def test_p_values_and_holm() -> None:
    assert bootstrap_p_value(np.zeros(999)) == 1
    assert bootstrap_p_value(np.ones(999)) == 2 / 1000
    assert bootstrap_p_value(np.r_[-np.ones(100), np.ones(899)]) == pytest.approx(202 / 1000)
    # sorted 0.01 (x3), 0.03 (x2), 0.04 (x1), made monotone
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, math.nan]) == [0.5, pytest.approx(math.nan, nan_ok=True)]
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9]) and holm([0.6, 0.9]) == [1.0, 1.0]


def test_resample_weights_and_bad_input() -> None:
    weights = resample_weights(7, 50, 0)
    assert weights.shape == (50, 7) and (weights.sum(1) == 7).all()
    np.testing.assert_array_equal(weights, resample_weights(7, 50, 0))  # seeded
    with pytest.raises(ValueError, match='at least one resample'):
        resample_weights(0, 10)
    with pytest.raises(ValueError, match='one shape'):
        ImageCounts(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 3)), np.zeros((2, 3)))
    counts = _counts(np.random.default_rng(0), n=10)
    with pytest.raises(ValueError, match='different images'):
        ImageBootstrap(NAMES[10:20]).miou([counts])
    with pytest.raises(ValueError, match="baseline 'z' is not one of the models: a"):
        compare_to_baseline({'a': ImageBootstrap(NAMES[:10]).miou([counts])}, 'z')


def test_counts_file_round_trip(tmp_path: Path) -> None:
    counts = _counts(np.random.default_rng(0), n=5)
    fog = _counts(np.random.default_rng(1), n=5)
    path = counts.save(tmp_path / 'per_image_stats.npz', variants={'fog/3': fog})
    with np.load(path) as data:
        assert set(data) >= {*AREAS, 'img_names', 'class_names', 'variant_keys'}
        assert data['area_intersect'].shape == (5, 4) and data['area_union'].dtype == np.int64
    again = ImageCounts.load(path)
    assert again.img_names == NAMES[:5] and again.class_names == counts.class_names
    assert again.miou() == counts.miou()
    variants = ImageCounts.load_variants(path)
    assert list(variants) == ['fog/3'] and variants['fog/3'].miou() == fog.miou()
    assert not list(tmp_path.glob('.*'))  # written atomically, nothing left behind
