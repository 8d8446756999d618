"""Atomic writes: the file (or folder) appears whole or not at all."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segkit.utils.io import atomic_save, atomic_save_dir, atomic_write_bytes


def test_atomic_save_writes_through_a_path_and_leaves_no_temporary(tmp_path: Path) -> None:
    source = tmp_path / 'source.bin'
    source.write_bytes(b'label')
    target = tmp_path / 'deep' / 'copy.png'
    assert atomic_save(target, lambda tmp: shutil.copyfile(source, tmp)) == target
    assert target.read_bytes() == b'label'
    assert sorted(p.name for p in target.parent.iterdir()) == ['copy.png']


def test_a_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / 'model.so', b'old')
    seen = []

    def half_written(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_bytes(b'ne')
        raise RuntimeError('the compiler died')

    with pytest.raises(RuntimeError, match='the compiler died'):
        atomic_save(target, half_written, suffix='.so')
    assert target.read_bytes() == b'old'
    assert seen[0].parent == tmp_path and seen[0].suffix == '.so'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.so']


def test_atomic_save_dir_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / 'sample'
    (out / 'stale').mkdir(parents=True)

    def fill(tmp: Path) -> None:
        assert tmp.parent == tmp_path and tmp != out
        (tmp / 'ade').mkdir()
        (tmp / 'ade' / 'a.png').write_bytes(b'x')

    assert atomic_save_dir(out, fill) == out
    assert sorted(str(p.relative_to(out)) for p in out.rglob('*')) == ['ade', 'ade/a.png']

    def broken(tmp: Path) -> None:
        (tmp / 'half').write_text('...')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save_dir(out, broken)
    assert (out / 'ade' / 'a.png').exists() and not (out / 'half').exists()
    assert [p.name for p in tmp_path.iterdir()] == ['sample']  # no temporary folder left


def test_atomic_files_and_folders_get_the_permissions_open_gives(tmp_path) -> None:
    """Not mkstemp's private 0600: a written dataset or report is readable by
    whoever could read a file written with open() (the umask decides)."""
    import os
    import stat

    from segkit.utils.io import atomic_save_dir, atomic_write_text

    old = os.umask(0o027)
    try:
        path = atomic_write_text(tmp_path / 'a.txt', 'x')
        folder = atomic_save_dir(tmp_path / 'd', lambda d: (d / 'f').write_text('y'))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
