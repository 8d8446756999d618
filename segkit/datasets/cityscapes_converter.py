"""Cityscapes gtFine polygons -> ``*_gtFine_labelTrainIds.png`` and split lists.

The drawing is cityscapesscripts' own (``createLabelImage`` with the official
label table), so the train ids are exactly those of the benchmark.
"""
from __future__ import annotations

import os
from multiprocessing import Pool
from pathlib import Path

from segkit.utils.io import atomic_write_bytes
from segkit.utils.optional import require

__all__ = ['convert_cityscapes', 'CITYSCAPES_LAYOUT']

CITYSCAPES_LAYOUT = ('leftImg8bit/{train,val,test}/<city>/*_leftImg8bit.png and '
                     'gtFine/{train,val,test}/<city>/*_gtFine_polygons.json')
SPLITS = ('train', 'val', 'test')


def _convert_one(json_file: str) -> str | None:
    """Writes the train-id PNG of one polygon file; returns an error or None."""
    import io

    Annotation = require('cityscapesscripts.helpers.annotation', 'cityscapes').Annotation
    createLabelImage = require('cityscapesscripts.preparation.json2labelImg',
                               'cityscapes').createLabelImage

    try:
        annotation = Annotation()
        annotation.fromJsonFile(json_file)
        image = createLabelImage(annotation, 'trainIds')
        buffer = io.BytesIO()
        image.save(buffer, format='PNG')
    except Exception as e:  # noqa: BLE001 - report the file, carry on with the rest
        return f'{json_file}: {type(e).__name__}: {" ".join(str(e).split())}'
    atomic_write_bytes(json_file.replace('_polygons.json', '_labelTrainIds.png'),
                       buffer.getvalue())
    return None


def convert_cityscapes(data_root: str | os.PathLike, gt_dir: str = 'gtFine',
                       nproc: int = 1, progress: bool = True) -> dict:
    """Converts every ``*_gtFine_polygons.json`` under ``data_root/gt_dir``.

    Also writes ``{train,val,test}.txt`` in ``data_root`` listing the samples
    of each split (``<city>/<city>_<seq>_<frame>``), as mmseg's converter does.

    Returns:
        ``dict(converted=int, failed=[str, ...], splits={split: count})``.

    Raises:
        FileNotFoundError: ``data_root`` does not have the Cityscapes layout.
    """
    from tqdm import tqdm

    root = Path(data_root)
    gt_root = root / gt_dir
    if not (root / 'leftImg8bit').is_dir() or not gt_root.is_dir():
        raise FileNotFoundError(
            f'{root} is not a Cityscapes root: expected {CITYSCAPES_LAYOUT}')
    json_files = sorted(str(p) for p in gt_root.rglob('*_gtFine_polygons.json'))
    if not json_files:
        raise FileNotFoundError(
            f'no *_gtFine_polygons.json under {gt_root}: expected {CITYSCAPES_LAYOUT}')
    bar = tqdm(total=len(json_files), desc='cityscapes', unit='file', disable=not progress)
    failed = []
    if nproc > 1:
        with Pool(nproc) as pool:
            for error in pool.imap(_convert_one, json_files, chunksize=8):
                failed += [error] if error else []
                bar.update()
    else:
        for json_file in json_files:
            error = _convert_one(json_file)
            failed += [error] if error else []
            bar.update()
    bar.close()
    splits = {}
    for split in SPLITS:
        split_dir = gt_root / split
        if not split_dir.is_dir():
            continue
        names = sorted(str(p.relative_to(split_dir)).replace('_gtFine_polygons.json', '')
                       for p in split_dir.rglob('*_gtFine_polygons.json'))
        atomic_write_bytes(root / f'{split}.txt', ''.join(f'{n}\n' for n in names).encode())
        splits[split] = len(names)
    return dict(converted=len(json_files) - len(failed), failed=failed, splits=splits)
