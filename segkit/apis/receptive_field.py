"""What trained segmentors look at: effective receptive field and occlusion
sensitivity of the centre pixel, side by side (``segkit receptive-field``).

Luo et al., "Understanding the Effective Receptive Field in Deep
Convolutional Neural Networks", NeurIPS 2016 (the gradient map); Zeiler &
Fergus, ECCV 2014 (occlusion sensitivity).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ['dataset_images', 'receptive_fields']


def dataset_images(model: Any, count: int) -> list[np.ndarray]:
    """The first ``count`` images of ``model``'s config's test set, as loaded
    (BGR, HWC), after checking that its data is there."""
    from mmseg.registry import DATASETS

    from .runner import check_data_roots

    check_data_roots(model.cfg, ('test',))
    dataset = dict(model.cfg.test_dataloader.dataset, pipeline=[dict(type='LoadImageFromFile')])
    dataset = DATASETS.build(dataset)
    return [dataset[i]['img'] for i in range(min(count, len(dataset)))]


def receptive_fields(pairs: Sequence[tuple[str, str]], out_dir: str | os.PathLike,
                     images: str | os.PathLike | None = None, max_images: int = 8,
                     patch: int = 16, stride: int = 8, device: str = 'cpu') -> str:
    """Each (config, checkpoint) pair's receptive field, averaged over
    ``images`` (a folder or a list file; default each config's test set, at
    most ``max_images``); writes receptive_field.{md,json,png} (one column
    per model) to ``out_dir`` and returns the Markdown."""
    from segkit.evaluation.receptive_field import (receptive_field_of,
                                                   write_receptive_field_report)

    from .inference import list_inputs, load_segmentor, read_image

    files = list_inputs(images)[1][:max_images] if images else None
    results = {}
    for config, checkpoint in pairs:
        model = load_segmentor(config, checkpoint, device)
        loaded = ([read_image(f) for f in files] if files is not None
                  else dataset_images(model, max_images))
        results[Path(config).stem] = receptive_field_of(model, loaded, patch, stride)
    return write_receptive_field_report(results, out_dir)
