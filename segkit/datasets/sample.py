"""The sample dataset in the ADE20K layout (see :mod:`segkit.datasets.sample_data`)."""
from __future__ import annotations

from typing import Any

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .sample_data import SAMPLE_CLASSES, SAMPLE_PALETTE


@DATASETS.register_module()
class SampleDataset(BaseSegDataset):
    """segkit's generated sample scenes, laid out like ADE20K.

    ``images/{training,validation}/*.jpg`` with ``annotations/.../*.png``
    where 0 is "other" and is ignored (``reduce_zero_label=True``), like
    :class:`mmseg.datasets.ADE20KDataset`.
    """

    METAINFO = dict(classes=SAMPLE_CLASSES, palette=SAMPLE_PALETTE)

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True, **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=reduce_zero_label, **kwargs)
