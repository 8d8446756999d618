"""FolderSegDataset (mmseg's BaseSegDataset on a folder) and LoadColorAnnotations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mmseg.registry import DATASETS, TRANSFORMS
from PIL import Image

from segkit.datasets.color_mask import colors_to_labels
from segkit.errors import BadSampleError, ConfigError
from tests.helpers.folder_data import CLASSES, COLORS, make_folder_data

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def _build(**kwargs):
    return DATASETS.build(dict(type='FolderSegDataset', **kwargs))


def test_palette_pngs_are_read_as_indices_by_mmseg(tmp_path: Path) -> None:
    """mmseg's LoadAnnotations (pillow, flag 'unchanged') returns a palette
    PNG's indices, not its colours: the label maps come back as written."""
    labels = make_folder_data(tmp_path, 'palette', splits=True, classes=True)
    dataset = _build(data_root=str(tmp_path), subset='val', pipeline=LOAD)
    assert Image.open(dataset[0]['seg_map_path']).mode == 'P'
    assert dataset.metainfo['classes'] == CLASSES and len(dataset) == 3
    for i, stem in enumerate(sorted(labels['val'])):
        sample = dataset[i]
        assert Path(sample['img_path']).stem == stem
        np.testing.assert_array_equal(sample['gt_seg_map'], labels['val'][stem])


def test_held_out_subsets_and_reduce_zero_label(tmp_path: Path) -> None:
    labels = make_folder_data(tmp_path, 'indices', num=10, mask_dir='annotations',
                              suffix='_label')
    common = dict(data_root=str(tmp_path), val_every=5, num_classes=2, reduce_zero_label=True,
                  pipeline=LOAD)
    train, val = _build(subset='train', **common), _build(subset='val', **common)
    assert [Path(val[i]['img_path']).stem for i in range(len(val))] == ['part_00', 'part_05']
    assert len(train) == 8 and train.metainfo['classes'] == ('class_0', 'class_1')
    assert not {train[i]['img_path'] for i in range(8)} & {val[i]['img_path'] for i in range(2)}
    label = labels['all']['part_00']
    expected = np.where(label == 0, 255, label - 1).astype(np.uint8)
    expected[label == 255] = 255
    np.testing.assert_array_equal(val[0]['gt_seg_map'], expected)
    with pytest.raises(ConfigError, match='needs val_every'):
        _build(data_root=str(tmp_path), subset='train', num_classes=2)
    with pytest.raises(ConfigError, match='no classes'):
        _build(data_root=str(tmp_path))


def test_colors_to_labels_by_hand() -> None:
    rgb = np.array([[[0, 0, 0], [220, 20, 60], [0, 128, 255]],
                    [[255, 255, 255], [220, 20, 60], [0, 0, 0]]], np.uint8)
    labels, unknown = colors_to_labels(rgb, COLORS, ignore_colors=[(255, 255, 255)])
    np.testing.assert_array_equal(labels, [[0, 1, 2], [255, 1, 0]])
    assert unknown.size == 0
    rgb[0, 0] = (1, 2, 3)
    labels, unknown = colors_to_labels(rgb, COLORS)
    assert labels[0, 0] == 255 and unknown.tolist() == [(1 << 16) | (2 << 8) | 3,
                                                        (255 << 16) | (255 << 8) | 255]


def test_load_color_annotations(tmp_path: Path) -> None:
    """A hand-made RGB mask through the transform: each colour its class,
    the ignore colour 255, reduce_zero_label after the mapping; an unknown
    colour names the file."""
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, 2:4] = COLORS[1]
    rgb[:, 4:] = COLORS[2]
    rgb[0, 0] = (255, 255, 255)
    path = tmp_path / 'm.png'
    Image.fromarray(rgb).save(path)
    load = TRANSFORMS.build(dict(type='LoadColorAnnotations', colors=[list(c) for c in COLORS],
                                 ignore_colors=[[255, 255, 255]]))
    results = load(dict(seg_map_path=str(path), reduce_zero_label=False, seg_fields=[]))
    expected = np.array([[255, 0, 1, 1, 2, 2]] + [[0, 0, 1, 1, 2, 2]] * 3, np.uint8)
    np.testing.assert_array_equal(results['gt_seg_map'], expected)
    reduced = TRANSFORMS.build(dict(type='LoadColorAnnotations', colors=[list(c) for c in COLORS],
                                    ignore_colors=[[255, 255, 255]]))(
        dict(seg_map_path=str(path), reduce_zero_label=True, seg_fields=[]))
    np.testing.assert_array_equal(reduced['gt_seg_map'],
                                  np.where((expected == 0) | (expected == 255), 255, expected - 1))
    with pytest.raises(BadSampleError, match=r'm.png: colours not in the class table: '
                                              r'\(255, 255, 255\)'):
        TRANSFORMS.build(dict(type='LoadColorAnnotations', colors=[list(c) for c in COLORS]))(
            dict(seg_map_path=str(path), reduce_zero_label=False, seg_fields=[]))


def test_rebuilt_loading_steps_read_what_the_config_reads(tmp_path: Path) -> None:
    """Code that rebuilds a config's loading (segkit's robustness evaluation:
    LoadAnnotations with an explicit reduce_zero_label) gets the dataset's
    reduce_zero_label and, for colour masks, the colour table."""
    labels = make_folder_data(tmp_path, 'rgb', splits=True)
    rebuilt = [dict(type='LoadImageFromFile'),
               dict(type='LoadAnnotations', reduce_zero_label=True)]
    dataset = _build(data_root=str(tmp_path), subset='val', classes_file='classes.txt',
                     mask_colors=[list(c) for c in COLORS], ignore_colors=[[255, 255, 255]],
                     pipeline=rebuilt)
    label = labels['val'][Path(dataset[0]['img_path']).stem]
    np.testing.assert_array_equal(dataset[0]['gt_seg_map'], label)
