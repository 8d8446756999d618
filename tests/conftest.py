"""Shared fixtures (helpers that tests import live in ``tests/helpers``)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():
    # Triton's kernels run on the CPU under its interpreter, which must be
    # switched on before anything imports triton (segkit's tests of its
    # Triton kernels rely on it).
    os.environ.setdefault('TRITON_INTERPRET', '1')

import segkit.mmseg  # noqa: E402,F401  (fixes + registration for every test)
from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope('mmseg')


@pytest.fixture(scope='session')
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample dataset (both layouts), generated once per session."""
    from segkit.datasets.sample_data import make_sample_data

    return make_sample_data(tmp_path_factory.mktemp('data') / 'sample', seed=3,
                            num_train=16, num_val=6)
