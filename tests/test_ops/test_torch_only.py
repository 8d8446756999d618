"""The operators need only torch: importing and running them loads nothing from
the OpenMMLab stack, OpenCV, albumentations or matplotlib (a fresh process)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow  # a fresh Python process

HEAVY = ('mmseg', 'mmengine', 'mmcv', 'cv2', 'albumentations', 'matplotlib')

SCRIPT = f'''
import sys
import torch, torchvision
import segkit, segkit.ops
from segkit.ops import (DCNv3, Dcls2d, ModulatedDeformConv2dPack, cpu_kernel_available,
                        densify)

layer = Dcls2d(8, 8, kernel_count=5, dilated_kernel_size=7, padding=3, groups=8, version='v0')
assert layer(torch.randn(2, 8, 20, 20)).shape == (2, 8, 20, 20)
assert cpu_kernel_available(), 'the C++ DCNv3 kernel did not build'
dcn = DCNv3(32, group=4, impl='cpu')
out = dcn(torch.randn(2, 14, 14, 32, requires_grad=True))
out.sum().backward()
dcnv2 = ModulatedDeformConv2dPack(8, 8, 3, padding=1)
dcnv2(torch.randn(2, 8, 10, 10)).sum().backward()
net = torchvision.models.resnet18(weights=None).eval()
dense = densify(net, output_stride=8)
x = torch.randn(1, 3, 64, 64)
with torch.no_grad():
    assert dense.conv1.stride == (2, 2) and dense.layer4[0].conv2.dilation == (4, 4)
    torch.testing.assert_close(dense(x), net(x), rtol=1e-4, atol=1e-4)
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))
print('loaded:', heavy)
assert not heavy, heavy
'''


def test_operators_import_and_run_with_torch_only() -> None:
    result = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'loaded: []' in result.stdout


FIRST_USE = '''
import sys, time
import torch
from segkit.ops import DCNv3, DCNv4, ModulatedDeformConv2dPack
before = set(sys.modules)
start = time.perf_counter()
for layer, x in ((DCNv3(16, group=2), torch.randn(1, 8, 8, 16, requires_grad=True)),
                 (DCNv4(16, group=1), torch.randn(1, 8, 8, 16, requires_grad=True)),
                 (ModulatedDeformConv2dPack(8, 8, 3, padding=1),
                  torch.randn(1, 8, 8, 8, requires_grad=True))):
    layer(x).sum().backward()
new = sorted(set(sys.modules) - before)
print(f'first calls: {time.perf_counter() - start:.2f} s, {len(new)} modules imported')
assert not [m for m in new if m.split('.')[0] == 'sympy' or m.startswith('torch._dynamo')], new
'''


def test_first_eager_calls_import_no_compiler_machinery() -> None:
    """The first eager forward and backward of DCNv3, DCNv4 and DCNv2 (the C++
    kernel) import neither sympy nor torch._dynamo: registering the kernels
    as custom ops for torch.compile costs an eager script nothing (it was
    1.6 s and ~200 MB at the first call)."""
    result = subprocess.run([sys.executable, '-c', FIRST_USE], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'first calls:' in result.stdout
