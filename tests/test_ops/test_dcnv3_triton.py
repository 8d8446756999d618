"""The DCNv3 Triton kernels, run on the CPU by Triton's interpreter
(TRITON_INTERPRET=1), against the golden outputs of the original and the
reference path; and the automatic fall-back when Triton fails on a GPU."""
from __future__ import annotations

import pytest
import torch

import segkit.ops.deform_sampling.dispatch as dispatch_module
from segkit.ops.dcnv3 import DCNV3
from segkit.ops import DCNv3
from segkit.ops import DeformGeometry as DCNv3Geometry
from segkit.ops.dcnv3 import dcnv3_core_reference
from tests.test_ops.test_dcnv3 import CORE, MODULE, _core_args, _extreme_case, _random_case


DEVICE = torch.device('cuda' if torch.cuda.is_available() else 'cpu')


@pytest.fixture(scope='module')
def triton_core():
    """The kernels: compiled on a GPU; without one, Triton's interpreter runs
    them on the CPU (tests/conftest.py sets TRITON_INTERPRET=1 there)."""
    from segkit.ops.dcnv3 import dcnv3_core_triton
    from segkit.ops.deform_sampling import triton_kernels

    if DEVICE.type == 'cpu':
        assert type(triton_kernels._forward_kernel).__name__ == 'InterpretedFunction'
    return dcnv3_core_triton


def _on_device(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.detach().to(DEVICE).requires_grad_(t.requires_grad) for t in tensors]


@pytest.mark.parametrize('index', range(len(CORE)))
def test_triton_reproduces_golden(triton_core, index: int) -> None:
    case = CORE[index]
    args = _core_args(case)
    out = triton_core(*_on_device(*args[:3]), *args[3:])
    torch.testing.assert_close(out.cpu(), case['output'], rtol=0, atol=1e-10)


@pytest.mark.parametrize('index', range(len(MODULE)))
def test_golden_state_dict_through_impl_triton(triton_core, monkeypatch, index: int) -> None:
    monkeypatch.setattr(DCNV3, 'triton', triton_core)
    case = MODULE[index]
    module = DCNv3(**case['config'], impl='triton').double()
    module.load_state_dict(case['state_dict'], strict=True)
    with torch.no_grad():
        out = module.to(DEVICE)(case['input'].to(DEVICE))
    torch.testing.assert_close(out.cpu(), case['output'], rtol=0, atol=1e-10)


@pytest.mark.parametrize('stride,dilation,kernel,scale', [(1, 1, 3, 1.0), (2, 1, 3, 0.5),
                                                          (1, 2, 3, 2.0), (1, 1, 5, 1.0)])
def test_triton_gradients_match_reference(triton_core, stride: int, dilation: int,
                                          kernel: int, scale: float) -> None:
    x, offset, mask, geometry = _random_case(stride, dilation, kernel, scale=scale)
    grads = []
    for fn, inputs in ((dcnv3_core_reference, (x, offset, mask)),
                       (triton_core, _on_device(x, offset, mask))):
        out = fn(*inputs, geometry)
        weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view_as(out)
        grads.append(torch.autograd.grad((out * weights.to(out.device)).sum(), inputs))
    for ref, got in zip(*grads):
        torch.testing.assert_close(got.cpu(), ref, rtol=1e-9, atol=1e-10)


def test_triton_gradcheck(triton_core) -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 3, 3, 2, dtype=torch.float64, device=DEVICE, requires_grad=True)
    offset = torch.rand(1, 3, 3, 18, dtype=torch.float64, device=DEVICE) * 3 - 1.5 + 0.013
    offset.requires_grad_(True)
    mask = torch.rand(1, 3, 3, 9, dtype=torch.float64, device=DEVICE, requires_grad=True)
    geometry = DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, 1, 2, 1.0)
    assert torch.autograd.gradcheck(lambda a, b, c: triton_core(a, b, c, geometry),
                                    (x, offset, mask), eps=1e-6, atol=1e-6, fast_mode=True)


# the interpreter computes inf - inf in numpy (how the kernel spots infinities)
@pytest.mark.filterwarnings('ignore:invalid value encountered:RuntimeWarning')
def test_triton_extreme_and_nan_offsets_match_reference(triton_core) -> None:
    x, offset, mask, geometry = _extreme_case()
    results = []
    for fn, inputs in ((dcnv3_core_reference, (x, offset, mask)),
                       (triton_core, _on_device(x, offset, mask))):
        out = fn(*inputs, geometry)
        results.append((out.cpu(), *(g.cpu() for g in torch.autograd.grad(
            out.nan_to_num().sum(), (inputs[0], inputs[2])))))
    for ref, got in zip(*results):
        torch.testing.assert_close(got, ref, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_triton_half_value_with_float32_offsets(triton_core) -> None:
    """As under autocast: a float16 map, float32 offsets and mask; the sum is
    kept in float32 and the value gradient accumulated in float32."""
    x, offset, mask, geometry = _random_case(group=2, gc=5, size=(7, 6))
    ref = dcnv3_core_reference(x, offset, mask, geometry)
    (ref_grad,) = torch.autograd.grad(ref.sum(), x)
    x16 = x.detach().half().to(DEVICE).requires_grad_()
    offset32, mask32 = (t.detach().float().to(DEVICE) for t in (offset, mask))
    out = triton_core(x16, offset32, mask32, geometry)
    assert out.dtype == torch.float16
    (grad,) = torch.autograd.grad(out.float().sum(), x16)
    assert grad.dtype == torch.float16
    torch.testing.assert_close(out.double().cpu(), ref, rtol=0, atol=5e-3)
    torch.testing.assert_close(grad.double().cpu(), ref_grad, rtol=0, atol=5e-3)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_triton_reduced_precision_samples_at_float32_positions(triton_core, monkeypatch,
                                                               dtype: torch.dtype) -> None:
    """All inputs in bfloat16 / float16 through ``run_core(impl='triton')``:
    the kernels read them as they are (no widened copy) and compute the
    positions in float32, so a zero-offset DCNv3 on a 600-pixel-wide map is
    the box filter of the rounded inputs to one rounding."""
    from segkit.ops.dcnv3 import run_dcnv3_core as run_core
    from tests.test_ops.test_dcnv3 import _box_filter

    monkeypatch.setattr(DCNV3, 'triton', triton_core)
    torch.manual_seed(0)
    x = torch.randn(1, 1, 600, 4).to(dtype)
    offset = torch.zeros(1, 1, 600, 2 * 9 * 2, dtype=dtype)
    mask = torch.softmax(torch.randn(1, 1, 600, 2, 9), -1).reshape(1, 1, 600, 18).to(dtype)
    geometry = DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1.0)
    with torch.no_grad():
        out = run_core(*_on_device(x, offset, mask), geometry, 'triton')
    assert out.dtype == dtype
    expected = _box_filter(x.float(), mask.float())
    # atol: the original's grid, normalised in float32, is ~1e-5 px off at x = 600
    torch.testing.assert_close(out.float().cpu(), expected, rtol=torch.finfo(dtype).eps,
                               atol=1e-4)


def test_auto_falls_back_when_triton_fails(monkeypatch, triton_core) -> None:
    """A GPU Triton cannot compile for: one warning, then the PyTorch paths,
    for that configuration only; out-of-memory is not a reason to fall back.
    The probe runs forward and backward, so a backward that cannot compile is
    caught before training starts."""
    x, offset, mask, geometry = _random_case()
    x, offset, mask = _on_device(x, offset, mask)  # CUDA tensors on a GPU, as 'auto' gives
    call = (x, offset, mask, geometry)
    calls = []

    class BrokenBackward(torch.autograd.Function):
        @staticmethod
        def forward(ctx, out):
            return out.clone()

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError('ptxas fatal: sm_52 is not supported\nmore lines')

    def backward_broken(*a):
        calls.append(a[0].shape)
        return BrokenBackward.apply(triton_core(*a))

    monkeypatch.setattr(dispatch_module, '_triton_works', {})
    monkeypatch.setattr(DCNV3, 'triton', backward_broken)
    with pytest.warns(UserWarning, match=r'DCNv3 Triton kernels do not work here \(RuntimeError: '
                                         r'ptxas fatal: sm_52 is not supported\); using'):
        assert dispatch_module._try_triton(DCNV3, call[:3], call[3]) is None
    assert calls == [(1, 4, 4, 6)]  # the probe: a tiny map with the same configuration
    assert dispatch_module._try_triton(DCNV3, call[:3], call[3]) is None  # not tried again
    assert len(calls) == 1

    monkeypatch.setattr(DCNV3, 'triton', triton_core)
    x32 = x.detach().float()  # another configuration: tried on its own
    out = dispatch_module._try_triton(
        DCNV3, (x32, offset.detach().float(), mask.detach().float()), geometry)
    torch.testing.assert_close(out.double().cpu(), dcnv3_core_reference(*call).cpu(), rtol=0,
                               atol=1e-5)
    assert sorted(dispatch_module._triton_works.values()) == [False, True]

    def out_of_memory(*a):
        raise torch.OutOfMemoryError('CUDA out of memory')

    monkeypatch.setattr(dispatch_module, '_triton_works', {})
    monkeypatch.setattr(DCNV3, 'triton', out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        dispatch_module._try_triton(DCNV3, call[:3], call[3])
    assert dispatch_module._triton_works == {}
