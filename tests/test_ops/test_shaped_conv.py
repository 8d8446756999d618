"""ShapedConv2d against F.conv2d with a hand-masked dense kernel; the footprints
against the paper's definition (Sun, Ozay, Okatani, arXiv 1511.09231)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision

from segkit.ops import ShapedConv2d, densify, kernel_footprint, square_to_shaped

# the paper's quasi-hexagonal 3x3 kernels: two adjacent corners dropped, the
# orientation named after the side that loses them (row 0 at the top)
PAPER = {
    'qh-right': [[1, 1, 0], [1, 1, 1], [1, 1, 0]],
    'qh-left': [[0, 1, 1], [1, 1, 1], [0, 1, 1]],
    'qh-up': [[0, 1, 0], [1, 1, 1], [1, 1, 1]],
    'qh-down': [[1, 1, 1], [1, 1, 1], [0, 1, 0]],
}


@pytest.mark.parametrize('shape', PAPER)
def test_named_3x3_footprints_are_the_papers(shape: str) -> None:
    assert kernel_footprint(shape, 3).tolist() == [[bool(v) for v in row] for row in PAPER[shape]]


def test_larger_hexagons() -> None:
    """k = 2r + 1 keeps the 1 + 3r(r+1) lattice points within hexagonal
    distance r; rows offset by half a tap move towards the left for 'right'."""
    five = [[0, 1, 1, 1, 0],
            [1, 1, 1, 1, 0],
            [1, 1, 1, 1, 1],
            [1, 1, 1, 1, 0],
            [0, 1, 1, 1, 0]]
    assert kernel_footprint('qh-right', 5).int().tolist() == five
    for k, taps in ((5, 19), (7, 37), (9, 61)):
        right, left = kernel_footprint('qh-right', k), kernel_footprint('qh-left', k)
        up, down = kernel_footprint('qh-up', k), kernel_footprint('qh-down', k)
        assert int(right.sum()) == taps == 1 + 3 * (k // 2) * (k // 2 + 1)
        assert torch.equal(left, right.flip(1)) and torch.equal(down, up.flip(0))
        assert torch.equal(up, left.T) and torch.equal(down, right.T)
        assert right[k // 2].all() and right[:, : k // 2 + 1].sum() > right[:, k // 2:].sum()


CASES = [  # cin, cout, groups, k, stride, padding, dilation
    (3, 8, 1, 3, 1, 1, 1),
    (4, 8, 2, 3, 2, 0, 1),
    (8, 8, 8, 3, 1, 2, 2),   # depthwise, dilated
    (4, 4, 1, 5, 1, 2, 1),
    (8, 8, 8, 7, 1, 3, 1),   # ConvNeXt's depthwise mixer
]


@pytest.mark.parametrize('shape', [*PAPER, 'qh-mixed', 'square'])
@pytest.mark.parametrize('cin,cout,groups,k,stride,padding,dilation', CASES)
def test_equals_a_masked_dense_conv(shape: str, cin: int, cout: int, groups: int, k: int,
                                    stride: int, padding: int, dilation: int) -> None:
    torch.manual_seed(k + stride)
    conv = ShapedConv2d(cin, cout, k, shape, stride, padding, dilation, groups).double()
    with torch.no_grad():
        conv.bias.normal_()
    full = torch.randn(cout, cin // groups, k, k, dtype=torch.float64, requires_grad=True)
    if shape == 'qh-mixed':
        masks = [kernel_footprint(o, k) for o in ('qh-right', 'qh-down', 'qh-left', 'qh-up')]
        mask = torch.stack([masks[4 * i // cout] for i in range(cout)])[:, None]
    else:
        mask = kernel_footprint(shape, k).expand(cout, 1, k, k)
    with torch.no_grad():  # the kept taps of the same full kernel
        conv.weight.copy_(full.flatten(2)[mask.expand_as(full).flatten(2)].view(
            cout, cin // groups, -1))
    x = torch.randn(2, cin, 19, 23, dtype=torch.float64)
    expected = F.conv2d(x, full * mask, conv.bias, stride, padding, dilation, groups)
    out = conv(x)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    # gradients: the masked conv's, on the kept taps only
    g = torch.randn_like(out)
    (grad,) = torch.autograd.grad((out * g).sum(), conv.weight)
    (grad_full,) = torch.autograd.grad((expected * g).sum(), full)
    assert (grad_full * ~mask).abs().max() == 0
    torch.testing.assert_close(grad, grad_full.flatten(2)[mask.expand_as(full).flatten(2)].view(
        cout, cin // groups, -1), rtol=0, atol=1e-12)
    if shape != 'square':
        assert conv.weight.shape[2] == int(mask[0].sum()) < k * k


def test_qh_mixed_quarters_and_parameter_saving() -> None:
    conv = ShapedConv2d(6, 12, 3, 'qh-mixed', padding=1)
    footprints = conv.footprint
    for quarter, shape in enumerate(('qh-right', 'qh-down', 'qh-left', 'qh-up')):
        assert all(torch.equal(f, kernel_footprint(shape, 3))
                   for f in footprints[3 * quarter:3 * quarter + 3])
    assert conv.weight.numel() == 12 * 6 * 7  # 7/9 of nn.Conv2d(6, 12, 3)'s weights
    assert set(conv.state_dict()) == {'weight', 'bias'}


def test_custom_footprint_and_bad_arguments() -> None:
    cross = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    conv = ShapedConv2d(2, 2, 3, cross)
    assert conv.weight.shape == (2, 2, 5) and conv.shape == 'custom'
    with pytest.raises(ValueError, match='shape must be one of'):
        ShapedConv2d(2, 2, 3, 'hexagon')
    with pytest.raises(ValueError, match='odd kernel size'):
        ShapedConv2d(2, 2, 4, 'qh-up')
    with pytest.raises(ValueError, match='are square'):
        kernel_footprint('qh-up', (3, 5))
    with pytest.raises(ValueError, match='does not match kernel_size'):
        ShapedConv2d(2, 2, 5, cross)
    with pytest.raises(ValueError, match='divisible by 4'):
        ShapedConv2d(2, 6, 3, 'qh-mixed')
    with pytest.raises(ValueError, match='keeps no tap'):
        ShapedConv2d(2, 2, 3, [[0] * 3] * 3)


def test_eval_cache_reused_and_invalidated() -> None:
    conv = ShapedConv2d(3, 4, 3, 'qh-left', padding=1).eval()
    x = torch.randn(1, 3, 9, 9)
    with torch.no_grad():
        first = conv(x)
        kernel = conv._kernel_cache[1]
        assert conv(x) is not None and conv._kernel_cache[1] is kernel
        conv.weight.add_(0.5)  # what an optimiser step does
        moved = conv(x)
    assert conv._kernel_cache[1] is not kernel and not torch.allclose(moved, first)
    conv.train()
    conv(x).sum().backward()
    assert conv.weight.grad is not None and conv._kernel_cache is None


def test_square_to_shaped_keeps_exactly_the_kept_taps() -> None:
    square = torch.nn.Conv2d(4, 8, 3, padding=1)
    shaped = ShapedConv2d(4, 8, 3, 'qh-mixed', padding=1)
    state, dropped = square_to_shaped(square.state_dict(), shaped)
    shaped.load_state_dict(state)
    mask = shaped.footprint[:, None].expand_as(square.weight)
    torch.testing.assert_close(shaped.construct_kernel(), square.weight * mask, rtol=0, atol=0)
    energy = square.weight.double().square()
    assert dropped == pytest.approx((energy * ~mask).sum().item() / energy.sum().item())
    assert 0 < dropped < 1
    again, none = square_to_shaped(state, shaped)  # already shaped: unchanged
    assert none == 0.0 and torch.equal(again['weight'], state['weight'])


def _shaped_resnet18() -> torch.nn.Module:
    """torchvision's ResNet-18 with its 3x3 convs shaped (orientations cycled)."""
    net = torchvision.models.resnet18(weights=None)
    names = [n for n, m in net.named_modules()
             if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    for i, name in enumerate(names):
        parent, _, child = name.rpartition('.')
        old = net.get_submodule(name)
        new = ShapedConv2d(old.in_channels, old.out_channels, 3,
                           ('qh-right', 'qh-down', 'qh-left', 'qh-up')[i % 4], old.stride,
                           old.padding, old.dilation, old.groups, old.bias is not None)
        setattr(net.get_submodule(parent) if parent else net, child, new)
    return net.eval()


@pytest.mark.parametrize('output_stride', [16, 8])
def test_densify_of_a_shaped_network_is_exact(output_stride: int) -> None:
    torch.manual_seed(0)
    net = _shaped_resnet18()
    dense = densify(net, output_stride=output_stride)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), net(x), rtol=1e-4, atol=1e-4)
    e = 32 // output_stride
    assert dense.layer4[0].conv2.dilation == (e, e)
    assert isinstance(dense.layer4[0].conv2, ShapedConv2d)


def test_to_conv2d_computes_the_same() -> None:
    """(What export uses: DCLS and shaped layers as plain convolutions.)"""
    from segkit.ops import Dcls2d

    x = torch.randn(2, 8, 17, 19, dtype=torch.float64)
    for layer in (ShapedConv2d(8, 8, 5, 'qh-mixed', 2, 2, 1, 2).double(),
                  Dcls2d(8, 8, 6, 1, 3, 7, groups=8, version='v0').double()):
        conv = layer.to_conv2d()
        assert type(conv) is torch.nn.Conv2d
        torch.testing.assert_close(conv(x), layer(x), rtol=0, atol=1e-12)
