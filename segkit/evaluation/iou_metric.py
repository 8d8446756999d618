"""mmseg's IoU metric that also keeps what it counted, image by image.

``segkit test --work-dir W`` evaluates with :class:`PerImageIoUMetric` in
place of mmseg's ``IoUMetric``: the same per-image intersections and unions
(mmseg's ``intersect_and_union``), the same formulas and printed table, and
``W/per_image_stats.npz`` (:class:`~segkit.evaluation.statistics.ImageCounts`)
from which every later statistic (intervals, paired comparisons) is computed.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS

from .statistics import ImageCounts

__all__ = ['PerImageIoUMetric']


@METRICS.register_module()
class PerImageIoUMetric(IoUMetric):
    """``IoUMetric`` that writes the per-image counts it sums.

    Each entry of ``self.results`` is mmseg's 4-tuple of ``(num_classes,)``
    areas plus the image's path, so the names travel with the counts when
    mmengine gathers the entries of every rank (distributed evaluation keeps
    dataset order and drops the padding).

    NOTE: the totals are summed in float64 (exact for any dataset), where
    mmseg 1.2.2 sums float32 histograms (exact up to 2**24 pixels of a class
    in all); the formulas and the table are mmseg's. So the mIoU recomputed
    from the file (:func:`~segkit.evaluation.statistics.miou_from_counts`)
    equals the reported one exactly, before mmseg rounds it to 2 decimals.

    Args:
        per_image_stats: The ``.npz`` file to write (on the main process);
            None writes nothing.
        **kwargs: As ``IoUMetric``.
    """

    def __init__(self, per_image_stats: str | os.PathLike | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.per_image_stats = per_image_stats

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """As ``IoUMetric.process``, each image's path added to its entry."""
        before = len(self.results)
        super().process(data_batch, data_samples)
        added = self.results[before:]
        if self.format_only or not added:
            return
        names = [sample.get('img_path', '') for sample in data_samples]
        self.results[before:] = [(*areas, name) for areas, name in zip(added, names, strict=True)]

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Writes the per-image file, then mmseg's metrics of the exact totals."""
        if self.format_only:
            return super().compute_metrics(results)
        counts = ImageCounts.from_images([r[:4] for r in results], [r[4] for r in results],
                                         self.dataset_meta['classes'])
        if self.per_image_stats:
            counts.save(self.per_image_stats)
        # one entry holding the exact totals: mmseg "sums" it and goes on as ever
        totals = tuple(torch.from_numpy(np.asarray(getattr(counts, name).sum(0), np.float64))
                       for name in ('area_intersect', 'area_union', 'area_pred_label',
                                    'area_label'))
        return super().compute_metrics([totals])
