"""PerImageIoUMetric: mmseg's metrics, and the per-image counts they sum, in a file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from mmseg.evaluation.metrics import IoUMetric

from segkit.evaluation.iou_metric import PerImageIoUMetric
from segkit.evaluation.statistics import AREAS, ImageCounts

CLASSES = ('a', 'b', 'c', 'd')


def _samples(rng: np.random.Generator, count: int) -> list[dict]:
    out = []
    for i in range(count):
        label = torch.from_numpy(rng.integers(0, 3, (1, 12, 10)))  # class 'd' never labelled
        label[0, :2] = 255  # ignored pixels
        pred = torch.where(torch.from_numpy(rng.random((1, 12, 10)) < 0.7), label,
                           torch.from_numpy(rng.integers(0, 3, (1, 12, 10))))
        out.append(dict(pred_sem_seg=dict(data=pred), gt_sem_seg=dict(data=label),
                        img_path=f'/data/val/img_{i}.png'))
    return out


def test_same_metrics_as_mmseg_and_the_counts_they_sum(tmp_path: Path) -> None:
    samples = _samples(np.random.default_rng(0), 5)
    path = tmp_path / 'per_image_stats.npz'
    ours, theirs = PerImageIoUMetric(per_image_stats=path), IoUMetric()
    for metric in (ours, theirs):
        metric.dataset_meta = dict(classes=CLASSES)
        metric.process({}, samples[:3])
        metric.process({}, samples[3:])
    mmseg_areas = [torch.stack(r).numpy() for r in theirs.results]  # before evaluate clears them
    ours_metrics, theirs_metrics = ours.evaluate(5), theirs.evaluate(5)
    assert ours_metrics == pytest.approx(theirs_metrics)
    counts = ImageCounts.load(path)
    assert counts.img_names == [f'/data/val/img_{i}.png' for i in range(5)]
    assert counts.class_names == list(CLASSES)
    for k, name in enumerate(AREAS):
        np.testing.assert_array_equal(getattr(counts, name), np.stack(mmseg_areas)[:, k])
    # the reported mIoU is the file's, exactly before mmseg rounds it (class 'd' NaN)
    assert ours_metrics['mIoU'] == np.round(counts.miou(), 2)
    totals = [torch.from_numpy(getattr(counts, name).sum(0).astype(np.float64)) for name in AREAS]
    unrounded = np.nanmean(IoUMetric.total_area_to_metrics(*totals)['IoU']) * 100
    assert counts.miou() == unrounded


def test_without_a_file() -> None:
    samples = _samples(np.random.default_rng(1), 2)
    metric = PerImageIoUMetric()
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    assert len(metric.results[0]) == 5 and metric.results[0][4].endswith('img_0.png')
    assert metric.evaluate(2)['mIoU'] > 0
