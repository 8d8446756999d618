"""Folder datasets: layouts, pairing, the classes file and the check
(segkit.datasets.folder, class_table, folder_check)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segkit.datasets.class_table import read_class_table
from segkit.datasets.folder import find_layout, holdout, pair_files
from segkit.datasets.folder_check import check_folder
from segkit.errors import ConfigError, DataNotFoundError
from tests.helpers.folder_data import CLASSES, COLORS, MISTAKES, make_folder_data, make_mistake


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b'')


def test_layouts_and_pairing_by_stem(tmp_path: Path) -> None:
    """The three layouts, folder names and extensions in any case, mask
    suffixes, sub-folders; what does not pair is named."""
    flat = tmp_path / 'flat'
    _touch(flat, 'Images/a.JPG', 'Images/b.png', 'Images/city/c.jpeg', 'Images/lonely.jpg',
           'Labels/a_mask.PNG', 'Labels/b.png', 'Labels/city/c_label.png', 'Labels/orphan.png',
           'Labels/.hidden.png', 'Labels/notes.txt')
    layout = find_layout(flat)
    assert not layout.has_split_folders and layout.splits['all'].mask_dir == 'Labels'
    pairing = pair_files(flat, layout.splits['all'])
    assert [(p.key, p.img, p.mask) for p in pairing.pairs] == [
        ('a', 'Images/a.JPG', 'Labels/a_mask.PNG'), ('b', 'Images/b.png', 'Labels/b.png'),
        ('city/c', 'Images/city/c.jpeg', 'Labels/city/c_label.png')]
    assert [img for img, _ in pairing.images_without_masks] == ['Images/lonely.jpg']
    assert pairing.masks_without_images == ['Labels/orphan.png']

    split = tmp_path / 'split'
    _touch(split, 'images/training/a.jpg', 'images/validation/b.jpg',
           'annotations/training/a.png', 'annotations/validation/b.png', 'images/test/c.jpg')
    layout = find_layout(split)
    assert set(layout.splits) == {'train', 'val', 'test'}
    assert layout.splits['val'].mask_dir == 'annotations/validation'
    assert layout.splits['test'].mask_dir is None

    first = tmp_path / 'split_first'
    _touch(first, 'train/images/a.jpg', 'train/masks/a.png', 'val/images/b.jpg',
           'val/masks/b.png')
    assert {s: (d.img_dir, d.mask_dir) for s, d in find_layout(first).splits.items()} == {
        'train': ('train/images', 'train/masks'), 'val': ('val/images', 'val/masks')}

    _touch(tmp_path / 'none', 'pictures/a.jpg')
    with pytest.raises(DataNotFoundError, match='no image and mask folders found'):
        find_layout(tmp_path / 'none')


def test_holdout_is_every_kth_by_name() -> None:
    from segkit.datasets.folder import Pair

    pairs = [Pair(f'{i:02d}', f'{i}.jpg', f'{i}.png') for i in (3, 0, 7, 1, 5, 2, 4, 6, 8, 9)]
    val, train = holdout(pairs, 5, 'val'), holdout(pairs, 5, 'train')
    assert [p.key for p in val] == ['00', '05']
    assert sorted(p.key for p in val + train) == sorted(p.key for p in pairs)
    with pytest.raises(ConfigError, match='too few'):
        holdout(pairs[:1], 5, 'val')


def test_class_table_files(tmp_path: Path) -> None:
    names = tmp_path / 'names.txt'
    names.write_text('# parts\nbackground\n\nscratch\n')
    assert read_class_table(names).names == ('background', 'scratch')
    assert read_class_table(names).colors is None
    colours = tmp_path / 'colours.txt'
    colours.write_text('road 128 64 128\ntraffic light 250 170 30\nignore 0 0 0\n')
    table = read_class_table(colours)
    assert table.names == ('road', 'traffic light')
    assert table.palette == [[128, 64, 128], [250, 170, 30]]
    assert table.ignore_colors == ((0, 0, 0),)
    csv = tmp_path / 'class_dict.csv'
    csv.write_text('name,r,g,b\nsky,128,128,128\nbuilding,128,0,0\n')
    assert read_class_table(csv).colors == ((128, 128, 128), (128, 0, 0))
    for text, message in (('a 1 2 3\nb\n', 'give every class a colour'),
                          ('a\na\n', "'a' is named twice"),
                          ('a 1 2 3\nb 1 2 3\n', 'the same colour'),
                          ('a 1 2 300\n', 'must be 0..255'),
                          ('a\nignore\n', None)):
        bad = tmp_path / 'bad.txt'
        bad.write_text(text)
        if message is None:
            assert read_class_table(bad).names == ('a', 'ignore')  # a name, without colours
            continue
        with pytest.raises(ConfigError, match=message):
            read_class_table(bad)
    with pytest.raises(DataNotFoundError, match='classes file not found'):
        read_class_table(tmp_path / 'missing.txt')


@pytest.mark.parametrize('splits', [False, True], ids=['no-splits', 'train-val'])
@pytest.mark.parametrize('fmt', ['indices', 'palette', 'rgb'])
def test_check_counts_every_pixel(fmt: str, splits: bool, tmp_path: Path) -> None:
    """The format is recognised and the pixels per value and split are
    those numpy counts in the label maps written."""
    labels = make_folder_data(tmp_path, fmt, splits=splits, suffix='_mask' if splits else '')
    table = read_class_table(tmp_path / 'classes.txt') if fmt == 'rgb' else None
    report = check_folder(tmp_path, table)
    assert report.ok, report.errors
    assert report.formats == {fmt: 8}
    assert report.pairs == ({'train': 5, 'val': 3} if splits else {'all': 8})
    for split, maps in labels.items():
        values, counts = np.unique(np.stack(list(maps.values())), return_counts=True)
        assert dict(report.pixels[split]) == dict(zip(values.tolist(), counts.tolist()))
    everything = np.stack([m for maps in labels.values() for m in maps.values()])
    assert report.class_pixels() == {c: int((everything == c).sum()) for c in range(3)}
    assert report.classes == (CLASSES if fmt == 'rgb' else ('class_0', 'class_1', 'class_2'))
    assert any('value 255' in h and 'thin lines' in h for h in report.hints) or fmt == 'rgb'


@pytest.fixture(scope='module')
def good_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('good')
    make_folder_data(root, 'indices', classes=True)
    return root


@pytest.mark.parametrize('mistake', MISTAKES)
def test_each_mistake_is_one_error_naming_its_file(mistake: str, good_folder: Path,
                                                   tmp_path: Path) -> None:
    root = tmp_path / 'data'
    shutil.copytree(good_folder, root)
    culprit = make_mistake(root, mistake)
    table = root / 'classes.txt'
    report = check_folder(root, read_class_table(table) if table.exists() else None)
    lines = [e.line(str(root)) for e in report.errors]
    # one line per file: here one file, or each colour mask
    assert len(lines) == (8 if mistake == 'rgb without table' else 1), lines
    assert lines[0].startswith(f'{root / culprit}: ') and '\n' not in lines[0]
    if mistake == 'rgb without table':
        assert all("without a colour table: give --classes FILE with 'name r g b'" in line
                   for line in lines)


def test_mixed_mask_formats_are_an_error(good_folder: Path, tmp_path: Path) -> None:
    root = tmp_path / 'data'
    shutil.copytree(good_folder, root)
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:8] = COLORS[1]
    Image.fromarray(rgb).save(root / 'masks/part_06.png')
    report = check_folder(root, read_class_table(root / 'classes.txt'))
    assert [e.line(str(root)).split(': ', 1)[1] for e in report.errors][0].startswith(
        'masks mix formats: single-channel class indices (7, e.g. masks/part_00.png), RGB '
        'colour masks (1, e.g. masks/part_06.png)')


def test_hints_reduce_zero_label_and_ignore_labels(tmp_path: Path) -> None:
    """0..N for N named classes: --reduce-zero-label is suggested (and the
    value N is an error without it); with it, N is class N-1."""
    make_folder_data(tmp_path, 'indices')
    (tmp_path / 'classes.txt').write_text('scratch\ndent\n')  # 0 unnamed
    report = check_folder(tmp_path, read_class_table(tmp_path / 'classes.txt'))
    assert any('--reduce-zero-label ignores it and maps 1..2' in h for h in report.hints)
    assert report.errors and all('value 2' in e.message for e in report.errors)
    reduced = check_folder(tmp_path, read_class_table(tmp_path / 'classes.txt'),
                           reduce_zero_label=True)
    assert reduced.ok and reduced.class_pixels().keys() == {0, 1}
    assert reduced.class_pixels()[1] == report.total_pixels[2]


def test_reduce_zero_label_with_colour_masks_is_refused(tmp_path: Path) -> None:
    make_folder_data(tmp_path, 'rgb')
    report = check_folder(tmp_path, read_class_table(tmp_path / 'classes.txt'),
                          reduce_zero_label=True)
    assert [e.message for e in report.errors] == [
        f"{tmp_path}: reduce_zero_label with colour masks: name the colour of 'unlabelled' as a "
        "line 'ignore r g b' of the classes file instead"]
