"""The deformable-sampling core DCNv3 and DCNv4 share: geometry, the
implementation choice, and that the Triton kernels compile for a real GPU
target (without a GPU)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from segkit.ops import DeformGeometry
from segkit.ops.dcnv3 import DCNV3, dcnv3_core_cpu, dcnv3_core_gather, run_dcnv3_core
from segkit.ops.dcnv4 import dcnv4_core_cpu, dcnv4_core_gather
from segkit.ops.deform_sampling import dispatch
from tests.helpers import REPO


def test_kernel_points_and_sizes() -> None:
    g = DeformGeometry(3, 5, 2, 1, 1, 2, 1, 1, group=2, group_channels=4, remove_center=True)
    assert g.points == 14 and len(g.kernel_points()) == 14
    assert (2, 1) not in g.kernel_points()  # the centre: x index 2 of 5, y index 1 of 3
    assert g.kernel_points()[:4] == [(0, 0), (0, 1), (0, 2), (1, 0)]  # the x index outer
    assert g.output_size(9, 10) == (5, 10)
    with pytest.raises(ValueError, match='remove_center needs an odd kernel'):
        DeformGeometry(2, 2, 1, 1, 0, 0, 1, 1, 1, 1, remove_center=True)
    with pytest.raises(ValueError, match='smaller than the sampling window'):
        DeformGeometry(3, 3, 1, 1, 0, 0, 1, 1, 2, 4).check_input(torch.zeros(1, 2, 5, 8))


@pytest.mark.parametrize('channels', [8, 16, 32, 12])
def test_cpu_kernel_loops_for_each_channel_count_equal_the_gather(channels: int) -> None:
    """The C++ kernel compiles separate loops for 8, 16 and 32 channels per
    group and a general one for the rest (12 here); for both position rules
    each must equal the independent embedding_bag formulation, forward and
    backward, in float64 (the golden files cover 4, 5, 6, 8 and 16 only)."""
    torch.manual_seed(channels)
    g = DeformGeometry(3, 3, 2, 1, 1, 1, 1, 1, group=3, group_channels=channels)
    x = torch.randn(2, 7, 6, 3 * channels, dtype=torch.float64)
    om = torch.randn(2, 4, 6, 3 * 27 + 7, dtype=torch.float64) * 2  # DCNv4's padded rows
    offset = torch.randn(2, 4, 6, 3 * 18, dtype=torch.float64) * 2
    mask = torch.randn(2, 4, 6, 3 * 9, dtype=torch.float64)
    for cpu, gather, args in ((dcnv4_core_cpu, dcnv4_core_gather, (x, om)),
                              (dcnv3_core_cpu, dcnv3_core_gather, (x, offset, mask))):
        results = []
        for fn in (cpu, gather):
            inputs = [t.clone().requires_grad_() for t in args]
            out = fn(*inputs, g)
            weight = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
            results.append((out, *torch.autograd.grad((out * weight).sum(), inputs)))
        for got, want in zip(*results):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_the_old_environment_variable_still_works(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(DCNV3, 'gather', lambda *a: calls.append('gather') or
                        torch.zeros(1, 4, 4, 4))
    monkeypatch.setattr(dispatch, '_warned', set())
    monkeypatch.setenv('SEGKIT_DCNV3_IMPL', 'gather')
    g = DeformGeometry(3, 3, 1, 1, 1, 1, 1, 1, 2, 2)
    with pytest.warns(FutureWarning, match="SEGKIT_DCNV3_IMPL is deprecated.*'SEGKIT_DEFORM_IMPL'"):
        run_dcnv3_core(torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 4, 36),
                       torch.zeros(1, 4, 4, 18), g)
    assert calls == ['gather']
    with pytest.raises(ValueError, match='impl must be one of'):
        run_dcnv3_core(torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 4, 36),
                       torch.zeros(1, 4, 4, 18), g, impl='cuda-magic')


def test_triton_kernels_compile_for_hopper() -> None:
    """Every kernel specialisation compiles to sm_90 machine code with the
    sizes a launch on real tensors specialises (multiples of 16). On an H200
    with Triton 3.6 one select in the kernels failed to compile this way
    while the interpreter ran it; the same check against Triton 3.6 caught
    it without a GPU (tests/helpers/triton_compile.py)."""
    env = {k: v for k, v in os.environ.items() if k != 'TRITON_INTERPRET'}
    result = subprocess.run([sys.executable, '-m', 'tests.helpers.triton_compile'], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count('ok   ') == 12
