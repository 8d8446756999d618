"""Making datasets on disk: the sample data, Cityscapes train-id labels, a
test set's corrupted copy (``segkit make-sample-data``,
``convert-cityscapes``, ``make-corrupted-dataset``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

# what the sample-data and Cityscapes commands call, as the datasets package has them
from segkit.datasets.cityscapes_converter import convert_cityscapes
from segkit.datasets.sample_data import make_sample_data

__all__ = ['convert_cityscapes', 'make_corrupted_dataset', 'make_sample_data']


def make_corrupted_dataset(config: str | os.PathLike, out: str | os.PathLike,
                           corruptions: Sequence[str] = ('benchmark',),
                           severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                           max_images: int | None = None,
                           workers: int = 0) -> tuple[Path, list[str], list[int]]:
    """Writes ``config``'s test set, corrupted, under ``out`` (see
    :func:`segkit.evaluation.corrupted_dataset.write_corrupted_dataset`);
    returns the dataset's root, the corruptions and the severities.

    Raises:
        ValueError: a bad corruption name or severity (before anything is read).
        DataNotFoundError: the config's test data is missing.
    """
    from segkit.evaluation.corrupted_dataset import write_corrupted_dataset
    from segkit.evaluation.corruptions import check_severities, corruption_names

    from .runner import check_data_roots, load_config

    severities = check_severities(severities)
    names = corruption_names(corruptions)
    cfg = load_config(config)
    check_data_roots(cfg, ('test',))
    root = write_corrupted_dataset(cfg, out, names, severities, seed, max_images, workers)
    return root, names, severities
