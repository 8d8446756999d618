"""Cityscapes converter: polygons -> labelTrainIds with cityscapesscripts' label table."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from cityscapesscripts.helpers.labels import id2label

from segkit.datasets.cityscapes_converter import convert_cityscapes
from tests.helpers import run_tool_in_process


@pytest.fixture
def city_root(sample_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / 'cityscapes'
    shutil.copytree(sample_root / 'cityscapes', root)
    return root


def test_train_ids_match_label_ids(city_root: Path) -> None:
    result = convert_cityscapes(city_root, progress=False)
    assert result['failed'] == []
    assert result['splits'] == {'train': 4, 'val': 2}
    id_to_train = np.full(256, 255, np.uint8)
    for label_id, label in id2label.items():
        if 0 <= label_id < 256:
            id_to_train[label_id] = label.trainId if 0 <= label.trainId < 255 else 255
    pngs = sorted(city_root.rglob('*_gtFine_labelIds.png'))
    assert len(pngs) == 6
    seen = set()
    for ids_png in pngs:
        ids = cv2.imread(str(ids_png), cv2.IMREAD_UNCHANGED)
        train = cv2.imread(str(ids_png).replace('_labelIds', '_labelTrainIds'),
                           cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(train, id_to_train[ids])
        seen |= set(np.unique(train).tolist())
    assert seen <= {0, 2, 8, 9, 11, 13, 14, 255}
    assert len(seen - {255}) >= 4
    lines = (city_root / 'val.txt').read_text().splitlines()
    assert lines[0] == 'frankfurt/frankfurt_000000_000019'
    assert (city_root / 'leftImg8bit' / 'val' / f'{lines[0]}_leftImg8bit.png').is_file()


def test_bad_file_is_reported_and_the_rest_converted(city_root: Path) -> None:
    bad = next(city_root.rglob('*_gtFine_polygons.json'))
    bad.write_text('{"imgHeight": 128, "objects": [')
    result = convert_cityscapes(city_root, progress=False, nproc=2)
    assert result['converted'] == 5
    assert len(result['failed']) == 1 and str(bad) in result['failed'][0]
    assert not Path(str(bad).replace('_polygons.json', '_labelTrainIds.png')).exists()


@pytest.mark.slow
def test_cli_errors_on_wrong_root(tmp_path: Path, city_root: Path) -> None:
    result = run_tool_in_process(
        'tools/dataset_converters/cityscapes.py', tmp_path / 'nowhere', check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count('\n') == 0, result.stderr
    assert 'is not a Cityscapes root: expected leftImg8bit/' in result.stderr
    ok = run_tool_in_process('tools/dataset_converters/cityscapes.py', city_root)
    assert 'converted 6 files (train: 4, val: 2)' in ok.stdout
