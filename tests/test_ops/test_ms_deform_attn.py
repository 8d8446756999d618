"""Multi-scale deformable attention against the original code: golden cases
(tests/data/ms_deform_attn, float64) made by mmcv 2.1.0's
``multi_scale_deformable_attn_pytorch`` and ``MultiScaleDeformableAttention``,
Deformable-DETR's ``MSDeformAttn`` and DCNv4's ``FlashDeformAttn`` (its CUDA
kernel re-computed in PyTorch; see the data folder's README); every
implementation of the shared core, outputs and gradients to 1e-10."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from segkit.ops.ms_deform_attn import (MSDA, FlashDeformAttn, MSDeformAttn,
                                       MultiScaleDeformableAttention, multi_scale_deformable_attn)

GOLDEN = torch.load(Path(__file__).parents[1] / 'data' / 'ms_deform_attn' /
                    'ms_deform_attn_golden.pt', weights_only=True)
IMPLS = ['reference', 'gather', 'cpu']
TOL = dict(rtol=0, atol=1e-10)


def _grads(out: torch.Tensor, weight: torch.Tensor, inputs: list) -> tuple:
    return torch.autograd.grad((out * weight).sum(), inputs)


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('index', range(len(GOLDEN['core'])))
def test_core_reproduces_the_original(index: int, impl: str) -> None:
    case = GOLDEN['core'][index]
    value, loc, weights = (case[k].clone().requires_grad_() for k in
                           ('value', 'sampling_locations', 'attention_weights'))
    out = multi_scale_deformable_attn(value, case['spatial_shapes'], case['level_start_index'],
                                      loc, weights, impl=impl)
    torch.testing.assert_close(out, case['output'], **TOL)
    grads = _grads(out, case['grad_output_weight'], [value, loc, weights])
    for name, got in zip(('grad_value', 'grad_sampling_locations', 'grad_attention_weights'),
                         grads):
        assert case[name].abs().max() > 0
        torch.testing.assert_close(got, case[name], **TOL, msg=f'{case["name"]}: {name}')


def _load(module: torch.nn.Module, state: dict) -> torch.nn.Module:
    module = module.double()
    module.load_state_dict(state, strict=True)
    return module


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('index', range(len(GOLDEN['module'])))
def test_mmcv_module_reproduces_the_original(index: int, impl: str) -> None:
    """mmcv's module with its state dict: batch first or not, value and
    identity defaults, query_pos, padding masks, 2-d and 4-d references."""
    case = GOLDEN['module'][index]
    module = _load(MultiScaleDeformableAttention(**case['config'], impl=impl), case['state_dict'])
    names = [k for k in ('query', 'value', 'identity', 'query_pos') if case[k] is not None]
    inputs = {k: case[k].clone().requires_grad_() for k in names}
    ref = case['reference_points'].clone().requires_grad_()
    out = module(**inputs, key_padding_mask=case['key_padding_mask'], reference_points=ref,
                 spatial_shapes=case['spatial_shapes'],
                 level_start_index=case['level_start_index'])
    torch.testing.assert_close(out, case['output'], **TOL)
    params = dict(module.named_parameters())
    grads = _grads(out, case['grad_output_weight'],
                   [inputs[k] for k in names] + [ref] + list(params.values()))
    for name, got in zip(names + ['reference_points'], grads):
        torch.testing.assert_close(got, case[f'grad_{name}'], **TOL, msg=name)
    for (name, _), got in zip(params.items(), grads[len(names) + 1:]):
        torch.testing.assert_close(got, case['grad_params'][name], **TOL, msg=name)


@pytest.mark.parametrize('section,cls', [('deformable_detr', MSDeformAttn),
                                         ('flash_deform_attn', FlashDeformAttn)])
@pytest.mark.parametrize('index', range(4))
def test_deformable_detr_and_flash_modules(section: str, cls: type, index: int) -> None:
    """Deformable-DETR's MSDeformAttn and DCNv4's FlashDeformAttn (its
    float16-rounded locations included: removing the rounding moves the
    outputs by up to 2.4e-3)."""
    case = GOLDEN[section][index]
    module = _load(cls(**case['config'], impl='cpu'), case['state_dict'])
    query, ref, flat = (case[k].clone().requires_grad_() for k in
                        ('query', 'reference_points', 'input_flatten'))
    out = module(query, ref, flat, case['input_spatial_shapes'],
                 case['input_level_start_index'], case['input_padding_mask'])
    torch.testing.assert_close(out, case['output'], **TOL)
    params = dict(module.named_parameters())
    grads = _grads(out, case['grad_output_weight'], [query, flat, ref, *params.values()])
    for name, got in zip(('grad_query', 'grad_input_flatten', 'grad_reference_points'), grads):
        torch.testing.assert_close(got, case[name], **TOL, msg=name)
    for (name, _), got in zip(params.items(), grads[3:]):
        torch.testing.assert_close(got, case['grad_params'][name], **TOL, msg=name)


def test_initialisation_is_mmcv_s() -> None:
    """The sampling grid bit for bit (float32, as mmcv computes it), zero
    offset and attention weights, xavier-uniform projections from the same
    RNG stream."""
    init = GOLDEN['module_init']
    torch.manual_seed(init['torch_manual_seed'])
    module = MultiScaleDeformableAttention(**init['config'])
    for name, expected in init['state_dict'].items():
        torch.testing.assert_close(module.state_dict()[name], expected, rtol=0, atol=0, msg=name)


def test_a_mmcv_state_dict_loads_unchanged() -> None:
    """mmcv's parameter names and shapes, value_proj_ratio included."""
    case = GOLDEN['module'][1]  # value_proj_ratio 0.5
    module = MultiScaleDeformableAttention(**case['config'])
    assert module.state_dict().keys() == case['state_dict'].keys()
    module.load_state_dict({k: v.float() for k, v in case['state_dict'].items()})


def test_bad_shapes_say_what() -> None:
    value = torch.randn(1, 20, 2, 4)
    loc, weights = torch.rand(1, 3, 2, 2, 4, 2), torch.rand(1, 3, 2, 2, 4)
    assert multi_scale_deformable_attn(value, [[4, 4], [2, 2]], None, loc, weights).shape == (
        1, 3, 8)
    with pytest.raises(ValueError, match=r'sampling_locations must be .* got \(1, 3, 3, 2, 4, 2\)'):
        multi_scale_deformable_attn(value, [[4, 4], [2, 2]], None, torch.rand(1, 3, 3, 2, 4, 2),
                                    weights)
    with pytest.raises(ValueError, match='value has 20 keys'):
        multi_scale_deformable_attn(value, [[4, 4], [3, 3]], None, loc, weights)
    with pytest.raises(ValueError, match='attention_weights must be'):
        multi_scale_deformable_attn(value, [[4, 4], [2, 2]], None, loc, weights[..., :2])
    with pytest.raises(ValueError, match='divisible by num_heads'):
        MultiScaleDeformableAttention(30, num_heads=4)
    with pytest.raises(ValueError, match='must be 2 or 4'):
        MultiScaleDeformableAttention(8, 2, 1, 1, batch_first=True)(
            torch.randn(1, 4, 8), reference_points=torch.rand(1, 4, 1, 3),
            spatial_shapes=torch.tensor([[2, 2]]))


def test_reduced_precision_samples_in_float32() -> None:
    """bfloat16 locations would snap to coarse steps: the core samples in
    float32 and returns the value's dtype."""
    case = GOLDEN['core'][0]
    args = [case[k].float() for k in ('value', 'sampling_locations', 'attention_weights')]
    ref = multi_scale_deformable_attn(args[0], case['spatial_shapes'], None, *args[1:])
    low = multi_scale_deformable_attn(args[0].bfloat16(), case['spatial_shapes'], None,
                                      args[1].bfloat16(), args[2].bfloat16())
    assert low.dtype == torch.bfloat16
    assert ((low.float() - ref).abs().max() / ref.abs().max()).item() < 0.05


def test_implementation_choice(monkeypatch) -> None:
    calls = []
    for name in ('reference', 'cpu', 'gather'):
        original = getattr(MSDA, name)
        monkeypatch.setattr(MSDA, name, lambda *a, fn=original, name=name:
                            calls.append(name) or fn(*a))
    case = GOLDEN['core'][0]
    args = (case['value'], case['spatial_shapes'], None, case['sampling_locations'],
            case['attention_weights'])
    multi_scale_deformable_attn(*args)
    assert calls == ['cpu']
    monkeypatch.setenv('SEGKIT_DEFORM_IMPL', 'gather')
    multi_scale_deformable_attn(*args)
    assert calls[-1] == 'gather'


def test_triton_reproduces_the_original() -> None:
    """The shared Triton kernels with the attention's levels (compiled on a
    GPU, else Triton's interpreter on the CPU)."""
    from tests.test_ops.test_dcnv3_triton import DEVICE

    case = GOLDEN['core'][1]
    value, loc, weights = (case[k].to(DEVICE).requires_grad_() for k in
                           ('value', 'sampling_locations', 'attention_weights'))
    out = multi_scale_deformable_attn(value, case['spatial_shapes'], None, loc, weights,
                                      impl='triton')
    torch.testing.assert_close(out.cpu(), case['output'], **TOL)
    grads = _grads(out, case['grad_output_weight'].to(DEVICE), [value, loc, weights])
    for name, got in zip(('grad_value', 'grad_sampling_locations', 'grad_attention_weights'),
                         grads):
        torch.testing.assert_close(got.cpu(), case[name], **TOL, msg=name)
