"""The "thing" classes (countable objects, as opposed to stuff) of known datasets.

What object occlusion (``segkit robustness --occluder objects``) covers.
Looked up by a dataset's class names, so a checkpoint's ``dataset_meta``
finds them whatever its dataset type is called:

    >>> from segkit.datasets.sample_data import SAMPLE_CLASSES
    >>> known_things(SAMPLE_CLASSES)
    ('disc', 'box', 'triangle')
"""
from __future__ import annotations

from typing import Sequence

from .sample_data import SAMPLE_CLASSES, THINGS

__all__ = ['ADE20K_THING_IDS', 'CITYSCAPES_THINGS', 'SAMPLE_THINGS', 'dataset_things',
           'known_things']

CITYSCAPES_THINGS = ('person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle')
# the sample data's labels on disk are 1-based (0 is "other")
SAMPLE_THINGS = tuple(SAMPLE_CLASSES[label - 1] for label in THINGS)
# ADE20K (SceneParse150 order, 0-based): the 100 classes that the ADE20K
# panoptic annotations mark as things (the other 50 are stuff), as listed by
# Mask2Former's register_ade20k_panoptic.py; names from mmseg's ADE20KDataset
ADE20K_THING_IDS = (
    7, 8, 10, 12, 14, 15, 18, 19, 20, 22, 23, 24, 27, 30, 31, 32, 33, 35, 36, 37, 38, 39, 41,
    42, 43, 44, 45, 47, 49, 50, 53, 55, 56, 57, 58, 62, 64, 65, 66, 67, 69, 70, 71, 72, 73,
    74, 75, 76, 78, 80, 81, 82, 83, 85, 86, 87, 88, 89, 90, 92, 93, 95, 97, 98, 102, 103,
    104, 107, 108, 110, 111, 112, 115, 116, 118, 119, 120, 121, 123, 124, 125, 126, 127, 129,
    130, 132, 133, 134, 135, 136, 137, 138, 139, 142, 143, 144, 146, 147, 148, 149)


def dataset_things() -> dict[str, tuple[str, ...]]:
    """The thing class names of each known dataset, by mmseg dataset type."""
    from mmseg.datasets import ADE20KDataset

    ade20k = ADE20KDataset.METAINFO['classes']
    return {'CityscapesDataset': CITYSCAPES_THINGS, 'SampleDataset': SAMPLE_THINGS,
            'ADE20KDataset': tuple(ade20k[i] for i in ADE20K_THING_IDS)}


def known_things(classes: Sequence[str]) -> tuple[str, ...] | None:
    """The thing names of the first known dataset whose things are all among
    ``classes`` (in its order), or None when no known dataset fits."""
    for things in dataset_things().values():
        if set(things) <= set(classes):
            return things
    return None
