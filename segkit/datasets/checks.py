"""Catch bad samples early, with the file named: a pipeline check and a dataset wrapper."""
from __future__ import annotations

from typing import Any

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import DATASETS, TRANSFORMS

from segkit.errors import BadSampleError

__all__ = ['BadSampleError', 'ValidateSegSample', 'SafeDataset']


@TRANSFORMS.register_module()
class ValidateSegSample(BaseTransform):
    """Checks a loaded sample: label values and label/image sizes.

    Place it right after ``LoadAnnotations``. Label values must be in
    ``[0, num_classes)`` or equal ``ignore_index`` (after
    ``reduce_zero_label``); the label map must have the image's size.

    Args:
        num_classes: Number of classes of the dataset.
        ignore_index: The label value that means "ignore".
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index

    def transform(self, results: dict) -> dict:
        label = results.get('gt_seg_map')
        where = results.get('seg_map_path', '?')
        if label is None:
            raise BadSampleError(f'{where}: no label map was loaded')
        # NOTE: test pipelines resize the image before loading the label, so
        # compare with the image's size as loaded
        size = results.get('ori_shape') or results['img'].shape[:2]
        if tuple(size[:2]) != label.shape[:2]:
            raise BadSampleError(
                f'{where}: label size {label.shape[1]}x{label.shape[0]} differs from image '
                f'{results.get("img_path", "?")} size {size[1]}x{size[0]}')
        values = np.unique(label)
        bad = values[(values >= self.num_classes) & (values != self.ignore_index)]
        if bad.size:
            raise BadSampleError(
                f'{where}: label values {bad[:10].tolist()} outside 0..{self.num_classes - 1} '
                f'(ignore index {self.ignore_index})')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'


@DATASETS.register_module()
class SafeDataset:
    """Wraps a dataset so that a bad sample is named, or skipped and counted.

    ``dict(type='SafeDataset', dataset=dict(type='ADE20KDataset', ...), skip_bad=True)``.
    Without ``skip_bad`` the first sample that fails to load raises
    :class:`BadSampleError` naming its image and label files; with it, the
    next good sample is returned instead and ``bad_samples`` lists the skipped
    indices with their reasons (each one is also logged once).

    Args:
        dataset: The dataset (config or object).
        skip_bad: Skip bad samples instead of stopping.
        max_skip_fraction: Stop anyway when more than this fraction of the
            dataset turned out bad (something is wrong with the data root).
    """

    def __init__(self, dataset: Any, skip_bad: bool = False,
                 max_skip_fraction: float = 0.1) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.skip_bad, self.max_skip_fraction = skip_bad, max_skip_fraction
        self.bad_samples: dict[int, str] = {}

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == 'dataset':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def _describe(self, index: int) -> str:
        try:
            info = self.dataset.get_data_info(index)
            return f'{info.get("img_path", "?")} (label {info.get("seg_map_path", "?")})'
        except Exception:  # noqa: BLE001 - describing must not fail
            return f'sample {index}'

    def __getitem__(self, index: int) -> Any:
        from mmengine.logging import print_log

        for offset in range(len(self.dataset)):
            i = (index + offset) % len(self.dataset)
            if i in self.bad_samples:
                continue
            try:
                return self.dataset[i]
            except Exception as e:  # noqa: BLE001 - any failure of this sample
                reason = ' '.join(str(e).split()) or type(e).__name__
                if not self.skip_bad:
                    raise BadSampleError(f'bad sample {self._describe(i)}: {reason}') from e
                self.bad_samples[i] = reason
                print_log(f'skipping bad sample {self._describe(i)}: {reason} '
                          f'({len(self.bad_samples)} skipped so far)', logger='current',
                          level=30)
                if len(self.bad_samples) > self.max_skip_fraction * len(self.dataset):
                    raise BadSampleError(
                        f'{len(self.bad_samples)} of {len(self.dataset)} samples are bad '
                        f'(more than {self.max_skip_fraction:.0%}); last: {reason}') from e
        raise BadSampleError('every sample of the dataset is bad')
