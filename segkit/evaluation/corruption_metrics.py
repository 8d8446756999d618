"""Robustness to common corruptions as the literature reports it.

Hendrycks, Dietterich, ICLR 2019 (ImageNet-C): for corruption c with error
E = 1 - mIoU at severities s,

    CE_c  = sum_s E_{s,c} / sum_s E^baseline_{s,c}          mCE = mean_c CE_c
    rCE_c = sum_s (E_{s,c} - E_clean) / sum_s (E^baseline_{s,c} - E^baseline_clean)
                                                            relative mCE = mean_c rCE_c

and, as in Kamann & Rother (CVPR 2020) for segmentation, the relative
robustness RR_c = mean_s mIoU_{s,c} / clean mIoU, mRR = mean_c RR_c. All
figures are percentages: the baseline's own mCE is 100.

The mIoU figures may also be arrays of one shape (bootstrap replicates,
:mod:`.statistics`): every formula then applies element-wise.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ['Table', 'corruption_errors', 'relative_robustness']

Table = dict[str, dict[int, float]]  # corruption -> severity -> mIoU (percent, or arrays)


def _figure(value: np.ndarray) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else value


def _mean(values: Iterable[object]) -> float | np.ndarray:
    """The mean of figures (numbers, or arrays element-wise)."""
    return _figure(np.mean(np.stack([np.asarray(v, np.float64) for v in values]), axis=0))


def _percent(part: object, whole: object) -> float | np.ndarray:
    """100 * part / whole; NaN where ``whole`` is 0."""
    part, whole = np.asarray(part, np.float64), np.asarray(whole, np.float64)
    # NOTE: the ratio first, so a model against itself is 100 exactly
    with np.errstate(divide='ignore', invalid='ignore'):
        return _figure(np.where(whole != 0, 100 * (part / whole), np.nan))


def relative_robustness(table: Table, clean: float) -> tuple[dict[str, float], float]:
    """(RR_c per corruption, mRR), in percent."""
    rr = {name: _percent(_mean(per.values()), clean) for name, per in table.items()}
    return rr, _mean(rr.values())


def corruption_errors(table: Table, clean: float, baseline: Table,
                      baseline_clean: float) -> dict[str, object]:
    """CE_c, mCE, rCE_c and relative mCE of ``table`` against ``baseline`` (percent).

    Raises:
        ValueError: the baseline lacks a corruption or severity of ``table``.
    """
    ce, rce = {}, {}
    for name, per in table.items():
        base = baseline.get(name, {})
        if set(per) - set(base):
            raise ValueError(f'the baseline has no {name} at severities '
                             f'{sorted(set(per) - set(base))}')
        error = sum(100 - v for v in per.values())
        base_error = sum(100 - base[s] for s in per)
        ce[name] = _percent(error, base_error)
        degradation = sum((100 - v) - (100 - clean) for v in per.values())
        base_degradation = sum((100 - base[s]) - (100 - baseline_clean) for s in per)
        rce[name] = _percent(degradation, base_degradation)
    return dict(CE=ce, mCE=_mean(ce.values()), rCE=rce, relative_mCE=_mean(rce.values()))
