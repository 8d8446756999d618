"""segkit.compat: mmengine checkpoints load with weights_only=True; code never runs."""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from segkit.compat import checkpoint as compat_checkpoint
from segkit.compat import CheckpointError, load_checkpoint_file


def _runner_like_checkpoint() -> dict:
    """What a Runner checkpoint holds besides tensors: HistoryBuffers and numpy."""
    hub = MessageHub.get_instance('segkit-test')
    for i in range(3):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
    hub.update_info('iter', 3)
    return dict(
        meta=dict(seed=np.int64(7), iter=3, dataset_meta=dict(classes=('a', 'b'),
                                                              palette=[[1, 2, 3]]),
                  hist=np.arange(6, dtype=np.float32).reshape(2, 3),
                  scalar=np.float64(0.5), flag=np.bool_(True), blob=b'\x00\x01'),
        state_dict=dict(w=torch.randn(3, 3)),
        message_hub=hub.state_dict())


def test_mmengine_checkpoint_round_trip(tmp_path: Path) -> None:
    path = tmp_path / 'ckpt.pth'
    ckpt = _runner_like_checkpoint()
    torch.save(ckpt, path)
    loaded = load_checkpoint_file(path)
    torch.testing.assert_close(loaded['state_dict']['w'], ckpt['state_dict']['w'])
    np.testing.assert_array_equal(loaded['meta']['hist'], ckpt['meta']['hist'])
    assert loaded['meta']['seed'] == 7 and loaded['meta']['blob'] == b'\x00\x01'
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    # the same through mmengine's own loader (which segkit replaced)
    assert _load_checkpoint(str(path))['meta']['iter'] == 3


def test_allow_list_is_what_makes_it_load(tmp_path: Path) -> None:
    path = tmp_path / 'ckpt.pth'
    torch.save(_runner_like_checkpoint(), path)
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)
    finally:
        torch.serialization.add_safe_globals(saved)
    assert torch.load(path, weights_only=True)['meta']['iter'] == 3


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


class _AsksForAttribute:
    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match='refusing to load .*evil.pth.*system'):
        load_checkpoint_file(path)
    with pytest.raises(CheckpointError, match='refusing'):
        CheckpointLoader.load_checkpoint(str(path))
    assert not marker.exists()


def test_getattr_standin_refuses_other_lookups(tmp_path: Path) -> None:
    path = tmp_path / 'evil.pth'
    torch.save({'x': _AsksForAttribute()}, path)
    with pytest.raises(CheckpointError, match='refusing'):
        load_checkpoint_file(path)
    assert compat_checkpoint._checkpoint_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        compat_checkpoint._checkpoint_getattr(os, 'system')


def test_not_a_checkpoint_and_missing(tmp_path: Path) -> None:
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'this is not a checkpoint' * 10)
    with pytest.raises(CheckpointError, match='not a readable torch checkpoint'):
        load_checkpoint_file(junk)
    with pytest.raises(CheckpointError, match='checkpoint not found'):
        load_checkpoint_file(tmp_path / 'missing.pth')


def test_mmengine_local_writes_are_atomic(tmp_path: Path, monkeypatch) -> None:
    """A crash between writing and renaming leaves the old file, never a truncated one."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.checkpoint import save_checkpoint

    target = tmp_path / 'work' / 'iter_1.pth'
    save_checkpoint({'state_dict': {'w': torch.ones(2)}}, str(target))
    assert torch.load(target, weights_only=True)['state_dict']['w'].sum() == 2
    LocalBackend().put_text(str(target), tmp_path / 'work' / 'last_checkpoint')

    def crash(src, dst):
        raise OSError('killed')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(OSError, match='killed'):
        save_checkpoint({'state_dict': {'w': torch.zeros(2)}}, str(target))
    monkeypatch.undo()
    assert torch.load(target, weights_only=True)['state_dict']['w'].sum() == 2
    assert sorted(p.name for p in target.parent.iterdir()) == ['iter_1.pth', 'last_checkpoint']


def _as_written_by_numpy1(src: Path, dst: Path) -> None:
    """Rewrites a torch.save file so that its pickle names numpy's modules as
    numpy 1.x did (``numpy.core.multiarray``; numpy 2 writes
    ``numpy._core.multiarray``). torch.save pickles with protocol 2, where a
    global is ``GLOBAL module\\nname\\n``, so the rename is a byte replacement."""
    with zipfile.ZipFile(src) as original, zipfile.ZipFile(dst, 'w') as rewritten:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray\n' in data
                data = data.replace(b'numpy._core.multiarray\n', b'numpy.core.multiarray\n')
            rewritten.writestr(info, data)


def test_numpy1_checkpoint_loads(tmp_path: Path) -> None:
    """An mmcv 1.x release (InternImage UPerNet) keeps numpy scalars in meta."""
    ckpt = dict(meta=dict(mmcv_version='1.5.0', CLASSES=('wall', 'floor'), iter=160000,
                          hook_msgs=dict(best_score=np.float64(0.4713), last_ckpt='x.pth'),
                          hist=np.arange(4, dtype=np.float32)),
                state_dict={'backbone.w': torch.randn(2, 2)})
    torch.save(ckpt, tmp_path / 'numpy2.pth')
    path = tmp_path / 'upernet_internimage_t_512_160k_ade20k.pth'
    _as_written_by_numpy1(tmp_path / 'numpy2.pth', path)
    loaded = load_checkpoint_file(path)
    best = loaded['meta']['hook_msgs']['best_score']
    assert isinstance(best, np.float64) and best == np.float64(0.4713)
    np.testing.assert_array_equal(loaded['meta']['hist'], ckpt['meta']['hist'])
    torch.testing.assert_close(loaded['state_dict']['backbone.w'], ckpt['state_dict']['backbone.w'])
    assert CheckpointLoader.load_checkpoint(str(path))['meta']['iter'] == 160000


def test_numpy1_names_do_not_open_other_doors(tmp_path: Path) -> None:
    marker = tmp_path / 'pwned'
    torch.save({'best': np.float64(1.0), 'x': _RunsCode(marker)}, tmp_path / 'numpy2.pth')
    path = tmp_path / 'evil.pth'
    _as_written_by_numpy1(tmp_path / 'numpy2.pth', path)
    with pytest.raises(CheckpointError, match='refusing to load .*evil.pth.*system'):
        load_checkpoint_file(path)
    assert not marker.exists()
    # another numpy.core function under the numpy 1.x module name stays refused
    sneaky = tmp_path / 'sneaky.pth'
    with zipfile.ZipFile(tmp_path / 'numpy2.pth') as src, zipfile.ZipFile(sneaky, 'w') as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith('data.pkl'):
                data = b'\x80\x02cnumpy.core.multiarray\nfromstring\nq\x00.'
            dst.writestr(info, data)
    with pytest.raises(CheckpointError, match='refusing.*numpy.core.multiarray.fromstring'):
        load_checkpoint_file(sneaky)
