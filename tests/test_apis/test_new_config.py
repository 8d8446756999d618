"""segkit config new's configs (segkit.apis.new_config), the base reference
that works from anywhere, and the training curves (segkit.apis.curves)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from mmengine.config import Config

from segkit.apis.new_config import new_config, scale_schedule
from segkit.apis.runner import load_config
from segkit.errors import BadSampleError, ConfigError
from segkit.utils.configs import CONFIGS_ENV, config_dir
from tests.helpers.folder_data import CLASSES, make_folder_data


@pytest.fixture(scope='module')
def rgb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp('parts')
    make_folder_data(root, 'rgb', num=10)
    return root


def test_upernet_config_for_colour_masks(rgb_folder: Path, tmp_path: Path) -> None:
    """UPerNet InternImage (decode and auxiliary head): every head's classes,
    the crop, the colour loading in every pipeline, the held-out validation,
    the InternImage schedule (ends one past the last iteration) scaled."""
    made = new_config('upernet_internimage-t_8xb2-160k_ade20k-512x512', rgb_folder,
                      crop=(64, 64), iters=2000, batch_size=4, out=tmp_path / 'a.py')
    assert 'every 5th pair by sorted name (2 of 10' in ' '.join(made.notes)
    cfg = load_config(made.path)
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == 3
    assert cfg.model.data_preprocessor.size == (64, 64)
    assert cfg.model.backbone.type == 'InternImage'  # the recipe, inherited
    train, val = cfg.train_dataloader, cfg.val_dataloader
    assert train.batch_size == 4 and train.dataset.type == 'FolderSegDataset'
    assert (train.dataset.subset, val.dataset.subset) == ('train', 'val')
    assert train.dataset.metainfo.classes == CLASSES and 'data_prefix' in train.dataset
    assert cfg.test_dataloader.dataset.subset == 'val'
    for pipeline in (train.dataset.pipeline, val.dataset.pipeline,
                     cfg.tta_pipeline[1].transforms[3]):
        loads = [s for s in pipeline if 'Load' in s.type and 'Image' not in s.type]
        assert [s.type for s in loads] == ['LoadColorAnnotations']
        assert loads[0].ignore_colors == [[255, 255, 255]]
    crop = next(s for s in train.dataset.pipeline if s.type == 'RandomCrop')
    assert crop.crop_size == (64, 64)
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 19), (0, 2001)]
    assert cfg.train_cfg.max_iters == 2000 and cfg.train_cfg.val_interval == 200
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'  # the recipe's, kept
    # the datasets build and load a sample
    from mmseg.registry import DATASETS

    dataset = DATASETS.build(val.dataset)
    assert len(dataset) == 2 and dataset[0]['data_samples'].gt_sem_seg.data.max() <= 255


def test_heads_as_a_list_and_no_auxiliary_head(tmp_path: Path, rgb_folder: Path) -> None:
    base = tmp_path / 'cascade.py'
    base.write_text(
        f"_base_ = '{(config_dir() / 'sample/fcn_r18_sample-128x128.py').as_posix()}'\n"
        "model = dict(type='CascadeEncoderDecoder', num_stages=2, decode_head=[\n"
        "    dict(type='FCNHead', in_channels=128, channels=8, num_classes=7, num_convs=1),\n"
        "    dict(type='FCNHead', in_channels=128, channels=8, num_classes=7, num_convs=1,\n"
        "         loss_decode=dict(type='CrossEntropyLoss', class_weight=[1.0] * 7))])\n")
    made = new_config(base, rgb_folder, iters=100, out=tmp_path / 'b.py')
    cfg = load_config(made.path)
    assert [(h.type, h.channels, h.num_classes) for h in cfg.model.decode_head] == [
        ('FCNHead', 8, 3), ('FCNHead', 8, 3)]  # a list is written whole
    assert cfg.model.decode_head[1].loss_decode.class_weight is None
    assert 'auxiliary_head' not in cfg.model or cfg.model.auxiliary_head is None
    # the sample schedule: warm-up 50 and poly 50..500, scaled to 100
    assert [(s.begin, s.end) for s in cfg.param_scheduler] == [(0, 10), (10, 100)]


def test_the_base_is_found_from_anywhere(rgb_folder: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The file names its base through SEGKIT_CONFIGS: moved elsewhere it
    loads with plain mmengine (the folder at generation) and through segkit
    even when that folder is gone (segkit sets the variable)."""
    made = new_config('fcn_r18_sample-128x128', rgb_folder, out=tmp_path / 'x' / 'c.py')
    text = made.path.read_text()
    assert f"'{{{{${CONFIGS_ENV}:" in text and '/sample/fcn_r18_sample-128x128.py' in text
    moved = tmp_path / 'elsewhere' / 'deeper' / 'c.py'
    moved.parent.mkdir(parents=True)
    shutil.move(made.path, moved)
    monkeypatch.chdir(tmp_path / 'elsewhere')
    monkeypatch.delenv(CONFIGS_ENV, raising=False)
    assert Config.fromfile(str(moved)).model.decode_head.num_classes == 3
    stale = text.replace(config_dir().resolve().as_posix(), '/nowhere/segkit/configs')
    moved.write_text(stale)
    with pytest.raises(FileNotFoundError):
        Config.fromfile(str(moved))
    assert load_config(moved).model.decode_head.num_classes == 3
    assert CONFIGS_ENV not in os.environ  # set only while loading


def test_refusals(rgb_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / 'c.py'
    out.write_text('# mine\n')
    with pytest.raises(ConfigError, match='exists: choose another --out, or --force'):
        new_config('fcn_r18_sample-128x128', rgb_folder, out=out)
    assert out.read_text() == '# mine\n'
    bad = tmp_path / 'bad'
    shutil.copytree(rgb_folder, bad)
    (bad / 'classes.txt').unlink()
    with pytest.raises(BadSampleError, match=r'masks/part_00.png: RGB colour mask without a '
                                             r'colour table.*\(and 9 more problems\)'):
        new_config('fcn_r18_sample-128x128', bad, out=tmp_path / 'd.py')
    assert not (tmp_path / 'd.py').exists()


def test_scale_schedule() -> None:
    schedulers = [dict(type='LinearLR', begin=0, end=1501, by_epoch=False),
                  dict(type='PolyLR', begin=0, end=160001, by_epoch=False),
                  dict(type='CosineAnnealingLR', begin=1500, T_max=158500, end=160000,
                       by_epoch=False),
                  dict(type='MultiStepLR', milestones=[80000, 120000], by_epoch=False)]
    scaled = scale_schedule(schedulers, 160000, 1600)
    assert [(s.get('begin'), s.get('end')) for s in scaled[:3]] == [(0, 15), (0, 1601),
                                                                    (15, 1600)]
    assert scaled[2]['T_max'] == 1585 and scaled[3]['milestones'] == [800, 1200]
    assert scale_schedule([dict(type='LinearLR', begin=0, end=50, by_epoch=False)],
                          500, 4)[0]['end'] == 1  # never empty
    with pytest.raises(ConfigError, match='counts epochs'):
        scale_schedule([dict(type='PolyLR', begin=0, end=10)], 160000, 1600)


def test_training_curves_from_scalars(tmp_path: Path) -> None:
    from segkit.apis.curves import plot_training_curves, read_scalars

    for i, (run, steps) in enumerate((('20260101_000000', (1, 2, 3)),
                                      ('20260102_000000', (3, 4)))):
        vis = tmp_path / run / 'vis_data'
        vis.mkdir(parents=True)
        lines = [json.dumps({'loss': i + 1.0 / s, 'decode.loss_ce': 0.5 / s,
                             'aux.loss_ce': 0.5 / s, 'step': s}) for s in steps]
        lines.append(json.dumps({'mIoU': 10.0 * steps[-1], 'aAcc': 50.0, 'step': steps[-1]}))
        (vis / 'scalars.json').write_text('\n'.join(lines) + '\n{"cut')
    train, val = read_scalars(tmp_path)
    assert sorted(train) == [1, 2, 3, 4] and train[3]['loss'] == 1 + 1 / 3  # the later run
    assert {s: v['mIoU'] for s, v in val.items()} == {
        3: 30.0, 4: 40.0}
    path = plot_training_curves(tmp_path)
    assert path == tmp_path / 'training_curves.png' and path.read_bytes()[:4] == b'\x89PNG'
    assert plot_training_curves(tmp_path / '20260101_000000' / 'vis_data') is None


@pytest.mark.parametrize('fmt', ['rgb', 'indices'])
def test_robustness_and_compare_read_the_labels(fmt: str, rgb_folder: Path,
                                                tmp_path: Path) -> None:
    """segkit robustness / compare rebuild the label loading of a config
    (segkit.evaluation.variants.labelled_dataset): on a generated config they
    read the labels written (colour masks; reduce_zero_label on index masks)."""
    import numpy as np
    from PIL import Image

    from segkit.evaluation.variants import labelled_dataset

    root = rgb_folder
    if fmt == 'indices':
        root = tmp_path / 'indices'
        make_folder_data(root, 'indices', num=10)
    made = new_config('fcn_r18_sample-128x128', root, reduce_zero_label=fmt == 'indices',
                      out=tmp_path / 'c.py')
    item = labelled_dataset(load_config(made.path))[0]
    written = np.array(Image.open(item['seg_map_path']))
    if fmt == 'rgb':
        expected = np.full(written.shape[:2], 255)
        for cls, color in enumerate(((0, 0, 0), (220, 20, 60), (0, 128, 255))):
            expected[(written == color).all(-1)] = cls
    else:
        expected = np.where((written == 0) | (written == 255), 255, written.astype(int) - 1)
    np.testing.assert_array_equal(item['gt_seg_map'], expected)
