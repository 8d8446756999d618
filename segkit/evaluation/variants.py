"""Variant evaluation: mIoU of a segmentor on perturbed copies of its test set.

The engine under the occlusion and corruption studies
(:mod:`.occlusion_benchmark`, :mod:`.corruption_benchmark`). The contract:

* a study gives a *perturb* function: one loaded test item (``img`` BGR
  uint8 (H, W, 3), ``gt_seg_map`` (H, W), ``img_path``) -> a list of
  :data:`Variant` ``(key, image, mask)``: ``key`` names the variant (the
  same keys for every image), ``image`` is what the model segments, at the
  item's size, and ``mask`` a boolean (H, W) of the pixels covered, or None
  when nothing is covered (corruptions);
* :func:`evaluate_variants` segments every variant of every test image
  (perturbing in data-loader workers while the model runs) and accumulates,
  per key, :class:`RegionStats` for ``'all'`` labelled pixels and, where a
  mask is given, the ``'occluded'`` and ``'visible'`` ones; the ``'all'``
  statistics keep every image's counts (:meth:`RegionStats.counts`), for
  intervals and paired comparisons (:mod:`.statistics`);
* labels are never perturbed; predictions are upsampled to the label's size.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .predict import labels_at, predict_logits, test_pipeline
from .segmentor import Segmentor
from .statistics import ImageCounts, miou_from_counts

__all__ = ['REGIONS', 'PerturbedDataset', 'RegionStats', 'Variant', 'as_is',
           'evaluate_variants', 'labelled_dataset']

REGIONS = ('all', 'occluded', 'visible')

Variant = tuple[object, np.ndarray, 'np.ndarray | None']  # key, image, covered mask


class RegionStats:
    """Running per-class intersection / union for one region of the images
    (the four areas of mmseg's ``intersect_and_union``, summed in ``areas``;
    with ``per_image``, also kept image by image)."""

    def __init__(self, num_classes: int, ignore_index: int = 255,
                 per_image: bool = False) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.areas = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
        self.per_image = per_image
        self.images: list[np.ndarray] = []  # (4, num_classes) int64 per image
        self.img_names: list[str] = []

    def update(self, pred: np.ndarray, label: np.ndarray, region: np.ndarray | None,
               name: str = '') -> None:
        """Adds one image (named ``name``); ``region`` (boolean, the label's
        shape) limits the pixels counted (None: all)."""
        from mmseg.evaluation.metrics import IoUMetric

        label = label.copy()
        if region is not None:
            label[~region] = self.ignore_index
        areas = IoUMetric.intersect_and_union(torch.from_numpy(pred.astype(np.int64)),
                                              torch.from_numpy(label.astype(np.int64)),
                                              self.num_classes, self.ignore_index)
        for total, area in zip(self.areas, areas):
            total += area.double()
        if self.per_image:
            self.images.append(np.rint(torch.stack(areas).double().numpy()).astype(np.int64))
            self.img_names.append(str(name))

    def miou(self) -> float:
        """Mean IoU (percent) over the classes present in labels or predictions
        (:func:`~segkit.evaluation.statistics.miou_from_counts`, mmseg's figure)."""
        return miou_from_counts(self.areas[0].numpy()[None], self.areas[1].numpy()[None])

    def counts(self, class_names: Sequence[str] = ()) -> ImageCounts:
        """The per-image counts (``per_image`` statistics only).

        Raises:
            ValueError: the statistics were not kept per image.
        """
        if not self.per_image:
            raise ValueError('these region statistics were not kept per image')
        stacked = (np.stack(self.images) if self.images
                   else np.zeros((0, 4, self.num_classes), np.int64))
        return ImageCounts(*(stacked[:, k] for k in range(4)), img_names=list(self.img_names),
                           class_names=list(class_names))


def labelled_dataset(cfg: Any) -> Any:
    """The test set of a config, loading images (BGR) and labels only: the
    loading steps of its test pipeline (``LoadImageFromFile``, and
    ``LoadAnnotations`` with its ``reduce_zero_label``, or a dataset's own
    label loading such as colour masks), without its resizing and packing."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    init_default_scope(cfg.get('default_scope', 'mmseg'))

    dataset_cfg = dict(cfg.test_dataloader.dataset)
    pipeline = dataset_cfg.get('pipeline') or cfg.get('test_pipeline') or []
    loading = [dict(t) for t in pipeline if 'Load' in str(t.get('type', ''))]
    if not any('Image' in t['type'] for t in loading):
        loading.insert(0, dict(type='LoadImageFromFile'))
    if not any('Annotation' in t['type'] for t in loading):
        loading.append(dict(type='LoadAnnotations'))
    dataset_cfg['pipeline'] = loading
    return DATASETS.build(dataset_cfg)


def as_is(batch: object) -> object:
    """The identity collate of a data loader that yields items one by one
    (``batch_size=None``); a module-level function, so workers can pickle it."""
    return batch


class PerturbedDataset(torch.utils.data.Dataset):
    """The first ``count`` labelled images, each with its perturbed variants,
    made where the data loader runs this (its worker processes), timed:
    items are ``(label, variants, seconds spent perturbing, image path)``."""

    def __init__(self, dataset: Any, count: int,
                 perturb: Callable[[dict], list[Variant]]) -> None:
        self.dataset, self.count, self.perturb = dataset, count, perturb

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[np.ndarray, list[Variant], float, str]:
        item = self.dataset[index]
        start = time.perf_counter()
        variants = self.perturb(item)
        return item['gt_seg_map'], variants, time.perf_counter() - start, item['img_path']


def evaluate_variants(model: Segmentor, perturb: Callable[[dict], list[Variant]],
                      max_images: int | None = None, workers: int = 0,
                      progress: bool = True, desc: str = 'robustness'
                      ) -> tuple[dict[object, dict[str, RegionStats]], dict[object, list[float]],
                                 dict[str, float]]:
    """Segments every variant ``perturb`` makes of each test image.

    Args:
        model: Its config's test set is evaluated (a PyTorch segmentor from
            :func:`segkit.apis.inference.load_segmentor`, or an ONNX one).
        perturb: Loaded item -> its variants (see the module docstring);
            picklable when ``workers`` > 0.
        max_images: Only the first N test images.
        workers: Data-loader processes making the variants while the model runs.
        progress: Show a progress bar, labelled ``desc``.

    Returns:
        Per key the region statistics (all / occluded / visible; ``'all'``
        kept per image, :meth:`RegionStats.counts`), per key the covered
        fraction of each image (keys with masks only), and where the time
        went (seconds making variants, summed over workers, and predicting).
    """
    from tqdm import tqdm

    dataset = labelled_dataset(model.cfg)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    loader = torch.utils.data.DataLoader(PerturbedDataset(dataset, count, perturb),
                                         batch_size=None, num_workers=workers, collate_fn=as_is)
    num_classes = len(model.dataset_meta['classes'])
    stats: dict[object, dict[str, RegionStats]] = {}
    covered: dict[object, list[float]] = {}
    pipeline = test_pipeline(model)
    seconds = {'perturbing': 0.0, 'predicting': 0.0}
    for label, variants, spent, name in tqdm(loader, total=count, desc=desc, unit='img',
                                             disable=not progress):
        seconds['perturbing'] += spent
        start = time.perf_counter()
        for key, image, mask in variants:
            probs = predict_logits(model, [image], pipeline=pipeline)[0]
            pred = labels_at(probs, label.shape[:2])
            regions = stats.setdefault(key, {r: RegionStats(num_classes, per_image=r == 'all')
                                             for r in REGIONS})
            regions['all'].update(pred, label, None, name)
            if mask is not None:
                regions['occluded'].update(pred, label, mask)
                regions['visible'].update(pred, label, ~mask)
                covered.setdefault(key, []).append(float(mask.mean()))
        seconds['predicting'] += time.perf_counter() - start
    return stats, covered, seconds
