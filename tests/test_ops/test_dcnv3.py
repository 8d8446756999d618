"""DCNv3 against the golden outputs of the original implementation, and the
fast paths (C++ CPU kernel, embedding_bag gather) against the reference path
(values and gradients)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

import segkit.ops.deform_sampling.cpu as cpu_module
from segkit.ops import DCNv3, cpu_kernel_available, dcnv3_core
from segkit.ops import DeformGeometry as DCNv3Geometry
from segkit.ops.dcnv3 import (DCNV3, dcnv3_core_cpu, dcnv3_core_gather, dcnv3_core_reference,
                              run_dcnv3_core)

GOLDEN = torch.load(Path(__file__).parents[1] / 'data' / 'dcnv3_reference.pt',
                    weights_only=True)
CORE = [c for c in GOLDEN['cases'] if c['kind'] == 'core']
MODULE = [c for c in GOLDEN['cases'] if c['kind'] == 'module']
FAST = {'cpu': dcnv3_core_cpu, 'gather': dcnv3_core_gather}


def test_cpu_kernel_builds_here() -> None:
    """The machines segkit is tested on have a C++ compiler: the kernel must
    build there, or every 'cpu' test below would only test a fallback."""
    assert cpu_kernel_available()


def _core_args(case: dict) -> tuple:
    k, s, p, d = case['kernel_size'], case['stride'], case['pad'], case['dilation']
    return (case['input'], case['offset'], case['mask'],
            DCNv3Geometry(k, k, s, s, p, p, d, d, case['group'], case['group_channels'],
                          case['offset_scale']))


def test_golden_file_has_every_kind_of_case() -> None:
    assert len(CORE) >= 6 and len(MODULE) >= 2
    assert {c['stride'] for c in CORE} >= {1, 2} and {c['dilation'] for c in CORE} >= {1, 2}
    assert all(c['output'].dtype == torch.float64 for c in GOLDEN['cases'])


@pytest.mark.parametrize('index', range(len(CORE)))
def test_reference_path_reproduces_golden(index: int) -> None:
    case = CORE[index]
    out = dcnv3_core_reference(*_core_args(case))
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)


@pytest.mark.parametrize('index', range(len(CORE)))
@pytest.mark.parametrize('impl', FAST)
def test_fast_path_reproduces_golden(index: int, impl: str) -> None:
    case = CORE[index]
    out = FAST[impl](*_core_args(case))
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)
    out32 = FAST[impl](*(a.float() if torch.is_tensor(a) else a for a in _core_args(case)))
    torch.testing.assert_close(out32.double(), case['output'], rtol=0, atol=1e-5)


@pytest.mark.parametrize('index', range(len(MODULE)))
@pytest.mark.parametrize('impl', ['reference', 'cpu', 'gather'])
def test_golden_state_dict_loads_and_reproduces(index: int, impl: str) -> None:
    case = MODULE[index]
    module = DCNv3(**case['config'], impl=impl).double()
    result = module.load_state_dict(case['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    with torch.no_grad():
        out = module(case['input'])
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)


def _random_case(stride: int = 1, dilation: int = 1, kernel: int = 3, group: int = 2,
                 gc: int = 3, size: tuple[int, int] = (6, 7), scale: float = 1.0):
    torch.manual_seed(stride * 10 + dilation + kernel)
    h, w = size
    pad = dilation * (kernel - 1) // 2
    ho = (h + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1
    wo = (w + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1
    k = kernel * kernel
    x = torch.randn(2, h, w, group * gc, dtype=torch.float64, requires_grad=True)
    # offsets large enough to reach outside the image, never on integers
    offset = (torch.rand(2, ho, wo, group * k * 2, dtype=torch.float64) * 5 - 2.5 + 0.013)
    offset.requires_grad_(True)
    mask = torch.softmax(torch.randn(2, ho, wo, group, k, dtype=torch.float64), -1)
    mask = mask.reshape(2, ho, wo, group * k).requires_grad_(True)
    geometry = DCNv3Geometry(kernel, kernel, stride, stride, pad, pad, dilation, dilation, group,
                             gc, scale)
    return x, offset, mask, geometry


@pytest.mark.parametrize('impl', FAST)
@pytest.mark.parametrize('stride,dilation,kernel,scale', [(1, 1, 3, 1.0), (2, 1, 3, 0.5),
                                                          (1, 2, 3, 2.0), (1, 1, 5, 1.0)])
def test_fast_gradients_match_reference(stride: int, dilation: int, kernel: int,
                                        scale: float, impl: str) -> None:
    x, offset, mask, geometry = _random_case(stride, dilation, kernel, scale=scale)
    grads = []
    for fn in (dcnv3_core_reference, FAST[impl]):
        out = fn(x, offset, mask, geometry)
        weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view_as(out)
        grads.append(torch.autograd.grad((out * weights).sum(), (x, offset, mask)))
    for ref, got in zip(*grads):
        torch.testing.assert_close(got, ref, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize('impl', FAST)
def test_fast_gradcheck(impl: str) -> None:
    x, offset, mask, geometry = _random_case(size=(4, 5))
    assert torch.autograd.gradcheck(lambda a, b, c: FAST[impl](a, b, c, geometry),
                                    (x, offset, mask), eps=1e-6, atol=1e-6)


def test_cpu_kernel_float32_thread_count_and_layout() -> None:
    """float32 matches the float64 reference; results do not depend on the
    thread count (the backward's scatter has no atomics, so bit for bit);
    non-contiguous inputs are taken."""
    x, offset, mask, geometry = _random_case(group=4, gc=16, size=(11, 13))
    ref = dcnv3_core_reference(x, offset, mask, geometry)
    x32, offset32, mask32 = (t.detach().float().requires_grad_() for t in (x, offset, mask))
    results = []
    threads = torch.get_num_threads()
    try:
        for n in (1, 2, 3):
            torch.set_num_threads(n)
            out = dcnv3_core_cpu(x32, offset32, mask32, geometry)
            results.append((out, *torch.autograd.grad(out.square().sum(),
                                                      (x32, offset32, mask32))))
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(results[0][0].double(), ref, rtol=0, atol=2e-6)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert torch.equal(a, b)
    x_t = x.detach().transpose(1, 2).contiguous().transpose(1, 2)  # same values, other strides
    assert not x_t.is_contiguous()
    torch.testing.assert_close(dcnv3_core_cpu(x_t, offset, mask, geometry), ref, rtol=0, atol=1e-12)


def test_cpu_kernel_rejects_what_it_cannot_run() -> None:
    x, offset, mask, geometry = _random_case()
    with pytest.raises(ValueError, match='one dtype, float32 or float64'):
        dcnv3_core_cpu(x.float(), offset, mask, geometry)
    with pytest.raises(ValueError, match='one dtype, float32 or float64'):
        dcnv3_core_cpu(x.half(), offset.half(), mask.half(), geometry)


LOW = [torch.bfloat16, torch.float16]


def _box_filter(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """3x3 sum of ``x`` (N, H, W, C) weighted per output pixel and group
    point by ``weight`` (N, H, W, G*9), zero padding: DCNv3 at zero offsets."""
    n, h, w, c = x.shape
    group = weight.shape[-1] // 9
    patches = torch.nn.functional.unfold(x.permute(0, 3, 1, 2), 3, padding=1)
    patches = patches.view(n, group, c // group, 3, 3, h, w).transpose(3, 4)  # point = i*3 + j
    weight = weight.view(n, h, w, group, 9).permute(0, 3, 4, 1, 2)  # (N, G, 9, H, W)
    out = (patches.reshape(n, group, c // group, 9, h, w) * weight.unsqueeze(2)).sum(3)
    return out.reshape(n, c, h, w).permute(0, 2, 3, 1)


@pytest.mark.parametrize('dtype', LOW)
@pytest.mark.parametrize('impl', ['reference', 'cpu', 'gather', 'auto'])
def test_reduced_precision_samples_at_float32_positions(impl: str, dtype: torch.dtype,
                                                        monkeypatch) -> None:
    """bfloat16 / float16 inputs (as autocast gives) are computed in float32
    and the output rounded once: on a 600-pixel-wide map a zero-offset DCNv3
    equals the box filter of the rounded inputs to one rounding. Positions in
    bfloat16 resolve 2 pixels at x = 600 and fail this by O(1)."""
    calls = _record_calls(monkeypatch)
    torch.manual_seed(0)
    x = torch.randn(1, 3, 600, 4).to(dtype)
    offset = torch.zeros(1, 3, 600, 2 * 9 * 2, dtype=dtype)
    mask = torch.softmax(torch.randn(1, 3, 600, 2, 9), -1).reshape(1, 3, 600, 18).to(dtype)
    with torch.no_grad():
        out = run_dcnv3_core(x, offset, mask, DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1.0),
                       impl)
    assert out.dtype == dtype
    if impl == 'auto':
        assert calls == ['cpu']
    expected = _box_filter(x.float(), mask.float())
    # atol: the original's grid, normalised in float32, is ~1e-5 px off at x = 600
    torch.testing.assert_close(out.float(), expected, rtol=torch.finfo(dtype).eps, atol=1e-4)


@pytest.mark.parametrize('dtype', LOW)
@pytest.mark.parametrize('impl', ['reference', 'cpu', 'gather'])
def test_reduced_precision_gradients(impl: str, dtype: torch.dtype) -> None:
    """Gradients in the inputs' dtype, equal to the float32 gradients of the
    same rounded inputs to one rounding; mixed dtypes (a float32 mask, as
    autocast's softmax gives) are accepted."""
    x, offset, mask, geometry = _random_case()
    low = [t.detach().to(dtype).requires_grad_() for t in (x, offset)]
    low.append(mask.detach().float().requires_grad_())
    wide = [t.detach().float().requires_grad_() for t in low]
    grads = []
    for inputs in (low, wide):
        out = run_dcnv3_core(*inputs, geometry, impl)
        weights = torch.linspace(-1, 1, out.numel()).view_as(out).to(dtype)
        grads.append((out, *torch.autograd.grad((out.float() * weights.float()).sum(), inputs)))
    assert grads[0][0].dtype == dtype
    for got, ref, t in zip(grads[0], grads[1], (grads[0][0], *low)):
        assert got.dtype == t.dtype and got.isfinite().all()
        scale = ref.abs().max().item()
        torch.testing.assert_close(got.float(), ref, rtol=torch.finfo(dtype).eps,
                                   atol=scale * torch.finfo(dtype).eps)


@pytest.mark.parametrize('impl', ['reference', 'cpu', 'gather'])
def test_float16_loss_scaling_through_the_module(impl: str) -> None:
    """float16 autocast with a GradScaler (as mmengine's AmpOptimWrapper):
    scaled gradients through the DCNv3 functions unscale to the unscaled
    float16 ones (within a few float16 roundings, 2^-10 each, of the largest
    entry: the depthwise conv's summation order depends on the thread count,
    and with 1, 2 or 3 threads the largest difference was 1.4e-3, 8e-4 and
    9e-4), are finite, stay near float32 (the offset gradient, a
    difference of neighbouring samples, is the most sensitive: ~3 % of its
    largest entry here, ~20 % in bfloat16), and the step is taken."""
    torch.manual_seed(0)
    module = DCNv3(16, group=4, impl=impl)
    with torch.no_grad():
        module.offset.weight.normal_(0, 0.1)
    x = torch.randn(2, 9, 9, 16)

    def gradients(scale: float | None) -> dict[str, torch.Tensor]:
        module.zero_grad()
        if scale is None:
            loss = module(x).square().mean()
        else:
            with torch.autocast('cpu', dtype=torch.float16):
                out = module(x)
            assert out.dtype == torch.float16
            loss = out.float().square().mean() * scale
        loss.backward()
        return {n: p.grad / (scale or 1.0) for n, p in module.named_parameters()}

    wide, unscaled = gradients(None), gradients(1.0)
    module.zero_grad()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler('cpu', init_scale=2.0 ** 16)
    with torch.autocast('cpu', dtype=torch.float16):
        out = module(x)
    scaler.scale(out.float().square().mean()).backward()
    scaler.unscale_(optimizer)
    for name, p in module.named_parameters():
        assert p.grad.isfinite().all(), name
        scale = wide[name].abs().max().item()
        torch.testing.assert_close(p.grad, unscaled[name], rtol=0, atol=3e-3 * scale, msg=name)
        torch.testing.assert_close(p.grad, wide[name], rtol=0, atol=0.05 * scale, msg=name)
    before = module.offset.weight.detach().clone()
    scaler.step(optimizer)
    scaler.update()
    assert scaler.get_scale() == 2.0 ** 16 and not torch.equal(module.offset.weight, before)


def test_zero_offsets_uniform_mask_is_a_box_filter() -> None:
    """Hand computation: K points at the grid, each weighted 1/K."""
    x = torch.randn(1, 5, 6, 4, dtype=torch.float64)
    offset = torch.zeros(1, 5, 6, 2 * 9 * 2, dtype=torch.float64)
    mask = torch.full((1, 5, 6, 2 * 9), 1 / 9, dtype=torch.float64)
    out = dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1.0)
    padded = torch.nn.functional.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1))
    box = torch.nn.functional.avg_pool2d(padded, 3, 1).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, box)


def test_point_order_and_offset_layout() -> None:
    """Point p = i*kernel_h + j with i along x: moving point 1 by dx=+1 moves it
    from (x-1, y) to (x, y) (p=1 is i=0, j=1: x offset -1, y offset 0)."""
    x = torch.arange(30, dtype=torch.float64).view(1, 5, 6, 1)
    offset = torch.zeros(1, 5, 6, 18, dtype=torch.float64)
    mask = torch.zeros(1, 5, 6, 9, dtype=torch.float64)
    mask[..., 1] = 1.0
    out = dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1.0)
    assert out[0, 2, 3, 0].item() == x[0, 2, 2, 0].item()  # (y=2, x=3-1)
    offset[..., 2] = 1.0  # point 1, dx
    out = dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1.0)
    assert out[0, 2, 3, 0].item() == x[0, 2, 3, 0].item()


def test_module_bad_arguments_and_gradients() -> None:
    with pytest.raises(ValueError, match='divisible by group'):
        DCNv3(10, group=4)
    with pytest.raises(ValueError, match='impl must be'):
        run_dcnv3_core(*_random_case(), impl='cuda-magic')
    with pytest.raises(ValueError, match='offset must be'):
        x, offset, mask, geometry = _random_case()
        run_dcnv3_core(x, offset[:, :-1], mask, geometry)
    module = DCNv3(16, group=4)
    with torch.no_grad():  # leave the zero init so offsets and mask get gradients
        module.offset.weight.normal_(0, 0.1)
        module.mask.weight.normal_(0, 0.1)
    out = module(torch.randn(2, 9, 10, 16))
    assert out.shape == (2, 9, 10, 16) and torch.isfinite(out).all()
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


@pytest.mark.parametrize('e', [2, 4])
def test_equivalent_stride_is_exact(e: int) -> None:
    torch.manual_seed(e)
    module = DCNv3(8, group=2, center_feature_scale=True).double().eval()
    for p in module.parameters():
        p.data.normal_(0, 0.3)
    dense = torch.randn(1, 21, 18, 8, dtype=torch.float64)
    with torch.no_grad():
        ref = module(dense[:, ::e, ::e])
        module.set_equivalent_stride(e)
        out = module(dense)
    assert out.shape == dense.shape
    torch.testing.assert_close(out[:, ::e, ::e], ref, rtol=1e-10, atol=1e-10)


def _record_calls(monkeypatch) -> list[str]:
    calls = []
    for name in ('cpu', 'gather', 'reference'):
        original = getattr(DCNV3, name)
        monkeypatch.setattr(DCNV3, name,
                            lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    return calls


def test_auto_picks_the_cpu_kernel_and_env_can_force_another(monkeypatch) -> None:
    calls = _record_calls(monkeypatch)
    x, offset, mask, geometry = _random_case()
    with torch.no_grad():
        run_dcnv3_core(x, offset, mask, geometry)
    run_dcnv3_core(x, offset, mask, geometry)
    monkeypatch.setenv('SEGKIT_DEFORM_IMPL', 'gather')
    run_dcnv3_core(x, offset, mask, geometry)
    assert calls == ['cpu', 'cpu', 'gather']


def test_auto_falls_back_without_the_kernel(monkeypatch) -> None:
    """No compiler: the gather path for inference, the reference for training."""
    monkeypatch.setattr(cpu_module, '_kernel', lambda: None)
    calls = _record_calls(monkeypatch)
    x, offset, mask, geometry = _random_case()
    with torch.no_grad():
        run_dcnv3_core(x, offset, mask, geometry)
    run_dcnv3_core(x, offset, mask, geometry)
    assert calls == ['gather', 'reference']
    with pytest.raises(RuntimeError, match='could not be built'):
        run_dcnv3_core(x, offset, mask, geometry, impl='cpu')


def _extreme_case(dtype: torch.dtype = torch.float32) -> tuple:
    """Offsets far outside the map read zero; infinite and NaN ones give NaN,
    as grid_sample does (a diverged network must not look fine)."""
    torch.manual_seed(0)
    x = torch.randn(1, 5, 6, 4, dtype=dtype, requires_grad=True)
    offset = torch.zeros(1, 5, 6, 2 * 9 * 2, dtype=dtype)
    for row, (channel, value) in enumerate([(0, 1e30), (2, -1e30), (4, float('inf')),
                                            (7, float('-inf')), (9, float('nan'))]):
        offset[0, row, row, channel] = value
    offset.requires_grad_(True)
    mask = torch.full((1, 5, 6, 18), 1 / 9, dtype=dtype, requires_grad=True)
    return x, offset, mask, DCNv3Geometry(3, 3, 1, 1, 1, 1, 1, 1, 2, 2, 1.0)


@pytest.mark.parametrize('impl', FAST)
def test_extreme_and_nan_offsets_match_reference(impl: str) -> None:
    """Outputs match the reference, NaN for NaN; so do the gradients of the
    C++ kernel. (The gather path's backward also spreads the NaN into the
    input gradient at the clamped corner rows; that path is a fall-back.)"""
    x, offset, mask, geometry = _extreme_case()
    results = []
    for fn in (dcnv3_core_reference, FAST[impl]):
        out = fn(x, offset, mask, geometry)
        results.append((out, *torch.autograd.grad(out.nan_to_num().sum(), (x, mask))))
    ref_out = results[0][0]
    assert ref_out.isnan().any(dim=-1).sum() == 3 and ref_out[:, :2].isfinite().all()
    compared = results[0] if impl == 'cpu' else results[0][:1]
    for ref, got in zip(compared, results[1]):
        torch.testing.assert_close(got, ref, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_tracing_takes_the_reference_path(monkeypatch) -> None:
    """torch.jit.trace (and so ONNX export and mmengine's FLOP counter) sees
    PyTorch ops, not the opaque kernel; the traced module computes the same."""
    calls = _record_calls(monkeypatch)
    module = DCNv3(16, group=4).eval()
    with torch.no_grad():
        module.offset.weight.normal_(0, 0.3)
        x = torch.randn(1, 6, 7, 16)
        traced = torch.jit.trace(module, x, check_trace=False)
        assert calls == ['reference']
        torch.testing.assert_close(traced(x), module(x), rtol=1e-5, atol=1e-5)
    assert calls == ['reference', 'cpu']


def test_flop_count_of_an_internimage_segmentor() -> None:
    from mmseg.registry import MODELS

    from segkit.apis.benchmark import count_flops

    model = MODELS.build(dict(
        type='EncoderDecoder',
        backbone=dict(type='InternImage', arch=dict(channels=16, depths=[1, 1, 1, 1],
                                                    groups=[1, 2, 4, 8])),
        decode_head=dict(type='FCNHead', in_channels=128, in_index=3, channels=16,
                         num_classes=3, norm_cfg=dict(type='BN'))))
    flops = count_flops(model, (64, 64))
    assert flops is not None and flops > 1e6
