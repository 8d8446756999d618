"""One's own data end to end: segkit data check, config new, train, test
(tools/data.py, tools/config.py, tools/train.py, tools/test.py in this process)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_tool_in_process
from tests.helpers.folder_data import MISTAKES, make_folder_data, make_mistake

pytestmark = pytest.mark.slow  # tools and training end to end

LOADERS = [f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader')
           for key in ('num_workers=0', 'persistent_workers=False')]


def _last_error(result) -> str:
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope='module')
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Palette PNGs without split folders, classes.txt of names."""
    root = tmp_path_factory.mktemp('parts')
    return root, make_folder_data(root, 'palette', classes=True)


def test_data_check_prints_the_classes_and_writes_the_report(parts, tmp_path: Path) -> None:
    root, labels = parts
    result = run_tool_in_process('tools/data.py', 'check', root, '--out', tmp_path)
    out = result.stdout
    assert 'masks: palette PNG (indices) (8 of 8)' in out and 'OK: ready to train' in out
    everything = np.stack(list(labels['all'].values()))
    for value, name in enumerate(('background', 'scratch', 'dent')):
        assert re.search(rf'\| {value} +\| +{value} \| {name} +\| +{(everything == value).sum()} '
                         r'\|', out), name
    assert "class 0 is 'background'" in out
    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['ok'] and report['class_pixels']['dent'] == (everything == 2).sum()
    assert (tmp_path / 'class_pixels.png').read_bytes()[:4] == b'\x89PNG'


@pytest.mark.parametrize('mistake', MISTAKES)
def test_data_check_names_each_mistake(mistake: str, parts, tmp_path: Path) -> None:
    root = tmp_path / 'data'
    shutil.copytree(parts[0], root)
    if mistake == 'rgb without table':
        (root / 'classes.txt').unlink()
    culprit = make_mistake(root, mistake)
    result = run_tool_in_process('tools/data.py', 'check', root, '--out', tmp_path / 'out',
                                 check=False)
    assert result.returncode == 1
    errors = result.stdout.split('errors (', 1)[1].splitlines()[1:]
    assert errors[0].strip().startswith(f'{root / culprit}: ')
    assert 'FAILED' in result.stdout


def test_config_new_train_test(parts, tmp_path: Path) -> None:
    """config new on the sample FCN, 4 iterations with TensorBoard, the curves,
    test with the class names; training on the same config refuses the data
    once a mask is missing, before anything is built."""
    root, _ = parts
    config = tmp_path / 'parts.py'
    made = run_tool_in_process(
        'tools/config.py', 'new', '--model', 'fcn_r18_sample-128x128', '--data', root,
        '--crop', '32', '32', '--iters', '4', '--batch-size', '4', '--out', config,
        '--cfg-options', *LOADERS)
    assert 'validation: no val folder: validation holds out every 5th pair' in made.stdout
    assert "subset='val'" in config.read_text() and 'val_every=5' in config.read_text()
    work = tmp_path / 'work'
    trained = run_tool_in_process('tools/train.py', config, '--work-dir', work, '--tensorboard')
    log = trained.stdout + trained.stderr
    assert 'Iter(train) [4/4]' in log and re.search(r'mIoU: [\d.]+', log)
    assert (work / 'iter_4.pth').is_file()
    assert (work / 'training_curves.png').read_bytes()[:4] == b'\x89PNG'
    assert list(work.glob('*/vis_data/events.out.tfevents.*'))
    metrics = tmp_path / 'metrics.json'
    tested = run_tool_in_process('tools/test.py', config, work / 'iter_4.pth', '--work-dir',
                                 tmp_path / 'test', '--metrics-json', metrics,
                                 '--cfg-options', 'test_dataloader.num_workers=0',
                                 'test_dataloader.persistent_workers=False')
    assert re.search(r'\|\s+scratch\s+\|', tested.stdout + tested.stderr)
    assert set(json.loads(metrics.read_text())['metrics']) >= {'mIoU', 'aAcc'}

    broken = config.read_text().replace(str(root), str(tmp_path / 'broken'))
    shutil.copytree(root, tmp_path / 'broken')
    culprit = make_mistake(tmp_path / 'broken', 'missing mask')
    config.write_text(broken)
    refused = run_tool_in_process('tools/train.py', config, '--work-dir', tmp_path / 'w2',
                                  check=False)
    line = _last_error(refused)
    assert f'{tmp_path / "broken" / culprit}: no mask' in line
    assert 'Iter(train)' not in refused.stdout + refused.stderr
    assert not (tmp_path / 'w2').exists()
