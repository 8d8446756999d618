"""The DCNv4 Triton kernels (the shared sampling kernels with DCNv4's packed
rule), run on the CPU by Triton's interpreter without a GPU, against the
golden data of the original (tests/data/dcnv4)."""
from __future__ import annotations

import pytest
import torch

from segkit.ops import DCNv4
from segkit.ops.dcnv4 import DCNV4
from tests.test_ops.test_dcnv3_triton import DEVICE
from tests.test_ops.test_dcnv4 import CORE, MODULE, core_outputs, geometry_of


@pytest.fixture(scope='module')
def triton_core():
    from segkit.ops.dcnv4 import dcnv4_core_triton
    from segkit.ops.deform_sampling import triton_kernels

    if DEVICE.type == 'cpu':
        assert type(triton_kernels._forward_kernel).__name__ == 'InterpretedFunction'

    def on_device(x, om, g):
        return dcnv4_core_triton(x.to(DEVICE), om.to(DEVICE), g).cpu()

    return on_device


@pytest.mark.parametrize('index', range(len(CORE)))
def test_triton_reproduces_golden(triton_core, index: int) -> None:
    case = CORE[index]
    out, grad_input, grad_offset_mask = core_outputs(triton_core, case)
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)
    torch.testing.assert_close(grad_input, case['grad_input'], rtol=0, atol=1e-10)
    torch.testing.assert_close(grad_offset_mask, case['grad_offset_mask'], rtol=0, atol=1e-10)


def test_golden_module_through_impl_triton(triton_core, monkeypatch) -> None:
    monkeypatch.setattr(DCNV4, 'triton', lambda x, om, g: triton_core(x, om, g).to(x.device))
    case = MODULE[1]  # depthwise conv, offset scale 0.5
    module = DCNv4(**case['config'], impl='triton').double()
    module.load_state_dict(case['state_dict'], strict=True)
    with torch.no_grad():
        out = module(case['input'], tuple(case['shape']))
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)


def test_triton_half_maps_at_float32_positions(triton_core) -> None:
    case = CORE[-1]
    out16 = triton_core(case['input'].half(), case['offset_mask'].float(), geometry_of(case))
    assert out16.dtype == torch.float16
    torch.testing.assert_close(out16.double(), case['output'], rtol=0, atol=2e-2)
