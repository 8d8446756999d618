"""The figures of a comparison from per-image counts (synthetic): mRR and mCE
as the corruption formulas give them, intervals, paired differences, reports."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from segkit.evaluation.corruption_benchmark import CorruptionResult, write_corruption_report
from segkit.evaluation.corruption_metrics import corruption_errors, relative_robustness
from segkit.evaluation.significance import RunCounts, significance
from segkit.evaluation.statistics import ImageCounts
from tests.helpers import markdown_rows

NAMES = [f'{i}.png' for i in range(40)]
CLASSES = ['a', 'b', 'c']


def _counts(rng: np.random.Generator, hit: float) -> ImageCounts:
    label = rng.poisson(100, (40, 3))
    intersect = rng.binomial(label, hit)
    false = rng.poisson(20, (40, 3))
    return ImageCounts(intersect, label + false, intersect + false, label, NAMES, CLASSES)


def _run(seed: int, hit: float) -> RunCounts:
    rng = np.random.default_rng(seed)
    return RunCounts(_counts(rng, hit), occluded={20.0: _counts(rng, hit - 0.2)},
                     corrupted={'fog': {1: _counts(rng, hit - 0.1), 3: _counts(rng, hit - 0.3)}})


def test_figures_are_the_reports_formulas_with_intervals() -> None:
    models = {'base': [_run(0, 0.8)], 'other': [_run(1, 0.7)]}
    stats = significance(models, 'base', resamples=300)
    for name, (run,) in models.items():
        table = {'fog': {s: c.miou() for s, c in run.corrupted['fog'].items()}}
        assert stats[name]['clean_mIoU'] == run.clean.miou()
        assert stats[name]['occluded_mIoU'] == run.occluded[20.0].miou()
        assert stats[name]['mRR'] == pytest.approx(relative_robustness(table,
                                                                       run.clean.miou())[1])
        lo, hi = stats[name]['mRR_ci95']
        assert lo < stats[name]['mRR'] < hi
    base_table = {'fog': {s: c.miou() for s, c in models['base'][0].corrupted['fog'].items()}}
    other_table = {'fog': {s: c.miou() for s, c in models['other'][0].corrupted['fog'].items()}}
    assert stats['other']['mCE'] == pytest.approx(corruption_errors(
        other_table, models['other'][0].clean.miou(), base_table,
        models['base'][0].clean.miou())['mCE'])
    assert stats['base']['mCE'] == 100 and stats['base']['mCE_ci95'] == [100, 100]
    other = stats['other']
    assert other['delta_clean_mIoU'] < 0 and other['verdict'] == 'worse'
    assert other['delta_ci95'] == other['delta_clean_mIoU_ci95']
    assert other['mCE_verdict'] == 'worse'  # more error than the baseline
    assert [c['class'] for c in other['per_class']] == CLASSES
    assert all(c['clear'] and c['delta'] < 0 for c in other['per_class'])
    assert 'per_class' not in stats['base'] and stats['base']['seeds'] == 1


def test_seeds_pool_and_bad_input() -> None:
    stats = significance({'base': [_run(0, 0.8)], 'three': [_run(s, 0.8) for s in (1, 2, 3)]},
                         resamples=200)
    three = stats['three']
    assert three['seeds'] == 3 and three['seed_std'] > 0 and three['baseline'] == 'base'
    assert three['clean_mIoU'] == pytest.approx(np.mean(
        [_run(s, 0.8).clean.miou() for s in (1, 2, 3)]))
    with pytest.raises(ValueError, match='other perturbations'):
        significance({'a': [_run(0, 0.8)], 'b': [RunCounts(_run(1, 0.8).clean)]})
    with pytest.raises(ValueError, match="baseline 'c' is not one of the models"):
        significance({'a': [_run(0, 0.8)]}, 'c')


def test_corruption_report_with_counts(tmp_path: Path) -> None:
    results = {}
    for name, hit in (('a', 0.8), ('b', 0.8)):
        run = _run(0, hit)  # the same counts: no difference
        table = {'fog': {s: c.miou() for s, c in run.corrupted['fog'].items()}}
        counts = {'clean': run.clean, **{('fog', s): c for s, c in run.corrupted['fog'].items()}}
        results[name] = CorruptionResult(run.clean.miou(), table, {}, counts)
    text = write_corruption_report(results, tmp_path, 'a', bootstrap=100)
    rows = markdown_rows(text)
    assert rows[0][1] == 'clean mIoU [95 % CI]' and ' [' in rows[1][1]
    assert rows[-1][0] == 'b' and rows[-1][-1] == 'no detectable difference at 95 %'
    assert 'Holm-adjusted' in text and 'seed-to-seed variation is not included' in text
    assert (tmp_path / 'corruption_forest.png').read_bytes()[:4] == b'\x89PNG'
    saved = ImageCounts.load_variants(tmp_path / 'per_image_stats' / 'b.npz')
    assert sorted(saved) == ['fog/1', 'fog/3']
    assert math.isclose(saved['fog/3'].miou(), results['b'].table['fog'][3])
