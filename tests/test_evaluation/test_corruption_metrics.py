"""CE / mCE / relative mCE / mRR against hand computations on made-up tables."""
from __future__ import annotations

import math

import pytest

from segkit.evaluation import corruption_errors, relative_robustness

MODEL = {'fog': {1: 70.0, 2: 60.0}, 'snow': {1: 50.0, 2: 40.0}}
BASE = {'fog': {1: 60.0, 2: 50.0}, 'snow': {1: 50.0, 2: 30.0}}


def test_relative_robustness_by_hand() -> None:
    rr, mrr = relative_robustness(MODEL, clean=80.0)
    assert rr == pytest.approx({'fog': 100 * 65 / 80, 'snow': 100 * 45 / 80})
    assert mrr == pytest.approx((81.25 + 56.25) / 2)


def test_corruption_errors_by_hand() -> None:
    result = corruption_errors(MODEL, 80.0, BASE, 75.0)
    # CE_fog = (30 + 40) / (40 + 50); CE_snow = (50 + 60) / (50 + 70)
    assert result['CE'] == pytest.approx({'fog': 100 * 70 / 90, 'snow': 100 * 110 / 120})
    assert result['mCE'] == pytest.approx((100 * 70 / 90 + 100 * 110 / 120) / 2)
    # rCE_fog = ((30-20) + (40-20)) / ((40-25) + (50-25)); snow: (30 + 40) / (25 + 45)
    assert result['rCE'] == pytest.approx({'fog': 100 * 30 / 40, 'snow': 100 * 70 / 70})
    assert result['relative_mCE'] == pytest.approx(87.5)


def test_the_baseline_against_itself_is_100() -> None:
    result = corruption_errors(BASE, 75.0, BASE, 75.0)
    assert result['mCE'] == pytest.approx(100.0) and result['relative_mCE'] == pytest.approx(100.0)
    assert all(v == pytest.approx(100.0) for v in result['CE'].values())


def test_no_degradation_and_missing_severities() -> None:
    flat = {'fog': {1: 75.0}}
    assert math.isnan(corruption_errors(flat, 80.0, flat, 75.0)['rCE']['fog'])
    with pytest.raises(ValueError, match=r'the baseline has no snow at severities \[2\]'):
        corruption_errors({'snow': {1: 1.0, 2: 2.0}}, 80.0, {'snow': {1: 1.0}}, 75.0)
