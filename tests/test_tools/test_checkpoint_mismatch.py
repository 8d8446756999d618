"""A checkpoint of another model gives every tool the same one-line message:
how many keys are missing / unexpected / reshaped, the first few of each, and
the config the file was trained with (from its meta). Run in-process (the
tools stop before any model work), each through the segkit command."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from segkit.cli import run_command
from tests.helpers import REPO, fresh_mmengine_instances, sample_cfg_options

TARGET = REPO / 'configs' / 'sample' / 'upernet_internimage-c16_sample-128x128.py'
OTHER = 'fcn_dense-r18_sample-128x128'


@pytest.fixture(scope='module')
def other_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of another sample model, with the meta mmengine writes."""
    from segkit.apis.inference import load_segmentor

    model = load_segmentor(OTHER)
    path = tmp_path_factory.mktemp('other') / 'iter_10.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'experiment_name': f'{OTHER}_20261129_120000', 'iter': 10}}, path)
    return path


@pytest.fixture(autouse=True)
def fresh_loggers():
    """mmengine keeps its loggers (and their handlers' streams) across runs in
    one process; each test's tool gets new ones, writing to its captured stderr."""
    with fresh_mmengine_instances():
        yield


def _error_line(capsys, command: str, *argv: object) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run_command(command, [str(a) for a in argv], prog=f'segkit {command}')
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert 'Traceback' not in err
    return err.splitlines()[-1]


def _assert_summary(line: str) -> None:
    assert 'does not fit this EncoderDecoder:' in line, line
    assert re.search(r'\d+ missing \[backbone\.', line), line
    assert re.search(r'\d+ unexpected \[backbone\.', line), line
    assert f'trained with {OTHER}' in line, line
    assert line.count(', ') < 20 and len(line) < 1500, len(line)  # a summary, not every key


@pytest.mark.parametrize('command,extra', [
    ('infer', ['{input}', '--out', '{tmp}/out']),
    ('export', ['--out', '{tmp}/model.onnx']),
    ('receptive-field', ['--out', '{tmp}/rf']),
    ('robustness', ['--out', '{tmp}/rob']),
])
def test_loading_tools(capsys, other_checkpoint: Path, sample_root: Path, tmp_path: Path,
                       command: str, extra: list[str]) -> None:
    image = sample_root / 'ade' / 'images' / 'validation'
    args = [TARGET, other_checkpoint, *(a.format(input=image, tmp=tmp_path) for a in extra)]
    _assert_summary(_error_line(capsys, command, *args))


def test_test_tool(capsys, other_checkpoint: Path, sample_root: Path, tmp_path: Path) -> None:
    line = _error_line(capsys, 'test', TARGET, other_checkpoint, '--work-dir', tmp_path,
                       '--cfg-options', *sample_cfg_options(sample_root))
    _assert_summary(line)


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_training_start(capsys, other_checkpoint: Path, sample_root: Path, tmp_path: Path,
                        how: str) -> None:
    """A resumed checkpoint must fit exactly; a load_from of another model,
    nothing of which fits, is refused the same way."""
    options = sample_cfg_options(sample_root, max_iters=4, interval=2)
    if how == 'resume':
        args = ['--resume', other_checkpoint]
    else:
        args = []
        options.append(f'load_from={other_checkpoint}')
    line = _error_line(capsys, 'train', TARGET, '--work-dir', tmp_path, *args,
                       '--cfg-options', *options)
    _assert_summary(line)


def test_an_input_without_images_is_an_error(capsys, other_checkpoint: Path,
                                             tmp_path: Path) -> None:
    (tmp_path / 'empty' / 'sub').mkdir(parents=True)
    (tmp_path / 'empty' / 'notes.txt').write_text('no images here')
    line = _error_line(capsys, 'infer', TARGET, other_checkpoint, tmp_path / 'empty',
                       '--out', tmp_path / 'out')
    assert re.search(r'error: no image found in .*empty or its subfolders \(looked for '
                     r'\.jpg .*\.png', line), line
    (tmp_path / 'list.txt').write_text('# nothing\n\n')
    line = _error_line(capsys, 'infer', TARGET, other_checkpoint, tmp_path / 'list.txt',
                       '--out', tmp_path / 'out')
    assert 'the list' in line and 'names no image' in line


def test_a_fine_tuning_load_from_is_said_not_refused(tmp_path: Path) -> None:
    """load_from a file with another head (another class count): the rest
    loads, and the one line says what does not fit; strictly it is refused."""
    from segkit.apis.inference import load_segmentor
    from segkit.errors import CheckpointMismatchError
    from segkit.models.checkpoint_utils import check_checkpoint

    model = load_segmentor(TARGET)
    state = model.state_dict()
    state['decode_head.conv_seg.weight'] = torch.zeros(19, *state['decode_head.conv_seg.weight']
                                                       .shape[1:])
    state['decode_head.conv_seg.bias'] = torch.zeros(19)
    path = tmp_path / 'cityscapes.pth'
    torch.save({'state_dict': state}, path)
    said = check_checkpoint(model, str(path), strict=False)
    assert said.endswith("2 reshaped [decode_head.conv_seg.weight (19, 32, 1, 1) in the file, "
                         "(7, 32, 1, 1) here, decode_head.conv_seg.bias (19,) in the file, "
                         "(7,) here]"), said
    with pytest.raises(CheckpointMismatchError, match='2 reshaped'):
        check_checkpoint(model, str(path), strict=True)
