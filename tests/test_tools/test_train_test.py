"""tools/train.py and tools/test.py end to end on the sample data (tiny runs).

The tools run in this process (``run_tool_in_process``: a new interpreter
costs 5-10 s of imports) except where the process is what is tested:
launchers, dataloader workers, a kill."""
from __future__ import annotations

import json
import re
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers import SAMPLE_CONFIG, run_tool, run_tool_in_process, sample_cfg_options

pytestmark = pytest.mark.slow  # tools and training end to end


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode != 0
    err = result.stderr.strip()
    assert 'Traceback' not in err, err
    last = err.splitlines()[-1]
    assert ': error: ' in last, err
    for needle in needles:
        assert needle in last, last


@pytest.fixture(scope='module')
def trained(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work_dir = tmp_path_factory.mktemp('train')
    run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', work_dir, '--seed', '3',
        '--cfg-options', *sample_cfg_options(sample_root, max_iters=10, interval=5))
    return work_dir


def test_train_writes_checkpoints(trained: Path) -> None:
    assert (trained / 'iter_5.pth').is_file() and (trained / 'iter_10.pth').is_file()
    assert Path((trained / 'last_checkpoint').read_text().strip()) == trained / 'iter_10.pth'
    ckpt = torch.load(trained / 'iter_10.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 10
    assert ckpt['meta']['dataset_meta']['classes'][0] == 'ground'
    assert not list(trained.rglob('*.tmp')), 'atomic writes leave no temporary files'
    # --seed: what the run used, recorded for segkit compare (and in the dumped config)
    from segkit.apis.runner import read_run_seed

    assert ckpt['meta']['seed'] == 3
    assert json.loads((trained / 'segkit_run.json').read_text())['seed'] == 3
    assert read_run_seed(trained) == 3
    (trained / 'segkit_run.json').rename(trained / 'record.json')
    try:
        assert read_run_seed(trained) == 3  # from the dumped config
    finally:
        (trained / 'record.json').rename(trained / 'segkit_run.json')


def test_test_prints_table_and_writes_json(trained: Path, sample_root: Path,
                                           tmp_path: Path) -> None:
    metrics_file = tmp_path / 'metrics.json'
    out_dir = tmp_path / 'pred'
    result = run_tool_in_process(
        'tools/test.py', SAMPLE_CONFIG, trained / 'iter_10.pth',
        '--work-dir', tmp_path, '--metrics-json', metrics_file,
        '--out', out_dir,
        '--cfg-options', *sample_cfg_options(sample_root))
    log = result.stdout + result.stderr
    assert 'per class results' in log
    for name in ('ground', 'grass', 'water', 'brick', 'disc', 'box', 'triangle'):
        assert re.search(rf'\|\s+{name}\s+\|\s+[\d.]+\s+\|', log), name
    metrics = json.loads(metrics_file.read_text())['metrics']
    assert set(metrics) >= {'aAcc', 'mIoU', 'mAcc'}
    assert 0.0 <= metrics['mIoU'] <= 100.0 and metrics['aAcc'] > 0
    assert len(list(out_dir.glob('*.png'))) == 6
    # the per-image counts mmseg's mIoU sums: the same figure from the file
    from segkit.evaluation.statistics import ImageCounts

    counts = ImageCounts.load(tmp_path / 'per_image_stats.npz')
    assert counts.num_images == 6 and counts.class_names[0] == 'ground'
    assert round(counts.miou(), 2) == metrics['mIoU']
    assert 'per_image_stats.npz' in result.stdout


def test_resume_continues_from_checkpoint(trained: Path, sample_root: Path,
                                          tmp_path: Path) -> None:
    work_dir = tmp_path / 'resumed'
    shutil.copytree(trained, work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_10.pth'))
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', work_dir, '--resume',
        '--cfg-options', *sample_cfg_options(sample_root, max_iters=15, interval=5))
    log = result.stdout + result.stderr
    assert 'resumed epoch: 0, iter: 10' in log
    assert 'Iter(train) [15/15]' in log and 'Iter(train) [ 5/15]' not in log
    assert torch.load(work_dir / 'iter_15.pth', weights_only=True)['meta']['iter'] == 15


def test_missing_data_root_is_one_line(tmp_path: Path) -> None:
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path,
        '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}/nope',
        check=False)
    _one_line_error(result, 'train data root not found', 'nope',
                    'python tools/make_sample_data.py')


def test_bad_config_key_is_one_line(sample_root: Path, tmp_path: Path) -> None:
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path,
        '--cfg-options', *sample_cfg_options(sample_root),
        'model.backbone.depthh=18', check=False)
    _one_line_error(result, 'TypeError', "unexpected keyword argument 'depthh'")


def test_missing_and_malicious_checkpoint_are_one_line(sample_root: Path,
                                                       tmp_path: Path) -> None:
    options = ['--cfg-options', *sample_cfg_options(sample_root)]
    result = run_tool_in_process(
        'tools/test.py', SAMPLE_CONFIG, tmp_path / 'missing.pth',
        '--work-dir', tmp_path, *options, check=False)
    _one_line_error(result, 'checkpoint not found', 'missing.pth')

    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'

    class Evil:
        def __reduce__(self):
            return os.system, (f'touch {marker}',)

    torch.save({'state_dict': {}, 'payload': Evil()}, evil)
    result = run_tool_in_process(
        'tools/test.py', SAMPLE_CONFIG, evil, '--work-dir', tmp_path,
        *options, check=False)
    _one_line_error(result, 'refusing to load', 'evil.pth', 'system')
    assert not marker.exists()


def test_two_process_training_and_distributed_validation(sample_root: Path,
                                                          tmp_path: Path) -> None:
    """--launcher pytorch under torchrun: two gloo processes on the CPU train
    InternImage (DCNv3) without DDP's grad-stride warning (a copy per step),
    and a two-process evaluation gives the single-process metrics."""
    config = SAMPLE_CONFIG.parent / 'upernet_internimage-c16_sample-128x128.py'
    options = sample_cfg_options(sample_root, max_iters=4, interval=4)
    result = run_tool('tools/train.py', config, '--work-dir', tmp_path / 'train',
                      '--launcher', 'pytorch', '--cfg-options', *options,
                      runner=(sys.executable, '-m', 'torch.distributed.run',
                              '--nproc_per_node=2', '--master_port=29523'))
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    assert 'Distributed launcher: pytorch' in log or "'launcher': 'pytorch'" in log or \
        'launcher: pytorch' in log, log[-2000:]
    assert 'Grad strides do not match bucket view strides' not in log
    checkpoint = tmp_path / 'train' / 'iter_4.pth'
    assert checkpoint.is_file()
    metrics = {}
    for procs in (1, 2):
        out = tmp_path / f'metrics_{procs}.json'
        args = ('tools/test.py', config, checkpoint, '--work-dir', tmp_path / f'test_{procs}',
                '--metrics-json', out, '--cfg-options', *options)
        if procs == 1:
            run_tool_in_process(*args)
        else:
            run_tool(*args, '--launcher', 'pytorch', runner=(
                sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                '--master_port=29524'))
        metrics[procs] = json.loads(out.read_text())['metrics']
    assert metrics[1]['mIoU'] > 0
    assert metrics[2] == metrics[1]
    # gathered from both ranks: the same images in the same order, the same counts
    one, two = (np.load(tmp_path / f'test_{procs}' / 'per_image_stats.npz') for procs in (1, 2))
    assert list(two['img_names']) == list(one['img_names']) and len(one['img_names']) == 6
    for name in ('area_intersect', 'area_union', 'area_pred_label', 'area_label'):
        np.testing.assert_array_equal(two[name], one[name])


@pytest.mark.parametrize('config', ['upernet_internimage-c16_sample-128x128.py',
                                    'fcn_dense-r18_sample-128x128.py'])
def test_other_sample_models_train(config: str, sample_root: Path, tmp_path: Path) -> None:
    """A tiny InternImage (DCNv3) and a densified ResNet train on the sample data."""
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG.parent / config, '--work-dir', tmp_path,
        '--cfg-options', *sample_cfg_options(sample_root, max_iters=10, interval=10))
    log = result.stdout + result.stderr
    losses = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/10\].*? loss: ([\d.]+)', log)]
    assert len(losses) >= 2 and all(v == v and v < 10 for v in losses)  # finite
    assert re.search(r'mIoU: [\d.]+', log)
    assert (tmp_path / 'iter_10.pth').is_file()


def test_amp_on_the_cpu_trains_in_bfloat16(sample_root: Path, tmp_path: Path) -> None:
    """--amp on the CPU: bfloat16 autocast (mmengine's AmpOptimWrapper needs
    a GPU); the DCNv3 sample model trains with finite losses. float16 needs
    CUDA's loss scaling and is refused in one line."""
    config = SAMPLE_CONFIG.parent / 'upernet_internimage-c16_sample-128x128.py'
    options = sample_cfg_options(sample_root, max_iters=10, interval=10)
    result = run_tool_in_process(
        'tools/train.py', config, '--work-dir', tmp_path, '--amp',
        '--cfg-options', *options)
    log = result.stdout + result.stderr
    assert 'bfloat16 autocast' in log
    losses = [float(v) for v in re.findall(r'Iter\(train\) \[\s*\d+/10\].*? loss: ([\d.]+)', log)]
    assert len(losses) >= 2 and all(v == v and v < 10 for v in losses), losses
    assert (tmp_path / 'iter_10.pth').is_file()
    result = run_tool_in_process(
        'tools/train.py', config, '--work-dir', tmp_path / 'fp16', '--amp',
        '--amp-dtype', 'float16', '--cfg-options', *options, check=False)
    _one_line_error(result, 'float16 mixed precision needs CUDA')


def test_nan_loss_stops_with_the_step_named(sample_root: Path, tmp_path: Path) -> None:
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        *sample_cfg_options(sample_root, max_iters=4, interval=2),
        'model.decode_head.loss_decode.loss_weight=nan', check=False)
    _one_line_error(result, 'loss is nan at training step 1')
    assert not list(tmp_path.glob('iter_*.pth')), 'no checkpoint with NaN weights'


def test_nan_guard_skip_leaves_weights_untouched() -> None:
    from segkit.engine import NonFiniteGuardOptimWrapper

    layer = torch.nn.Linear(2, 1)
    before = layer.weight.detach().clone()
    wrapper = NonFiniteGuardOptimWrapper(torch.optim.SGD(layer.parameters(), lr=1.0),
                                         on_non_finite='skip')
    wrapper.update_params(layer(torch.ones(1, 2)).sum() * float('inf'))
    assert wrapper.skipped_steps == 1 and torch.equal(layer.weight, before)
    wrapper.update_params(layer(torch.ones(1, 2)).sum())
    assert not torch.equal(layer.weight, before)
    with pytest.raises(ValueError, match='on_non_finite'):
        NonFiniteGuardOptimWrapper(torch.optim.SGD(layer.parameters(), lr=1.0),
                                   on_non_finite='ignore')


def test_kill_and_resume_reaches_the_uninterrupted_weights(sample_root: Path,
                                                           tmp_path: Path) -> None:
    """kill -9 mid-training, --resume: the same weights as a run never interrupted."""
    import subprocess
    import time

    from tests.helpers import REPO

    options = [*sample_cfg_options(sample_root, max_iters=12, interval=3),
               'default_hooks.checkpoint.max_keep_ckpts=-1']
    straight = tmp_path / 'straight'  # the runs that are not killed run in this process
    run_tool_in_process('tools/train.py', SAMPLE_CONFIG, '--work-dir', straight,
                        '--cfg-options', *options)

    killed = tmp_path / 'killed'
    proc = subprocess.Popen([sys.executable, 'tools/train.py', str(SAMPLE_CONFIG), '--work-dir',
                             str(killed), '--cfg-options', *options], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (killed / 'iter_3.pth').exists() and time.time() < deadline:
            assert proc.poll() is None, 'training ended before it could be killed'
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no clean-up runs
    finally:
        proc.wait()
    assert not (killed / 'iter_12.pth').exists()
    run_tool_in_process('tools/train.py', SAMPLE_CONFIG, '--work-dir', killed, '--resume',
                        '--cfg-options', *options)
    a = torch.load(straight / 'iter_12.pth', weights_only=True)
    b = torch.load(killed / 'iter_12.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 12
    for key, value in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][key], value, rtol=0, atol=0, msg=key)
    for x, y in zip(a['optimizer']['state'].values(), b['optimizer']['state'].values()):
        torch.testing.assert_close(x['exp_avg'], y['exp_avg'], rtol=0, atol=0)


def test_dataloader_worker_crash_is_reported_not_a_hang(sample_root: Path, tmp_path: Path,
                                                        monkeypatch) -> None:
    from tests.helpers import REPO

    monkeypatch.setenv('PYTHONPATH', str(REPO))  # for tests.helpers in the tool's process
    config = tmp_path / 'crash.py'
    config.write_text(
        f"_base_ = '{SAMPLE_CONFIG}'\n"
        "custom_imports = dict(imports=['segkit.mmseg', 'tests.helpers.crash'],\n"
        "                      allow_failed_imports=False)\n"
        "train_pipeline = [dict(type='LoadImageFromFile'), dict(type='KillWorker')]\n"
        f"train_dataloader = dict(num_workers=2, persistent_workers=False, dataset=dict(\n"
        f"    data_root='{sample_root / 'ade'}', pipeline=train_pipeline))\n")
    options = [o for o in sample_cfg_options(sample_root, max_iters=4, interval=4)
               if not o.startswith('train_dataloader.num_workers')
               and not o.startswith('train_dataloader.persistent')]
    result = run_tool('tools/train.py', config, '--work-dir', tmp_path / 'work',
                      '--cfg-options', *options, check=False, timeout=300)
    _one_line_error(result, 'DataLoader worker', 'killed by signal')


def test_wrong_in_channels_and_unknown_type_are_one_line(sample_root: Path,
                                                         tmp_path: Path) -> None:
    options = sample_cfg_options(sample_root)
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        *options, 'model.decode_head.in_channels=96', check=False)
    _one_line_error(result, 'does not fit together at decode_head.convs.0.conv',
                    '128 channels')
    result = run_tool_in_process(
        'tools/train.py', SAMPLE_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        *options, 'model.backbone.type=NoSuchNet', check=False)
    _one_line_error(result, 'NoSuchNet is not in the mmseg::model registry')
