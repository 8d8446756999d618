"""The generated sample dataset: deterministic, in range, in the real layouts."""
from __future__ import annotations

import filecmp
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from segkit.datasets.sample_data import (SAMPLE_CLASSES, THINGS, make_sample_data,
                                         make_scene, render_scene)


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob('*') if p.is_file())


def test_layout_and_labels(sample_root: Path) -> None:
    ade = sample_root / 'ade'
    images = sorted((ade / 'images' / 'training').glob('*.jpg'))
    labels = sorted((ade / 'annotations' / 'training').glob('*.png'))
    assert len(images) == len(labels) == 16
    assert len(list((ade / 'images' / 'validation').glob('*.jpg'))) == 6
    seen = np.zeros(len(SAMPLE_CLASSES) + 1, bool)
    for image_file, label_file in zip(images, labels):
        assert image_file.stem == label_file.stem
        image = cv2.imread(str(image_file), cv2.IMREAD_UNCHANGED)
        label = cv2.imread(str(label_file), cv2.IMREAD_UNCHANGED)
        assert image.shape == (128, 128, 3) and image.dtype == np.uint8
        assert label.shape == (128, 128) and label.dtype == np.uint8
        assert label.max() <= len(SAMPLE_CLASSES)
        seen[np.unique(label)] = True
    assert seen[1:].all(), 'every class appears in 16 training images'
    city = sample_root / 'cityscapes'
    left = sorted((city / 'leftImg8bit' / 'train').rglob('*_leftImg8bit.png'))
    assert {p.parent.name for p in left} == {'aachen', 'bremen'}
    for p in left:
        stem = p.name.replace('_leftImg8bit.png', '')
        gt = city / 'gtFine' / 'train' / p.parent.name
        assert (gt / f'{stem}_gtFine_polygons.json').is_file()
        assert cv2.imread(str(gt / f'{stem}_gtFine_labelIds.png'), 0).shape == (128, 256)


def test_deterministic_and_idempotent(tmp_path: Path) -> None:
    a = make_sample_data(tmp_path / 'a', seed=5, num_train=3, num_val=2)
    b = make_sample_data(tmp_path / 'b', seed=5, num_train=3, num_val=2)
    assert _files(a) == _files(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(f) for f in _files(a)], shallow=False)
    assert not mismatch and not errors
    stamp = a / 'sample_data.json'
    mtime = stamp.stat().st_mtime_ns
    make_sample_data(tmp_path / 'a', seed=5, num_train=3, num_val=2)
    assert stamp.stat().st_mtime_ns == mtime, 'same arguments: nothing rewritten'
    c = make_sample_data(tmp_path / 'a', seed=6, num_train=3, num_val=2)
    assert json.loads((c / 'sample_data.json').read_text())['seed'] == 6
    first = 'ade/annotations/training/sample_training_00000.png'
    assert not filecmp.cmp(b / first, c / first, shallow=False)


def test_things_are_told_apart_only_by_shape() -> None:
    """Disc, box and triangle share one texture: their pixels' local statistics
    do not identify the class, so the model needs context (receptive field)."""
    scene = make_scene(11)
    image, label = render_scene(scene)
    gray = image.astype(np.float32).mean(axis=2)
    # remove each instance's colour: what remains is the shared dot texture
    residual = {}
    for c in THINGS:
        mask = cv2.erode((label == c).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if mask.sum() > 50:
            values = gray[mask]
            residual[c] = values.std()
    assert len(residual) >= 1
    spread = np.array(list(residual.values()))
    assert (spread > 8).all(), 'things carry the dot texture'


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_scene_has_stuff_things_and_valid_polygons(seed: int) -> None:
    scene = make_scene(seed)
    labels = [s.label for s in scene.shapes]
    assert labels[0] in (1, 2, 3, 4) and any(label in THINGS for label in labels)
    for shape in scene.shapes:
        assert shape.polygon.ndim == 2 and shape.polygon.shape[1] == 2
        assert len(shape.polygon) >= 3


def test_sample_dataset_loads_with_reduce_zero_label(sample_root: Path) -> None:
    from mmseg.registry import DATASETS

    dataset = DATASETS.build(dict(
        type='SampleDataset', data_root=str(sample_root / 'ade'),
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', reduce_zero_label=True)]))
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == SAMPLE_CLASSES
    item = dataset[0]
    raw = cv2.imread(item['seg_map_path'], cv2.IMREAD_UNCHANGED).astype(int)
    expected = np.where(raw == 0, 255, raw - 1)
    np.testing.assert_array_equal(item['gt_seg_map'], expected)
