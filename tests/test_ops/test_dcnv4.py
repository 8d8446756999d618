"""DCNv4 against golden data from the original code (OpenGVLab/DCNv4 run with
its CUDA kernel replaced by a transliteration of it; tests/data/dcnv4/README.md
says how): every implementation, the core and the module, outputs and
gradients, in float64; and what segkit adds (no shape restriction, the CPU
kernel, equivalent stride, unpadded checkpoints, reduced precision)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segkit.ops import DCNv4, DeformGeometry, dcnv4_core
from segkit.ops.dcnv4 import (DCNV4, dcnv4_core_cpu, dcnv4_core_gather, dcnv4_core_reference,
                              run_dcnv4_core)
from segkit.ops.deform_sampling import packed_width, split_packed

GOLDEN = torch.load(Path(__file__).parents[1] / 'data' / 'dcnv4' / 'dcnv4_golden.pt',
                    weights_only=True)
# the kernel never gets softmax=True from the original's DCNv4Function; that
# case is checked separately below
CORE = [c for c in GOLDEN['core'] if not c['softmax']]
SOFTMAX = [c for c in GOLDEN['core'] if c['softmax']]
MODULE = GOLDEN['module']
IMPLS = {'reference': dcnv4_core_reference, 'cpu': dcnv4_core_cpu, 'gather': dcnv4_core_gather}


def geometry_of(case: dict) -> DeformGeometry:
    k, s, p, d = case['kernel_size'], case['stride'], case['pad'], case['dilation']
    return DeformGeometry(k, k, s, s, p, p, d, d, case['group'], case['group_channels'],
                          case['offset_scale'], bool(case['remove_center']))


def core_outputs(fn, case: dict, dtype: torch.dtype = torch.float64) -> tuple:
    """Output and the gradients of (output * R).sum() w.r.t. input and offset_mask."""
    x = case['input'].to(dtype, copy=True).requires_grad_()
    om = case['offset_mask'].to(dtype, copy=True).requires_grad_()
    out = fn(x, om, geometry_of(case))
    return (out, *torch.autograd.grad((out * case['grad_output_weight'].to(dtype)).sum(),
                                      (x, om)))


def test_golden_data_covers_what_the_cuda_kernel_refuses() -> None:
    names = {c['name'] for c in CORE}
    assert len(CORE) == 8 and all(c['output'].dtype == torch.float64 for c in CORE)
    assert {c['group_channels'] % 16 for c in CORE} > {0}  # channels per group not 16k
    assert {c['kernel_size'] for c in CORE} == {3, 5} and {c['stride'] for c in CORE} == {1, 2}
    assert any(c['remove_center'] for c in CORE) and 'k3_g2_d16_5x7_os1' in names
    assert any(c['input'].shape[1] % 2 for c in CORE)  # odd sizes


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('index', range(len(CORE)))
def test_core_reproduces_golden(impl: str, index: int) -> None:
    case = CORE[index]
    out, grad_input, grad_offset_mask = core_outputs(IMPLS[impl], case)
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)
    if impl != 'cpu' and case['max_abs_offset'] == 0:
        # NOTE: all offsets 0 puts samples on integers, where x - floor(x) has
        # a kink; the original's kernel (and segkit's kernels) take the
        # one-sided derivative and treat x = -1 as outside, grid_sample and
        # the gather's autograd do not (a set of measure zero)
        return
    torch.testing.assert_close(grad_input, case['grad_input'], rtol=0, atol=1e-10)
    torch.testing.assert_close(grad_offset_mask, case['grad_offset_mask'], rtol=0, atol=1e-10)


def test_padding_columns_are_ignored_and_get_no_gradient() -> None:
    case = CORE[0]  # its padding columns hold junk
    used = case['used_width']
    assert case['offset_mask'][..., used:].abs().max() > 10
    _, _, grad = core_outputs(dcnv4_core_cpu, case)
    assert torch.equal(grad[..., used:], torch.zeros_like(grad[..., used:]))


def test_softmax_case_is_the_layout_with_softmax_masks() -> None:
    """The kernel's unused softmax path, rebuilt from the public core: it only
    checks that segkit reads offsets and masks where the kernel does."""
    case = SOFTMAX[0]
    g = geometry_of(case)
    om = case['offset_mask'].clone()
    _, _, mask = split_packed(om, g)
    mask.copy_(torch.softmax(mask, -1))
    torch.testing.assert_close(dcnv4_core_cpu(case['input'], om, g), case['output'], rtol=0,
                               atol=1e-10)


def test_functional_form_takes_the_originals_arguments() -> None:
    case = CORE[1]
    k, s, p, d = case['kernel_size'], case['stride'], case['pad'], case['dilation']
    out = dcnv4_core(case['input'], case['offset_mask'], k, k, s, s, p, p, d, d, case['group'],
                     case['group_channels'], case['offset_scale'], 256,
                     bool(case['remove_center']))
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)


@pytest.mark.parametrize('impl', ['reference', 'cpu', 'gather'])
@pytest.mark.parametrize('index', range(len(MODULE)))
def test_module_reproduces_golden(impl: str, index: int) -> None:
    case = MODULE[index]
    module = DCNv4(**case['config'], impl=impl).double()
    result = module.load_state_dict(case['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = case['input'].clone().requires_grad_()
    out = module(x, tuple(case['shape']) if case['called_with_shape'] else None)
    torch.testing.assert_close(out, case['output'], rtol=0, atol=1e-10)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((out * case['grad_output_weight']).sum(),
                                [x, *params.values()])
    torch.testing.assert_close(grads[0], case['grad_input'], rtol=0, atol=1e-10)
    assert set(params) == set(case['grad_params'])
    for name, grad in zip(params, grads[1:]):
        torch.testing.assert_close(grad, case['grad_params'][name], rtol=0, atol=1e-10,
                                   msg=name)


def test_module_takes_an_nhwc_map_too() -> None:
    case = MODULE[0]
    module = DCNv4(**case['config']).double()
    module.load_state_dict(case['state_dict'])
    n, (h, w) = case['input'].shape[0], case['shape']
    with torch.no_grad():
        out = module(case['input'].view(n, h, w, -1))
    torch.testing.assert_close(out.reshape(n, h * w, -1), case['output'], rtol=0, atol=1e-10)


def test_unpadded_offset_mask_loads_zero_padded() -> None:
    """One released file (DCNv4 issue #10) holds offset_mask with G*K*3 rows."""
    module = DCNv4(48, group=3)  # 81 rows used, 88 in the layer
    state = {k: v.clone() for k, v in module.state_dict().items()}
    state['offset_mask.weight'] = torch.randn(81, 48)
    state['offset_mask.bias'] = torch.randn(81)
    module.load_state_dict(state, strict=True)
    assert torch.equal(module.offset_mask.weight[:81], state['offset_mask.weight'])
    assert not module.offset_mask.weight[81:].any() and not module.offset_mask.bias[81:].any()


def test_fresh_module_averages_nothing_and_bad_arguments() -> None:
    """Offsets and masks start at zero: a fresh DCNv4 outputs output_proj's
    bias (masks 0, unlike DCNv3's softmax average)."""
    module = DCNv4(32, group=2)
    torch.nn.init.normal_(module.output_proj.bias)
    out = module(torch.randn(1, 25, 32), (5, 5))
    torch.testing.assert_close(out, module.output_proj.bias.expand_as(out).detach())
    assert module.offset_mask.out_features == packed_width(module.geometry) == 56
    with pytest.raises(ValueError, match='divisible by group'):
        DCNv4(30, group=4)
    with pytest.warns(UserWarning, match=r"ignores \['act_layer'\]"):
        DCNv4(32, group=2, act_layer='GELU')
    with pytest.raises(ValueError, match=r'offset_mask must be \(1, 5, 5, 56\)'):
        dcnv4_core_cpu(torch.randn(1, 5, 5, 32), torch.randn(1, 5, 5, 54), module.geometry)


def _random_module(channels: int = 32, group: int = 2, **kwargs) -> DCNv4:
    torch.manual_seed(0)
    module = DCNv4(channels, group=group, **kwargs).double().eval()
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.3)
    return module


@pytest.mark.parametrize('e', [2, 3])
def test_equivalent_stride_is_exact(e: int) -> None:
    module = _random_module(dw_kernel_size=3, center_feature_scale=True)
    dense = torch.randn(1, 19, 17, 32, dtype=torch.float64)
    with torch.no_grad():
        ref = module(dense[:, ::e, ::e])
        module.set_equivalent_stride(e)
        out = module(dense)
    torch.testing.assert_close(out[:, ::e, ::e], ref, rtol=1e-10, atol=1e-10)


def test_cpu_kernel_float32_and_thread_count() -> None:
    """float32 within float32 rounding of float64; the same bits for any
    thread count (the backward's scatter is split without atomics)."""
    module = _random_module(64, 4)
    x = torch.randn(2, 12, 13, 64, dtype=torch.float64)
    value, om = module.value_proj(x).detach(), module.offset_mask(x).detach()
    ref = dcnv4_core_reference(value, om, module.geometry)
    results = []
    threads = torch.get_num_threads()
    for n in (1, 2):
        torch.set_num_threads(n)
        v32, om32 = value.float().requires_grad_(), om.float().requires_grad_()
        out = dcnv4_core_cpu(v32, om32, module.geometry)
        results.append((out, *torch.autograd.grad(out.square().sum(), (v32, om32))))
    torch.set_num_threads(threads)
    torch.testing.assert_close(results[0][0].double(), ref, rtol=0, atol=1e-5 * ref.abs().max())
    for a, b in zip(*results):
        assert torch.equal(a, b)


def test_auto_chooses_the_cpu_kernel(monkeypatch) -> None:
    calls = []
    for name in ('cpu', 'gather', 'reference'):
        original = getattr(DCNV4, name)
        monkeypatch.setattr(DCNV4, name,
                            lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    case = CORE[0]
    run_dcnv4_core(case['input'], case['offset_mask'], geometry_of(case))
    monkeypatch.setenv('SEGKIT_DEFORM_IMPL', 'gather')
    run_dcnv4_core(case['input'], case['offset_mask'], geometry_of(case))
    assert calls == ['cpu', 'gather']


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_reduced_precision_keeps_float32_positions(dtype: torch.dtype) -> None:
    """Half-precision inputs are sampled at float32 positions, as the
    original's kernel (its opmath type is float for half types): the result
    is the float32 result of the rounded inputs, rounded once."""
    case = CORE[-1]
    g = geometry_of(case)
    x, om = case['input'].to(dtype), case['offset_mask'].to(dtype)
    out = run_dcnv4_core(x, om, g)
    assert out.dtype == dtype
    expected = dcnv4_core_reference(x.float(), om.float(), g)
    torch.testing.assert_close(out.float(), expected, rtol=torch.finfo(dtype).eps, atol=1e-5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        module = DCNv4(32, group=2)
        assert module(torch.randn(1, 5, 6, 32)).dtype == torch.bfloat16
