"""The configs shipped with segkit, found by name (as mmseg ships its ``.mim``
configs): ``segkit/configs`` in the package, the repository's ``configs/``
in a checkout.

A config outside segkit names a shipped one as its ``_base_`` through
:func:`base_reference`: ``'{{$SEGKIT_CONFIGS:<folder>}}/<family>/<name>.py'``,
which mmengine fills from the environment variable :data:`CONFIGS_ENV`, or
with the folder the configs were in when the file was written; segkit's
commands set the variable to their own configs while they load one
(:func:`configs_env`).
"""
from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from segkit.utils.deprecation import renamed

__all__ = ['CONFIGS_ENV', 'RENAMED', 'base_reference', 'config_dir', 'configs_env', 'list_configs',
           'resolve_config']

CONFIGS_ENV = 'SEGKIT_CONFIGS'

# old config name -> new (segkit 0.2: the designed-shape tag is 'qh' everywhere)
RENAMED = {
    'upernet_convnext-t-hex_8xb2-160k_ade20k-512x512':
        'upernet_convnext-t-qh_8xb2-160k_ade20k-512x512',
    'upernet_convnext-t-hex_8xb1-160k_cityscapes-512x1024':
        'upernet_convnext-t-qh_8xb1-160k_cityscapes-512x1024',
    'upernet_convnext-c16-hex_sample-128x128': 'upernet_convnext-c16-qh_sample-128x128',
}


def config_dir() -> Path:
    """Where the shipped configs are."""
    return Path(__file__).resolve().parents[1] / 'configs'


def list_configs() -> list[str]:
    """Names of the shipped configs (``folder/name``, without ``.py``; no ``_base_``)."""
    root = config_dir()
    return sorted(p.relative_to(root).with_suffix('').as_posix() for p in root.rglob('*.py')
                  if '_base_' not in p.parts)


def resolve_config(config: str | os.PathLike) -> Path:
    """``config`` itself if it is a file, else the shipped config it names.

    A name is the file name with or without ``.py``, optionally with its
    folder (``sample/fcn_dense-r18_sample-128x128``) or a ``configs/`` prefix.

    Raises:
        FileNotFoundError: neither a file nor a shipped config; the message
            suggests close names.
    """
    path = Path(config)
    if path.is_file():
        return path
    name = path.as_posix().removesuffix('.py').removeprefix('configs/')
    folder, _, stem = name.rpartition('/')
    if stem in RENAMED:
        renamed(stem, RENAMED[stem], 'config name')
        name = f'{folder}/{RENAMED[stem]}' if folder else RENAMED[stem]
    names = list_configs()
    matches = [n for n in names if n == name or n.rsplit('/', 1)[-1] == name]
    if len(matches) == 1:
        return config_dir() / f'{matches[0]}.py'
    if len(matches) > 1:
        raise FileNotFoundError(f'config name {config} is ambiguous: {", ".join(matches)}')
    close = difflib.get_close_matches(name, names + [n.rsplit('/', 1)[-1] for n in names], n=3)
    hint = f'; did you mean {" or ".join(close)}?' if close else ' (segkit configs lists them)'
    raise FileNotFoundError(f'config file not found: {config}, and no shipped config has '
                            f'that name{hint}')


def base_reference(path: str | os.PathLike) -> str:
    """What a config file anywhere writes as ``_base_`` to inherit ``path``:
    for a shipped config, its place under ``{{$SEGKIT_CONFIGS:<configs folder
    now>}}`` (see the module docstring), else its absolute path."""
    path = Path(path).resolve()
    root = config_dir().resolve()
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    # NOTE: mmengine 0.10.7 puts the default into a regular expression
    # unescaped and stops it at whitespace: only plain paths go there
    if not re.fullmatch(r'[\w./~-]+', root.as_posix()):
        return path.as_posix()
    return f'{{{{${CONFIGS_ENV}:{root.as_posix()}}}}}/{rel}'


@contextlib.contextmanager
def configs_env() -> Iterator[None]:
    """:data:`CONFIGS_ENV` set to these configs (unless the user set it) while
    a config is loaded, so files from :func:`base_reference` find them."""
    if CONFIGS_ENV in os.environ:
        yield
        return
    from mmengine.logging import MMLogger

    # NOTE: mmengine 0.10.7 logs every substitution; segkit's own is no news
    logger = MMLogger.get_current_instance()
    said = f'Using env variable `{CONFIGS_ENV}`'

    def quiet(record: object) -> bool:
        return not str(getattr(record, 'msg', '')).startswith(said)

    os.environ[CONFIGS_ENV] = config_dir().resolve().as_posix()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        os.environ.pop(CONFIGS_ENV, None)
        logger.removeFilter(quiet)
