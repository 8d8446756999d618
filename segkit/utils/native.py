"""Compile-on-first-use C++ kernels, loaded with ctypes.

segkit's CPU kernels are plain C++ on raw pointers (no PyTorch headers), so
the system compiler builds one in about a second: no build step at install
time, no ninja, nothing downloaded. The shared library is cached under
``$SEGKIT_CACHE_DIR`` (default ``$XDG_CACHE_HOME/segkit`` or
``~/.cache/segkit``), named by a hash of the source, the compiler, its flags
and the CPU's features, and written by rename, so concurrent processes never
see half a library. When there is no compiler, or ``SEGKIT_NATIVE=0``,
:func:`load_native` warns once and returns None and the caller takes its
pure-PyTorch path. ``CXX`` picks the compiler (default ``c++``).
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import warnings
from pathlib import Path

from segkit.utils.io import atomic_save

__all__ = ['load_native', 'native_cache_dir']

_FLAGS = ['-O3', '-std=c++17', '-shared', '-fPIC']
# tried in turn: compilers without OpenMP (Apple clang) or -march=native still
# build the kernels, single-threaded or for the generic CPU. -march=native is
# safe to cache because the CPU's features are part of the cache key.
_OPTIONAL = (['-march=native', '-fopenmp'], ['-fopenmp'], ['-march=native'], [])


def native_cache_dir() -> Path:
    """Where compiled kernels are kept."""
    if os.environ.get('SEGKIT_CACHE_DIR'):
        return Path(os.environ['SEGKIT_CACHE_DIR'])
    base = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(base) / 'segkit'


def _cpu_features() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith(('flags', 'Features')):
                return line
    except OSError:
        pass
    return platform.processor()


def _build(cxx: str, extra: list[str], source: Path, target: Path) -> None:
    """Compiles; a refusal raises CalledProcessError whose ``stderr`` is the
    compiler's first error line."""
    proc = subprocess.run([cxx, *_FLAGS, *extra, str(source), '-o', str(target)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if 'error' in ln] or [proc.stderr]
        raise subprocess.CalledProcessError(proc.returncode, cxx, stderr=lines[0].strip())


def _compile(cxx: str, source: Path, target: Path) -> str | None:
    """Builds ``target``; returns None, or the compiler's first error line."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f'cannot create {target.parent}: {exc.strerror}'
    error = 'unknown error'
    for extra in _OPTIONAL:
        try:
            atomic_save(target, functools.partial(_build, cxx, extra, source), suffix='.so')
            return None
        except subprocess.CalledProcessError as exc:
            error = exc.stderr
    return error


@functools.lru_cache(maxsize=None)
def load_native(source: str | os.PathLike) -> ctypes.CDLL | None:
    """The shared library built from the C++ file ``source``, or None.

    None (with a one-line warning naming the reason) when native kernels are
    switched off, no compiler is found or the build fails.
    """
    source = Path(source)
    name = source.stem
    if os.environ.get('SEGKIT_NATIVE', '1') == '0':
        warnings.warn(f'segkit: native kernel {name} disabled by SEGKIT_NATIVE=0; '
                      'using the pure-PyTorch path', stacklevel=2)
        return None
    cxx = os.environ.get('CXX', 'c++')
    if shutil.which(cxx) is None:
        warnings.warn(f'segkit: no C++ compiler ({cxx!r}) to build {name}; '
                      'using the pure-PyTorch path (set CXX to use another)', stacklevel=2)
        return None
    try:
        version = subprocess.run([cxx, '--version'], capture_output=True, text=True,
                                 timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        warnings.warn(f'segkit: cannot run {cxx!r} to build {name} ({exc}); '
                      'using the pure-PyTorch path', stacklevel=2)
        return None
    key = hashlib.sha256('\0'.join([source.read_text(), cxx, version, ' '.join(_FLAGS),
                                    repr(_OPTIONAL), platform.machine(),
                                    _cpu_features()]).encode())
    target = native_cache_dir() / f'{name}-{key.hexdigest()[:16]}.so'
    if not target.exists():
        error = _compile(cxx, source, target)
        if error is not None:
            warnings.warn(f'segkit: building {name} with {cxx!r} failed ({error}); '
                          'using the pure-PyTorch path', stacklevel=2)
            return None
    return ctypes.CDLL(str(target))
