"""Bad samples: named with their files, or skipped and counted."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest
from mmseg.registry import DATASETS

from segkit.datasets import BadSampleError, SafeDataset
from tests.helpers import SAMPLE_CONFIG, run_tool_in_process, sample_cfg_options


@pytest.fixture
def broken_root(sample_root: Path, tmp_path: Path) -> Path:
    """A copy of the small sample set with one bad label and one broken image."""
    root = tmp_path / 'ade'
    shutil.copytree(sample_root / 'ade', root)
    labels = sorted((root / 'annotations' / 'training').glob('*.png'))
    images = sorted((root / 'images' / 'training').glob('*.jpg'))
    label = cv2.imread(str(labels[1]), cv2.IMREAD_UNCHANGED)
    label[0, 0] = 42  # outside the 7 classes (+1 for reduce_zero_label)
    cv2.imwrite(str(labels[1]), label)
    cv2.imwrite(str(labels[2]), label[:100])  # size differs from its image
    images[3].write_bytes(b'')  # an empty image file
    return root


def _dataset(root: Path, skip: bool) -> SafeDataset:
    from mmengine.config import Config

    cfg = Config.fromfile(str(SAMPLE_CONFIG))
    inner = dict(cfg.train_dataloader.dataset, data_root=str(root))
    return DATASETS.build(dict(type='SafeDataset', dataset=inner, skip_bad=skip))


def test_first_bad_sample_is_named(broken_root: Path) -> None:
    dataset = _dataset(broken_root, skip=False)
    assert dataset[0]['inputs'].shape[0] == 3
    with pytest.raises(BadSampleError, match=r'sample_training_00001\.jpg.*label values \[41\] '
                                             r'outside 0\.\.6'):
        dataset[1]
    with pytest.raises(BadSampleError, match=r'00002\.png: label size 128x100 differs'):
        dataset[2]
    with pytest.raises(BadSampleError, match=r'sample_training_00003\.jpg'):
        dataset[3]


def test_bad_samples_skipped_and_counted(broken_root: Path) -> None:
    dataset = _dataset(broken_root, skip=True)
    dataset.max_skip_fraction = 0.5
    items = [dataset[i] for i in range(len(dataset))]
    assert len(items) == len(dataset)
    assert sorted(dataset.bad_samples) == [1, 2, 3]
    assert 'label values' in dataset.bad_samples[1]
    assert 'differs from image' in dataset.bad_samples[2]
    assert dataset.bad_samples[3]  # the decoder's own reason
    dataset.max_skip_fraction = 0.1  # 1.6 of 16: the second bad sample stops it
    dataset.bad_samples.clear()
    with pytest.raises(BadSampleError, match='2 of 16 samples are bad'):
        [dataset[i] for i in range(len(dataset))]


def _broken_options(sample_root: Path, broken_root: Path, iters: int) -> list[str]:
    """The sample config on the broken dataset, all of it in one ordered batch."""
    options = [o.replace(str(sample_root / 'ade'), str(broken_root))
               for o in sample_cfg_options(sample_root, max_iters=iters, interval=iters)]
    return options + ['train_dataloader.batch_size=16', 'train_dataloader.sampler.shuffle=False']


@pytest.mark.slow
def test_training_stops_with_the_file_named(broken_root: Path, tmp_path: Path,
                                            sample_root: Path) -> None:
    options = _broken_options(sample_root, broken_root, 6)
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        *options, check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert 'Traceback' not in result.stderr and 'sample_training_0000' in last, last


@pytest.mark.slow
def test_training_can_skip_bad_samples(broken_root: Path, tmp_path: Path,
                                       sample_root: Path) -> None:
    result = run_tool_in_process('tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path,
                                 '--skip-bad-samples', '0.5', '--cfg-options',
                                 *_broken_options(sample_root, broken_root, 4))
    log = result.stdout + result.stderr
    assert 'skipping bad sample' in log and '(3 skipped so far)' in log
    assert (tmp_path / 'iter_4.pth').is_file()
