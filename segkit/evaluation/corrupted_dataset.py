"""A corrupted copy of a test set on disk, in the layout others share.

    <out>/<dataset>-c/<corruption>/<severity>/<the dataset's own layout>

Images are the on-the-fly ones of :mod:`.corruption_benchmark` (the same
seeds), saved as PNG (lossless, so evaluating the copy gives the on-the-fly
mIoU); labels are copied beside them. Every file is written atomically and
existing ones are kept, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import torch

from segkit.utils.io import atomic_save, atomic_write_bytes, atomic_write_text

from .corruption_benchmark import Corrupter
from .variants import as_is, labelled_dataset

__all__ = ['write_corrupted_dataset']


class _Writer(torch.utils.data.Dataset):
    """Corrupts and writes one image per index (in data-loader workers)."""

    def __init__(self, dataset: Any, corrupter: Corrupter, root: Path, data_root: str) -> None:
        self.dataset, self.corrupter = dataset, corrupter
        self.root, self.data_root = root, data_root

    def __len__(self) -> int:
        return len(self.dataset)

    def _targets(self, index: int) -> tuple[dict, list[tuple[str, int, Path, Path]]]:
        info = self.dataset.get_data_info(index)
        image_rel = Path(os.path.relpath(info['img_path'], self.data_root)).with_suffix('.png')
        label_rel = Path(os.path.relpath(info['seg_map_path'], self.data_root))
        return info, [(name, severity, self.root / name / str(severity) / image_rel,
                       self.root / name / str(severity) / label_rel)
                      for name in self.corrupter.names for severity in self.corrupter.severities]

    def __getitem__(self, index: int) -> int:
        import cv2

        info, targets = self._targets(index)
        if all(image.exists() and label.exists() for _, _, image, label in targets):
            return 0  # done in an earlier run
        item = self.dataset[index]
        written = 0
        variants = self.corrupter.variants(item['img'], item['img_path'])
        for (name, severity, corrupted), target in zip(variants, targets, strict=True):
            assert (name, severity) == target[:2]  # the same order on both sides
            image_path, label_path = target[2:]
            atomic_write_bytes(image_path, cv2.imencode('.png', corrupted)[1].tobytes())
            if not label_path.exists():
                atomic_save(label_path, functools.partial(shutil.copyfile, info['seg_map_path']))
            written += 1
        return written


def write_corrupted_dataset(cfg: Any, out_dir: str | os.PathLike, names: Sequence[str],
                            severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                            max_images: int | None = None, workers: int = 0,
                            progress: bool = True) -> Path:
    """Writes the corrupted test set of config ``cfg``; returns ``<out>/<dataset>-c``.

    A ``dataset.json`` there says how a config reads one corruption and
    severity back (``data_root`` and ``img_suffix='.png'``).
    """
    from tqdm import tqdm

    dataset = labelled_dataset(cfg)
    data_root = cfg.test_dataloader.dataset.get('data_root', '') or ''
    root = Path(out_dir) / f'{Path(os.path.abspath(data_root or ".")).name}-c'
    writer = _Writer(dataset, Corrupter(names, severities, seed, data_root), root, data_root)
    count = len(dataset) if max_images is None else min(max_images, len(dataset))
    subset = torch.utils.data.Subset(writer, range(count))
    loader = torch.utils.data.DataLoader(subset, batch_size=None, num_workers=workers,
                                         collate_fn=as_is)
    written = sum(tqdm(loader, total=count, desc='corrupting', unit='img',
                       disable=not progress))
    prefix = dict(cfg.test_dataloader.dataset.get('data_prefix', {}))
    atomic_write_text(root / 'dataset.json', json.dumps(dict(
        source=os.path.abspath(data_root), corruptions=list(names),
        severities=list(severities), seed=seed, images=count, written_now=written,
        read_back_with={'test_dataloader.dataset.data_root': str(root / '<corruption>' /
                                                                  '<severity>'),
                        'test_dataloader.dataset.img_suffix': '.png',
                        'test_dataloader.dataset.data_prefix': prefix}), indent=2))
    return root
