"""Dcls2d against the reference ``dcls`` package, a hand computation and plain
dilated convolutions."""
from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

from segkit.ops.dcls import Dcls2d, grid_positions

logging.getLogger().setLevel(logging.ERROR)  # the reference logs on every construction


def _reference(**kwargs):
    from DCLS.construct.modules import Dcls2d as RefDcls2d

    return RefDcls2d(use_implicit_gemm=False, **kwargs).double()


CASES = [  # in, out, groups, K, size, stride, padding
    (4, 6, 1, 5, 5, 1, 2),
    (6, 6, 6, 9, 7, 1, 3),   # depthwise
    (8, 8, 8, 34, 17, 1, 8),  # ConvNeXt-dcls stage shape, smaller channels
    (4, 4, 2, 3, 5, 2, 1),   # grouped, strided
]


# NOTE: the reference's 'gauss' and 'v1' mix up the axes of non-square kernels
# (docs/operators.md, DCLS), so only its 'v0' is an oracle there
NON_SQUARE = [(4, 4, 2, 6, (5, 9), 1, (2, 4)), (3, 6, 3, 4, (7, 3), 2, (3, 1))]


@pytest.mark.parametrize('version,cin,cout,groups,k,size,stride,padding', [
    (version, *case) for version in ('gauss', 'v1', 'v0') for case in CASES
] + [('v0', *case) for case in NON_SQUARE])
def test_matches_reference_package(version: str, cin: int, cout: int, groups: int, k: int,
                                   size: int, stride: int, padding: int) -> None:
    torch.manual_seed(k)
    ref = _reference(in_channels=cin, out_channels=cout, kernel_count=k, stride=stride,
                     padding=padding, dilated_kernel_size=size, groups=groups, version=version)
    with torch.no_grad():
        # wide enough that some positions sit clamped on the kernel's edge
        # (integer positions, where v0's gradient is one-sided)
        ref.P.normal_(0, max(ref.dilated_kernel_size) / 4)
        ref.clamp_parameters()
        if ref.SIG is not None:
            ref.SIG.uniform_(-0.5, 0.5)
    ours = Dcls2d(cin, cout, k, stride, padding, size, groups, version=version).double()
    result = ours.load_state_dict(ref.state_dict(), strict=True)  # checkpoints load
    assert not result.missing_keys and not result.unexpected_keys
    size_h, size_w = ours.dilated_kernel_size
    rows, cols = grid_positions(ours.P, version)
    assert (rows.abs() == size_h // 2).any() or (cols.abs() == size_w // 2).any()
    x = torch.randn(2, cin, 19, 23, dtype=torch.float64)
    out_ref, out = ref(x), ours(x)
    torch.testing.assert_close(out, out_ref, rtol=1e-9, atol=1e-10)
    back = _reference(in_channels=cin, out_channels=cout, kernel_count=k, stride=stride,
                      padding=padding, dilated_kernel_size=size, groups=groups, version=version)
    back.load_state_dict(ours.state_dict(), strict=True)  # and back again
    torch.testing.assert_close(back(x), out_ref, rtol=0, atol=0)
    g = torch.randn_like(out)
    names = ['weight', 'P', 'bias'] + (['SIG'] if version == 'gauss' else [])
    grads_ref = torch.autograd.grad((out_ref * g).sum(), [getattr(ref, n) for n in names])
    grads = torch.autograd.grad((out * g).sum(), [getattr(ours, n) for n in names])
    for name, a, b in zip(names, grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-9, msg=name)


def test_non_square_kernel_by_hand() -> None:
    """One element at x = +2, y = -1 (centred) in a 3 (rows) x 7 (cols) kernel."""
    layer = Dcls2d(1, 1, 1, dilated_kernel_size=(3, 7), version='v1', bias=False).double()
    with torch.no_grad():
        layer.weight.fill_(2.0)
        layer.P.copy_(torch.tensor([2.25, -0.5], dtype=torch.float64).view(2, 1, 1, 1))
    kernel = layer.construct_kernel()[0, 0]
    expected = torch.zeros(3, 7, dtype=torch.float64)
    # x = 2.25 + 7 // 2 = 5.25 -> columns 5, 6; y = -0.5 + 3 // 2 = 0.5 -> rows 0, 1
    for r, wy in ((0, 0.5), (1, 0.5)):
        for c, wx in ((5, 0.75), (6, 0.25)):
            expected[r, c] = 2.0 * wx * wy
    torch.testing.assert_close(kernel, expected / (1 + 1e-7))
    # clamping uses each axis's own size: x within +-3, y within +-1
    with torch.no_grad():
        layer.P.copy_(torch.tensor([5.0, 5.0], dtype=torch.float64).view(2, 1, 1, 1))
    layer.clamp_parameters()
    assert layer.P.flatten().tolist() == [3.0, 1.0]


@pytest.mark.parametrize('version,tol', [('v1', 1e-6), ('v0', 0.0), ('gauss', 5e-3)])
def test_integer_positions_reproduce_a_dilated_conv(version: str, tol: float) -> None:
    """A 3x3 kernel dilated by 3, laid out as DCLS elements on integer positions."""
    torch.manual_seed(0)
    conv_w = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    layer = Dcls2d(2, 4, 9, dilated_kernel_size=7, padding=3, bias=False, version=version).double()
    with torch.no_grad():
        i, j = torch.meshgrid(torch.arange(3), torch.arange(3), indexing='ij')  # row, col
        layer.weight.copy_(conv_w.flatten(2))
        rows, cols = grid_positions(layer.P, version)
        rows.copy_((3 * (i.flatten() - 1)).double().expand(4, 2, 9))
        cols.copy_((3 * (j.flatten() - 1)).double().expand(4, 2, 9))
        if layer.SIG is not None:
            layer.SIG.zero_()  # sigma = 0.27, the smallest
    x = torch.randn(1, 2, 15, 16, dtype=torch.float64)
    expected = F.conv2d(x, conv_w, padding=3, dilation=3)
    err = (layer(x) - expected).abs().max() / expected.abs().max()
    assert err <= tol


def test_dilation_argument_spaces_the_dense_kernel() -> None:
    layer = Dcls2d(2, 2, 4, dilated_kernel_size=5, padding=4, dilation=2).double()
    x = torch.randn(1, 2, 20, 20, dtype=torch.float64)
    expected = F.conv2d(x, layer.construct_kernel(), layer.bias, padding=4, dilation=2)
    torch.testing.assert_close(layer(x), expected)


def test_eval_cache_reused_and_invalidated() -> None:
    layer = Dcls2d(3, 3, 4, dilated_kernel_size=5, padding=2, groups=3).eval()
    x = torch.randn(1, 3, 12, 12)
    with torch.no_grad():
        first = layer(x)
        kernel = layer._kernel_cache[1]
        again = layer(x)
        assert layer._kernel_cache[1] is kernel
        torch.testing.assert_close(again, first)
        layer.P.add_(0.3)  # what an optimiser step does
        moved = layer(x)
    assert layer._kernel_cache[1] is not kernel
    torch.testing.assert_close(moved, F.conv2d(x, layer.construct_kernel().detach(),
                                               layer.bias, padding=2, groups=3))
    assert not torch.allclose(moved, first)
    layer.train()
    layer(x).sum().backward()  # training never uses the cache
    assert layer.P.grad is not None and layer._kernel_cache is None


def test_signature_is_the_reference_packages() -> None:
    """Code written for ``dcls`` runs unchanged: the same arguments in the same
    order (segkit adds ``dilation`` at the end)."""
    import inspect

    from DCLS.construct.modules import Dcls2d as RefDcls2d

    ref = [p for p in inspect.signature(RefDcls2d).parameters if p != 'use_implicit_gemm']
    assert list(inspect.signature(Dcls2d).parameters) == ref + ['dilation']


def test_padding_modes_match_the_reference() -> None:
    torch.manual_seed(0)
    ref = _reference(in_channels=3, out_channels=4, kernel_count=5, padding=2,
                     dilated_kernel_size=5, padding_mode='reflect', version='v1')
    ours = Dcls2d(3, 4, 5, padding=2, dilated_kernel_size=5, padding_mode='reflect',
                  version='v1').double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(1, 3, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(ours.to_conv2d()(x), ref(x), rtol=1e-9, atol=1e-10)


def test_the_old_positional_kernel_size_is_caught() -> None:
    """Before segkit 0.2 the fourth argument was the kernel size; now it is the
    stride (the reference's order): the old call fails loudly, not silently."""
    with pytest.raises(ValueError, match='give dilated_kernel_size='):
        Dcls2d(4, 4, 9, 7)


def test_bad_arguments_and_devices() -> None:
    with pytest.raises(ValueError, match='divisible by groups'):
        Dcls2d(3, 4, 2, dilated_kernel_size=5, groups=2)
    with pytest.raises(ValueError, match='version must be'):
        Dcls2d(2, 2, 2, dilated_kernel_size=5, version='cubic')
    layer = Dcls2d(2, 2, 2, dilated_kernel_size=(3, 5))
    assert {n for n, _ in layer.named_buffers()} == {'idx_h', 'idx_w'}
    assert 'idx_h' not in layer.state_dict()
    assert layer.double().idx_w.dtype == torch.float64


def test_repulsion_loss_by_hand() -> None:
    from segkit.ops import repulsion_loss

    # one kernel, three elements: (0,0), (0.5,0), (3,0): only the first pair is
    # closer than 1 (distance 0.5 -> 0.5 each way); 6 ordered pairs
    P = torch.tensor([[0.0, 0.5, 3.0], [0.0, 0.0, 0.0]], dtype=torch.float64).view(2, 1, 1, 3)
    P.requires_grad_(True)
    loss = repulsion_loss(P)
    assert loss.item() == pytest.approx(2 * 0.5 / 6)
    loss.backward()
    # pushing element 0 left (and 1 right) lowers the loss
    assert P.grad[0, 0, 0, 0] > 0 and P.grad[0, 0, 0, 1] < 0 and P.grad[0, 0, 0, 2] == 0
    coincident = torch.zeros(2, 1, 1, 2, requires_grad=True)
    repulsion_loss(coincident).backward()
    assert torch.isfinite(coincident.grad).all()


def test_set_equivalent_stride_sets_and_does_not_accumulate() -> None:
    """The same meaning as DCNv3's: the spacing is e times the layer's own,
    whatever was set before; e=1 undoes it."""
    from segkit.ops import DCNv3

    layer = Dcls2d(2, 2, 4, dilated_kernel_size=5, padding=2, dilation=(1, 2))
    layer.set_equivalent_stride(2)
    layer.set_equivalent_stride(2)
    assert layer.dilation == (2, 4) and layer.padding == (4, 4)
    layer.set_equivalent_stride(4)
    assert layer.dilation == (4, 8) and layer.padding == (8, 8)
    layer.set_equivalent_stride(1)
    assert layer.dilation == (1, 2) and layer.padding == (2, 2)
    dcn = DCNv3(8, group=2)
    dcn.set_equivalent_stride(2)
    dcn.set_equivalent_stride(2)
    assert dcn.equivalent_stride == layer.equivalent_stride * 2 == 2


@pytest.mark.parametrize('version', ['gauss', 'v1', 'v0'])
def test_kernel_built_in_float32_under_autocast(version: str) -> None:
    """Under bfloat16 autocast the kernel is still built in float32 (autocast
    would run its einsum on rounded interpolation weights); only the
    convolution is in bfloat16, and the position gradients stay finite and
    close to float32's."""
    torch.manual_seed(0)
    layer = Dcls2d(8, 8, kernel_count=4, dilated_kernel_size=7, padding=3, groups=2,
                   version=version)
    with torch.no_grad():
        layer.P.uniform_(-2.7, 2.7)
    x = torch.randn(2, 8, 12, 12)
    kernel = layer.construct_kernel()
    ref = layer(x)
    ref_grad, = torch.autograd.grad(ref.square().sum(), layer.P)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low_kernel = layer.construct_kernel()
        out = layer(x)
    assert low_kernel.dtype == torch.float32 and out.dtype == torch.bfloat16
    torch.testing.assert_close(low_kernel, kernel, rtol=0, atol=0)
    grad, = torch.autograd.grad(out.float().square().sum(), layer.P)
    assert grad.isfinite().all()
    scale = ref.abs().max().item()
    torch.testing.assert_close(out.float(), ref, rtol=0, atol=2e-2 * scale)
    torch.testing.assert_close(grad, ref_grad, rtol=0, atol=5e-2 * ref_grad.abs().max().item())
