"""Compile-on-first-use of C++ kernels: cache, fall-backs, errors."""
from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from segkit.utils.native import load_native

# the uncached function: each test sees its own environment
build = load_native.__wrapped__

SOURCE = 'extern "C" int segkit_answer(int x) { return 2 * x + 1; }\n'


@pytest.fixture
def source(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv('SEGKIT_CACHE_DIR', str(tmp_path / 'cache'))
    path = tmp_path / 'answer.cpp'
    path.write_text(SOURCE)
    return path


def test_builds_once_and_reuses_the_cache(source: Path, tmp_path: Path) -> None:
    lib = build(source)
    lib.segkit_answer.argtypes = [ctypes.c_int]
    assert lib.segkit_answer(20) == 41
    (built,) = (tmp_path / 'cache').glob('answer-*.so')
    mtime = built.stat().st_mtime_ns
    assert build(source) is not None and built.stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / 'cache').iterdir()] == [built.name]  # no temp left
    source.write_text(SOURCE.replace('+ 1', '+ 2'))  # new source, new library
    lib = build(source)
    assert lib.segkit_answer(20) == 42 and len(list((tmp_path / 'cache').glob('*.so'))) == 2


def test_switched_off_or_no_compiler_warns_and_returns_none(source: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setenv('SEGKIT_NATIVE', '0')
    with pytest.warns(UserWarning, match='disabled by SEGKIT_NATIVE=0'):
        assert build(source) is None
    monkeypatch.delenv('SEGKIT_NATIVE')
    monkeypatch.setenv('CXX', 'no-such-compiler')
    with pytest.warns(UserWarning, match="no C\\+\\+ compiler \\('no-such-compiler'\\)"):
        assert build(source) is None


def test_build_error_is_named_in_one_line(source: Path, tmp_path: Path) -> None:
    source.write_text('extern "C" int broken( { return; }\n')
    with pytest.warns(UserWarning, match=r'building answer .* failed \(.*error.*\)') as record:
        assert build(source) is None
    assert '\n' not in str(record[0].message)
    assert not list((tmp_path / 'cache').iterdir())  # nothing half-written


def test_unwritable_cache_dir_falls_back(source: Path, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / 'file'
    blocker.write_text('')
    monkeypatch.setenv('SEGKIT_CACHE_DIR', str(blocker / 'cache'))
    with pytest.warns(UserWarning, match='cannot create'):
        assert build(source) is None


def test_compiler_without_openmp_still_builds(source: Path, tmp_path: Path,
                                              monkeypatch) -> None:
    """Like Apple clang: -fopenmp is refused, the next attempt goes without it."""
    log = tmp_path / 'calls.txt'
    fake = tmp_path / 'fake-c++'
    fake.write_text('#!/bin/sh\n'
                    f'echo "$@" >> {log}\n'
                    'case " $* " in *" -fopenmp "*) '
                    'echo "clang: error: unsupported option -fopenmp" >&2; exit 1;; esac\n'
                    'exec c++ "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv('CXX', str(fake))
    lib = build(source)
    lib.segkit_answer.argtypes = [ctypes.c_int]
    assert lib.segkit_answer(1) == 3
    calls = [line.split() for line in log.read_text().splitlines() if '-o' in line.split()]
    assert ['-fopenmp' in c for c in calls] == [True, True, False]
    assert '-march=native' in calls[-1]
