"""The ``segkit`` command: dispatch, help, shipped configs found by name."""
from __future__ import annotations

import subprocess
import sys

import pytest

from segkit.cli import COMMANDS
from segkit.utils.configs import config_dir, list_configs, resolve_config
from segkit.utils.optional import require
from tests.helpers import REPO


def _segkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'segkit', *args], cwd=REPO.parent,
                          capture_output=True, text=True, timeout=300)


def test_every_command_has_a_module_and_a_tool_script() -> None:
    import importlib

    for name, (module, _) in COMMANDS.items():
        mod = importlib.import_module(f'segkit.cli.{module}')
        assert callable(mod.add_arguments) and callable(mod.run), name
    scripts = {p.stem for p in (REPO / 'tools').glob('*.py')}
    assert scripts >= {m for m, _ in COMMANDS.values()} - {'configs', 'convert_cityscapes'}


@pytest.mark.slow
def test_help_version_and_unknown_command() -> None:
    result = _segkit()
    assert result.returncode == 2 and 'train' in result.stdout and 'configs' in result.stdout
    assert _segkit('--version').stdout.startswith('segkit ')
    bad = _segkit('trian')
    assert bad.returncode == 2 and "invalid choice: 'trian'" in bad.stderr


@pytest.mark.slow
def test_shipped_configs_by_name_from_anywhere() -> None:
    names = list_configs()
    assert 'sample/fcn_r18_sample-128x128' in names and not any('_base_' in n for n in names)
    target = config_dir() / 'sample' / 'fcn_r18_sample-128x128.py'
    for name in ('fcn_r18_sample-128x128', 'fcn_r18_sample-128x128.py',
                 'sample/fcn_r18_sample-128x128', 'configs/sample/fcn_r18_sample-128x128.py'):
        assert resolve_config(name).resolve() == target.resolve(), name
    with pytest.raises(FileNotFoundError, match='did you mean fcn_r18_sample-128x128'):
        resolve_config('fcn_r18_sample-128x12')
    listed = _segkit('configs', 'internimage')
    assert listed.returncode == 0 and 'internimage/upernet_internimage-t_8xb2-160k_ade20k' \
        '-512x512' in listed.stdout
    missing = _segkit('test', 'upernet_internimag', 'x.pth')
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        'segkit test: error: config file not found: upernet_internimag, and no shipped config '
        'has that name; did you mean upernet_internimage-c16_sample-128x128? '
        '(SEGKIT_DEBUG=1 shows the traceback)']


def test_a_missing_optional_dependency_names_its_extra() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"no_such_pkg is not installed; it comes with "
                                                  r"pip install 'segkit\[plot\]'"):
        require('no_such_pkg.sub', 'plot')
    assert require('json', 'plot').dumps([]) == '[]'


def test_thing_classes_of_known_datasets() -> None:
    """The objects of --occluder objects: a known dataset's things
    (segkit.datasets.things), or the named classes; an unknown name is one
    error naming the classes."""
    import segkit.mmseg  # noqa: F401
    from mmseg.datasets import ADE20KDataset, CityscapesDataset

    from segkit.apis.robustness import thing_ids

    ade = tuple(ADE20KDataset.METAINFO['classes'])
    ids = thing_ids(ade, None)
    assert len(ids) == len(set(ids)) == 100 and ade[ids[0]] == 'bed '
    city = tuple(CityscapesDataset.METAINFO['classes'])
    assert [city[i] for i in thing_ids(city, None)] == [
        'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']
    assert thing_ids(city, ['car']) == [city.index('car')]
    with pytest.raises(ValueError, match=r"\['lamp'\] are not classes of this dataset: road"):
        thing_ids(city, ['lamp'])
    assert thing_ids(('stuff', 'other stuff'), None) is None
