"""Shared fixtures (helpers that tests import live in ``tests/helpers``)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# NOTE: OpenMP threads that spin-wait between parallel regions (libgomp's
# default) steal the time slices of the other threads when the cores are
# shared with other work: with 2 torch threads on this 2-core machine under
# load (3-6 on 2 cores), mmseg's test_resnet_backbone took 32-79 s spinning,
# 8-9 s waiting passively and 9-13 s with one thread. The runtime reads the
# setting once, when torch loads it, so it is set before the import; the
# tools the tests start inherit it.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
# Inductor compiles in a pool of worker processes, one per core by default:
# with the cores already shared by the xdist workers the pool's start-up
# cost more than it saved (the DCNv3/DCNv4 inductor tests: 74 s of CPU
# with the pool, 60 s compiling in the test's own process).
os.environ.setdefault('TORCHINDUCTOR_COMPILE_THREADS', '1')

import torch  # noqa: E402

if not torch.cuda.is_available():
    # Triton's kernels run on the CPU under its interpreter, which must be
    # switched on before anything imports triton (segkit's tests of its
    # Triton kernels rely on it).
    os.environ.setdefault('TRITON_INTERPRET', '1')

_workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
if _workers > 1:
    # pytest -n N: the cores shared between the workers (and the tools they
    # start), not N times oversubscribed
    _threads = str(max(1, (os.cpu_count() or 1) // _workers))
    os.environ['OMP_NUM_THREADS'] = _threads
    torch.set_num_threads(int(_threads))

import segkit.mmseg  # noqa: E402,F401  (fixes + registration for every test)
from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope('mmseg')


@pytest.fixture(scope='session')
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample dataset (both layouts), generated once per session."""
    from segkit.datasets.sample_data import make_sample_data

    return make_sample_data(tmp_path_factory.mktemp('data') / 'sample', seed=3,
                            num_train=16, num_val=6)
