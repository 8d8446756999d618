"""DCN and DCNv2 (segkit.ops.dcn) against the papers' formula written out here
with plain tensor indexing, every implementation of the shared core;
mmcv 2.1.0's classes (arguments, parameters, initialisation, checkpoints);
equivalent stride against the strided layer itself."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.ops import (DeformConv2d, DeformConv2dPack, DensifyError, ModulatedDeformConv2d,
                        ModulatedDeformConv2dPack, deform_conv2d, dense_layer,
                        modulated_deform_conv2d)
from segkit.ops.dcn import DCN, deform_conv_core
from segkit.ops.deform_sampling import dispatch
from segkit.utils.pair import pair

IMPLS = ['auto', 'reference', 'gather', 'cpu']


def _bilinear(image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """image (N, H, W) at (y, x) (N, ...): the four corners, each outside the
    map reading 0."""
    n, h, w = image.shape
    batch = torch.arange(n).view(-1, *([1] * (y.dim() - 1))).expand_as(y)
    y0, x0 = y.floor(), x.floor()
    out = torch.zeros_like(y)
    for cy in (y0, y0 + 1):
        for cx in (x0, x0 + 1):
            weight = (1 - (y - cy).abs()) * (1 - (x - cx).abs())
            inside = (cy >= 0) & (cy < h) & (cx >= 0) & (cx < w)
            value = image[batch, cy.clamp(0, h - 1).long(), cx.clamp(0, w - 1).long()]
            out = out + torch.where(inside, weight * value, torch.zeros_like(value))
    return out


def _formula(x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
             weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, int],
             padding: tuple[int, int], dilation: tuple[int, int], groups: int,
             deform_groups: int) -> torch.Tensor:
    """y[o, p0] = sum_{c,k} w[o,c,k] m_gk(p0) x_c(p0*s - pad + p_k + dp_gk(p0)) + b[o]
    (Dai et al. eq. 2; Zhu et al. eq. 1), with the mmcv/torchvision layout:
    offset channel g*2K + 2k is dy, + 1 is dx; mask channel g*K + k."""
    n, c, _, _ = x.shape
    out_channels, group_channels, kh, kw = weight.shape
    k_taps = kh * kw
    h_out, w_out = offset.shape[-2:]
    per_group = out_channels // groups
    rows = torch.arange(h_out, dtype=x.dtype).view(1, -1, 1)
    cols = torch.arange(w_out, dtype=x.dtype).view(1, 1, -1)
    out = torch.zeros(n, out_channels, h_out, w_out, dtype=x.dtype)
    for ch in range(c):
        g = ch // (c // deform_groups)
        grp = ch // group_channels
        for i in range(kh):
            for j in range(kw):
                k = i * kw + j
                dy, dx = offset[:, g * 2 * k_taps + 2 * k], offset[:, g * 2 * k_taps + 2 * k + 1]
                y = rows * stride[0] - padding[0] + i * dilation[0] + dy
                xx = cols * stride[1] - padding[1] + j * dilation[1] + dx
                value = _bilinear(x[:, ch], y, xx)
                if mask is not None:
                    value = value * mask[:, g * k_taps + k]
                outs = slice(grp * per_group, (grp + 1) * per_group)
                w = weight[outs, ch - grp * group_channels, i, j]
                out[:, outs] += w.view(1, -1, 1, 1) * value[:, None]
    return out if bias is None else out + bias.view(1, -1, 1, 1)


# in, out, kernel, stride, padding, dilation, groups, deform_groups, input size
CASES = [
    (4, 6, 3, 1, 1, 1, 1, 1, (9, 9)),
    (6, 4, 3, 2, 1, 1, 2, 1, (11, 8)),         # groups, stride, non-square input
    (4, 6, 3, 1, 2, 2, 1, 2, (10, 13)),        # dilation, deform groups
    (8, 4, (3, 2), (2, 1), (1, 0), (1, 2), 4, 2, (9, 12)),  # non-square everything
    (6, 6, 3, 1, 1, 1, 3, 3, (2, 5)),          # map smaller than the kernel
]


def _inputs(cin: int, cout: int, kernel, stride, padding, dilation, groups, dg, size,
            modulated: bool, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    s, p, d = (pair(v) for v in (stride, padding, dilation))
    h_out = (size[0] + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    w_out = (size[1] + 2 * p[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    f64 = dict(dtype=torch.float64)
    return dict(
        x=torch.randn(2, cin, *size, **f64),
        # several pixels, past the borders too
        offset=torch.randn(2, dg * 2 * kh * kw, h_out, w_out, **f64) * 2.5,
        mask=torch.rand(2, dg * kh * kw, h_out, w_out, **f64) if modulated else None,
        weight=torch.randn(cout, cin // groups, kh, kw, **f64),
        bias=torch.randn(cout, **f64) if modulated else None,
        stride=s, padding=p, dilation=d, groups=groups, deform_groups=dg)


def _ours(t: dict, impl: str | None = None) -> torch.Tensor:
    """The core by ``impl``, or (None) mmcv's functions."""
    if impl is not None:
        return deform_conv_core(t['x'], t['offset'], t['mask'], t['weight'], t['bias'],
                                t['stride'], t['padding'], t['dilation'], impl)
    if t['mask'] is None:
        return deform_conv2d(t['x'], t['offset'], t['weight'], t['stride'], t['padding'],
                             t['dilation'], t['groups'], t['deform_groups'])
    return modulated_deform_conv2d(t['x'], t['offset'], t['mask'], t['weight'], t['bias'],
                                   t['stride'], t['padding'], t['dilation'], t['groups'],
                                   t['deform_groups'])


@pytest.mark.parametrize('modulated', [False, True], ids=['dcn', 'dcnv2'])
@pytest.mark.parametrize('case', CASES)
def test_equals_the_formula(case: tuple, modulated: bool) -> None:
    t = _inputs(*case, modulated)
    ref = _formula(**t)
    assert ref.abs().max() > 1
    for impl in (None, *IMPLS):
        torch.testing.assert_close(_ours(t, impl), ref, rtol=0, atol=1e-10, msg=impl)


@pytest.mark.parametrize('modulated', [False, True], ids=['dcn', 'dcnv2'])
@pytest.mark.parametrize('case', [CASES[1], CASES[3]])
def test_gradients_equal_the_formulas(case: tuple, modulated: bool) -> None:
    """Input, offsets, mask, weight and bias: autograd through every
    implementation against autograd through the formula."""
    t = _inputs(*case, modulated, seed=1)
    names = [k for k in ('x', 'offset', 'mask', 'weight', 'bias') if t[k] is not None]
    for k in names:
        t[k].requires_grad_()
    ref = _formula(**t)
    upstream = torch.randn_like(ref)
    expected = torch.autograd.grad(ref, [t[k] for k in names], upstream)
    for impl in (None, *IMPLS):
        got = torch.autograd.grad(_ours(t, impl), [t[k] for k in names], upstream)
        for name, a, b in zip(names, got, expected):
            assert b.abs().max() > 0, name
            torch.testing.assert_close(a, b, rtol=0, atol=1e-9, msg=f'{impl}: {name}')


def test_offset_layout_dy_first_per_group_and_tap() -> None:
    """An offset of +1 in channel g*2K + 2k moves tap k of group g one row down."""
    x = torch.randn(1, 4, 7, 8, dtype=torch.float64)
    weight = torch.zeros(4, 4, 3, 3, dtype=torch.float64)
    weight[0, 2, 0, 2] = 1.0  # output 0 reads channel 2 (deform group 1) at tap (0, 2): k = 2
    offset = torch.zeros(1, 2 * 2 * 9, 7, 8, dtype=torch.float64)
    offset[:, 18 + 2 * 2] = 1.0   # group 1, tap 2, dy
    offset[:, 2 * 2] = 5.0        # group 0's tap 2: must not matter
    out = deform_conv2d(x, offset, weight, padding=1, deform_groups=2)
    # tap (0, 2) with padding 1 reads (y - 1 + dy, x + 1) = (y, x + 1)
    expected = F.pad(x[:, 2, :, 1:], (0, 1))
    torch.testing.assert_close(out[:, 0], expected, rtol=0, atol=1e-12)


def test_zero_offsets_and_unit_mask_are_the_convolution() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 6, 10, 9, dtype=torch.float64)
    dcn = DeformConv2d(6, 4, 3, stride=2, padding=2, dilation=2, groups=2).double()
    offset = torch.zeros(2, 18, 5, 5, dtype=torch.float64)
    conv = F.conv2d(x, dcn.weight, None, 2, 2, 2, 2)
    torch.testing.assert_close(dcn(x, offset), conv, rtol=0, atol=1e-12)
    v2 = ModulatedDeformConv2d(6, 4, 3, stride=2, padding=2, dilation=2, groups=2).double()
    nn.init.normal_(v2.bias)
    mask = torch.ones(2, 9, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(v2(x, offset, mask), F.conv2d(x, v2.weight, v2.bias, 2, 2, 2, 2),
                               rtol=0, atol=1e-12)


def test_fresh_packs_are_what_mmcv_computes() -> None:
    """Zero offset convs: DCN is the convolution; DCNv2's mask is sigmoid(0) =
    0.5 everywhere, so a fresh DCNv2 (mmcv's too) is half the convolution
    plus its bias."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 7, dtype=torch.float64)
    dcn = DeformConv2dPack(4, 6, 3, stride=2, padding=1).double()
    torch.testing.assert_close(dcn(x), F.conv2d(x, dcn.weight, None, 2, 1), rtol=0, atol=1e-12)
    v2 = ModulatedDeformConv2dPack(4, 6, 3, padding=2, dilation=2, deform_groups=2).double()
    nn.init.normal_(v2.bias)
    expected = 0.5 * F.conv2d(x, v2.weight, None, 1, 2, 2) + v2.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(v2(x), expected, rtol=0, atol=1e-12)


def test_packs_feed_their_offset_conv_in_mmcv_layout() -> None:
    """The Packs' forward is the raw layer with ``conv_offset``'s output:
    DCN all of it; DCNv2 the first 2/3 as offsets, sigmoid of the rest as mask."""
    torch.manual_seed(0)
    x = torch.randn(1, 4, 8, 8, dtype=torch.float64)
    for pack, raw in ((DeformConv2dPack(4, 6, 3, padding=1, deform_groups=2),
                       DeformConv2d(4, 6, 3, padding=1, deform_groups=2)),
                      (ModulatedDeformConv2dPack(4, 6, 3, padding=1, deform_groups=2),
                       ModulatedDeformConv2d(4, 6, 3, padding=1, deform_groups=2))):
        pack.double()
        nn.init.normal_(pack.conv_offset.weight, std=0.5)
        raw.double().load_state_dict(pack.state_dict(), strict=False)
        out = pack.conv_offset(x)
        if isinstance(pack, ModulatedDeformConv2dPack):
            o1, o2, m = out.chunk(3, dim=1)  # mmcv's own words
            expected = raw(x, torch.cat((o1, o2), dim=1), m.sigmoid())
        else:
            expected = raw(x, out)
        assert out.abs().max() > 1
        torch.testing.assert_close(pack(x), expected, rtol=0, atol=1e-12)


def test_non_finite_offsets_give_nan_not_a_crash() -> None:
    """A NaN or infinite offset gives NaN where it samples (as grid_sample;
    torchvision's CPU kernel crashed the process on a NaN position), so a
    diverging network reaches the non-finite-loss guard."""
    x = torch.randn(2, 4, 8, 8)
    weight = torch.randn(4, 4, 3, 3)
    for bad in (float('nan'), float('inf')):
        offset = torch.zeros(2, 18, 8, 8)
        offset[1, 3, 2, 2] = bad
        for impl in IMPLS:
            out = deform_conv_core(x, offset, None, weight, None, (1, 1), (1, 1), (1, 1), impl)
            assert out[0].isfinite().all() and out[1].isnan().any(), (bad, impl)


def test_implementation_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """One dispatch for the deformable family: 'auto' takes the C++ kernel on
    the CPU and grid_sample under tracers; SEGKIT_DEFORM_IMPL forces one; the
    old SEGKIT_DCN_IMPL still works for a release, with a warning."""
    calls = []
    for name in ('reference', 'cpu', 'gather'):
        original = getattr(DCN, name)
        monkeypatch.setattr(DCN, name, lambda *a, fn=original, name=name:
                            calls.append(name) or fn(*a))
    layer = DeformConv2dPack(4, 4, 3, padding=1)
    x = torch.randn(1, 4, 6, 6)
    layer(x)
    assert calls == ['cpu']
    with monkeypatch.context() as m:
        m.setattr(torch.compiler, 'is_exporting', lambda: True)
        layer(x)
    assert calls[-1] == 'reference'
    monkeypatch.setenv('SEGKIT_DEFORM_IMPL', 'gather')
    layer(x)
    assert calls[-1] == 'gather'
    monkeypatch.delenv('SEGKIT_DEFORM_IMPL')
    monkeypatch.setattr(dispatch, '_warned', set())
    monkeypatch.setenv('SEGKIT_DCN_IMPL', 'grid_sample')
    with pytest.warns(FutureWarning, match="SEGKIT_DCN_IMPL is deprecated.*'SEGKIT_DEFORM_IMPL'"):
        layer(x)
    assert calls[-1] == 'reference'
    assert DeformConv2dPack(4, 4, 3, padding=1, impl='gather')(x).shape == (1, 4, 6, 6)
    assert calls[-1] == 'gather'
    monkeypatch.setenv('SEGKIT_DEFORM_IMPL', 'cuda')
    with pytest.raises(ValueError, match='impl must be one of'):
        layer(x)


# -- mmcv 2.1.0's classes -------------------------------------------------------

def test_parameters_and_attributes_as_mmcv() -> None:
    dcn = DeformConv2dPack(8, 16, 3, 2, 1, 1, 2, 2)
    assert {k: tuple(v.shape) for k, v in dcn.state_dict().items()} == {
        'weight': (16, 4, 3, 3), 'conv_offset.weight': (36, 8, 3, 3), 'conv_offset.bias': (36,)}
    assert not hasattr(dcn, 'bias')  # mmcv's DCN has no bias attribute at all
    assert (dcn.kernel_size, dcn.stride, dcn.padding, dcn.dilation) == ((3, 3), (2, 2), (1, 1),
                                                                        (1, 1))
    assert dcn.conv_offset.stride == (2, 2) and dcn.conv_offset.groups == 1
    assert (dcn.transposed, dcn.output_padding, dcn.im2col_step) == (False, (0,), 32)
    v2 = ModulatedDeformConv2dPack(8, 16, 3, 1, 1, 1, 1, 2, False)  # bias: 9th positional
    assert {k: tuple(v.shape) for k, v in v2.state_dict().items()} == {
        'weight': (16, 8, 3, 3), 'conv_offset.weight': (54, 8, 3, 3), 'conv_offset.bias': (54,)}
    assert v2.bias is None
    assert ModulatedDeformConv2d(4, 4, 3, bias='auto').bias.shape == (4,)  # truthy, as mmcv
    with pytest.raises(TypeError):
        ModulatedDeformConv2d(4, 4, 3, im2col_step=32)  # mmcv's DCNv2 has none
    for cls in (DeformConv2dPack, ModulatedDeformConv2dPack):
        assert cls._version == 2
        assert dict(cls(4, 4, 3).state_dict()._metadata[''])['version'] == 2


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match='bias=True is not supported'):
        DeformConv2d(4, 4, 3, bias=True)
    with pytest.raises(ValueError, match='divisible by groups'):
        DeformConv2dPack(6, 4, 3, groups=4)
    with pytest.raises(ValueError, match='divisible by deform_groups'):
        ModulatedDeformConv2dPack(6, 4, 3, deform_groups=4)
    layer = DeformConv2d(4, 4, 3, padding=1)
    with pytest.raises(ValueError, match='offset has 9 channels'):
        layer(torch.randn(1, 4, 5, 5), torch.zeros(1, 9, 5, 5))
    with pytest.raises(ValueError, match='Expected 4D'):
        deform_conv2d(torch.randn(4, 5, 5), torch.zeros(1, 18, 5, 5), layer.weight)
    with pytest.raises(ValueError, match='mask has 18 channels'):
        modulated_deform_conv2d(torch.randn(1, 4, 5, 5), torch.zeros(1, 18, 5, 5),
                                torch.zeros(1, 18, 5, 5), layer.weight, None, 1, 1)


@pytest.mark.parametrize('cls', [DeformConv2dPack, ModulatedDeformConv2dPack])
def test_deformable_groups_is_the_deprecated_name(cls: type) -> None:
    with pytest.warns(DeprecationWarning, match='"deformable_groups" is deprecated'):
        layer = cls(4, 4, 3, deformable_groups=2)
    assert layer.deform_groups == 2
    with pytest.raises(TypeError, match='deform_groups only'):
        cls(4, 4, 3, deform_groups=2, deformable_groups=2)


def test_weight_initialisation_as_mmcv() -> None:
    """DCN: kaiming_uniform_(nonlinearity='relu'), bound sqrt(6 / fan_in) with
    fan_in = in/groups*K; DCNv2: U(+-1/sqrt(in*K)), groups not divided out."""
    torch.manual_seed(0)
    dcn = DeformConv2d(64, 256, 3, groups=4)
    bound = math.sqrt(6 / (16 * 9))
    assert 0.97 * bound < dcn.weight.abs().max() <= bound
    v2 = ModulatedDeformConv2dPack(64, 256, 3, groups=4)
    bound = 1 / math.sqrt(64 * 9)
    assert 0.97 * bound < v2.weight.abs().max() <= bound
    assert (v2.bias == 0).all() and (v2.conv_offset.weight == 0).all()


def test_init_weights_per_class_as_mmcv() -> None:
    """DCNv2 has init_weights(): it redraws the weight and zeros the offset
    conv again; DCN has only reset_parameters() and init_offset()."""
    v2 = ModulatedDeformConv2dPack(4, 4, 3)
    nn.init.normal_(v2.conv_offset.weight)
    before = v2.weight.detach().clone()
    v2.init_weights()
    assert (v2.conv_offset.weight == 0).all() and not torch.equal(v2.weight, before)
    dcn = DeformConv2dPack(4, 4, 3)
    assert not hasattr(dcn, 'init_weights')
    nn.init.normal_(dcn.conv_offset.weight)
    dcn.init_offset()
    assert (dcn.conv_offset.weight == 0).all()


def test_mmcv_layout_state_dict_loads_strictly() -> None:
    """Keys and metadata as mmcv's Packs write them (version 2)."""
    torch.manual_seed(0)
    for cls, per_tap, extra in ((DeformConv2dPack, 2, {}),
                                (ModulatedDeformConv2dPack, 3, {'bias': torch.randn(6)})):
        state = dict(weight=torch.randn(6, 4, 3, 3), **extra,
                     **{'conv_offset.weight': torch.randn(per_tap * 9, 4, 3, 3),
                        'conv_offset.bias': torch.randn(per_tap * 9)})
        from collections import OrderedDict

        written = OrderedDict(state)
        written._metadata = OrderedDict({'': dict(version=2), 'conv_offset': dict(version=1)})
        layer = cls(4, 6, 3, padding=1)
        result = layer.load_state_dict(written, strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        for k, v in state.items():
            assert torch.equal(layer.state_dict()[k], v), k


def test_old_offset_keys_are_renamed_as_mmcv_does() -> None:
    """mmcv's _load_from_state_dict: without a version (or below 2) the
    sibling keys ``<layer>_offset.*`` become ``<layer>.conv_offset.*``. It
    needs to see its parent's keys: loaders that hand each module the whole
    state dict (torch < 2.0, mmcv 1.x) do; torch 2.14 and mmengine 0.10.7 hand
    a child only the keys under its own prefix, where the hook is inert, for
    mmcv's classes and these alike."""
    from collections import OrderedDict

    layer = ModulatedDeformConv2dPack(4, 4, 3, padding=1)
    old = {'layer.0.conv2.weight': torch.randn(4, 4, 3, 3), 'layer.0.conv2.bias': torch.randn(4),
           'layer.0.conv2_offset.weight': torch.randn(27, 4, 3, 3),
           'layer.0.conv2_offset.bias': torch.randn(27)}
    for version, renamed in ((None, True), (1, True), (2, False)):
        state, missing, unexpected, errors = dict(old), [], [], []
        metadata = {} if version is None else {'version': version}
        layer._load_from_state_dict(state, 'layer.0.conv2.', metadata, True, missing,
                                    unexpected, errors)
        assert not errors
        assert ('layer.0.conv2.conv_offset.weight' in state) == renamed, version
        assert ('layer.0.conv2_offset.weight' in state) != renamed, version
    assert not missing and torch.equal(layer.weight, old['layer.0.conv2.weight'])
    parent = nn.Sequential(ModulatedDeformConv2dPack(4, 4, 3, padding=1))
    nested = OrderedDict((k.replace('layer.0.conv2', '0'), v) for k, v in old.items())
    result = parent.load_state_dict(nested, strict=False)
    assert result.unexpected_keys == ['0_offset.weight', '0_offset.bias']


def test_reduced_precision_computes_in_float32() -> None:
    """Under bfloat16 autocast the offset conv gives bfloat16 offsets, which
    would snap positions to coarse steps: the sampling widens to float32;
    the contraction with the kernel is a matrix product that autocast runs
    in bfloat16, as it runs a convolution (mmcv's layer also returns the
    autocast dtype)."""
    torch.manual_seed(0)
    layer = ModulatedDeformConv2dPack(8, 8, 3, padding=1)
    nn.init.normal_(layer.conv_offset.weight, std=0.1)
    x = torch.randn(1, 8, 12, 12)
    ref = layer(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = layer(x.bfloat16())
        same = layer(x)
    assert low.dtype == same.dtype == torch.bfloat16
    assert ((low.float() - ref).abs().max() / ref.abs().max()).item() < 0.03
    assert ((same - ref).abs().max() / ref.abs().max()).item() < 0.03


# -- equivalent stride ------------------------------------------------------------

def _randomised(layer: nn.Module, scale: float = 1.0) -> nn.Module:
    """Offsets of several pixels, a mask away from 0.5."""
    layer.double().eval()
    with torch.no_grad():
        layer.conv_offset.weight.normal_(0, 0.3 * scale)
        layer.conv_offset.bias.normal_(0, 2.0 * scale)
    return layer


@pytest.mark.parametrize('cls', [DeformConv2dPack, ModulatedDeformConv2dPack])
@pytest.mark.parametrize('stride,e,keep', [(1, 2, 1), (1, 3, 1), (2, 1, 1), (2, 1, 2),
                                           (2, 2, 1), (2, 4, 1), (1, 2, 2), (2, 2, 2)])
def test_dense_rule(cls: type, stride: int, e: int, keep: int) -> None:
    """A Pack (offset conv included) on a map e times denser, keeping ``keep``
    of its stride: sampled every e*stride/keep pixels it is the strided layer.
    Bilinear sampling interpolates within the layer's own phase."""
    torch.manual_seed(stride * 10 + e)
    layer = _randomised(cls(4, 6, 3, stride, 2, 2, deform_groups=2))
    x = torch.randn(1, 4, 29, 34, dtype=torch.float64)
    with torch.no_grad():
        ref = layer(x[..., ::e, ::e])
        dense = dense_layer(copy.deepcopy(layer), e, keep)
        out = dense(x)
    est = e * stride // keep
    assert out[..., ::est, ::est].shape == ref.shape
    torch.testing.assert_close(out[..., ::est, ::est], ref, rtol=0, atol=1e-10)
    assert set(dict(dense.named_parameters())) == set(dict(layer.named_parameters()))


def test_scaled_offsets_are_not_exact() -> None:
    """Why phases: the naive dense DCN (offset conv dilated by e, offsets and
    taps scaled by e on the dense map) interpolates between neighbouring
    phases and misses the strided original."""
    torch.manual_seed(0)
    layer = _randomised(ModulatedDeformConv2dPack(4, 6, 3, padding=1), scale=0.3)
    x = torch.randn(1, 4, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        ref = layer(x[..., ::2, ::2])
        off = F.conv2d(x, layer.conv_offset.weight, layer.conv_offset.bias, 1, 2, 2)
        offset, mask = off[:, :18] * 2, off[:, 18:].sigmoid()
        naive = modulated_deform_conv2d(x, offset, mask, layer.weight, layer.bias, 1, 2, 2)
    assert (naive[..., ::2, ::2] - ref).abs().max() > 1e-3
    torch.testing.assert_close(PhaseLayer(layer)(x)[..., ::2, ::2], ref, rtol=0, atol=1e-10)


def PhaseLayer(layer: nn.Module) -> nn.Module:  # noqa: N802 - reads as the class it returns
    dense = copy.deepcopy(layer)
    dense.set_equivalent_stride(2)
    return dense


def test_raw_layers_run_phase_wise_with_their_offsets() -> None:
    """DeformConv2d / ModulatedDeformConv2d given dense offsets (an offset
    conv made dense by the conv rule computes each phase's offsets)."""
    torch.manual_seed(0)
    x = torch.randn(1, 4, 22, 19, dtype=torch.float64)
    offset_conv = nn.Conv2d(4, 27, 3, padding=1).double()
    nn.init.normal_(offset_conv.weight, std=0.3)
    layer = ModulatedDeformConv2d(4, 6, 3, padding=1).double()
    with torch.no_grad():
        small = offset_conv(x[..., ::2, ::2])
        ref = layer(x[..., ::2, ::2], small[:, :18], small[:, 18:].sigmoid())
        dense_conv = dense_layer(copy.deepcopy(offset_conv), 2, 1)
        big = dense_conv(x)
        dense = dense_layer(copy.deepcopy(layer), 2, 1)
        out = dense(x, big[:, :18], big[:, 18:].sigmoid())
    torch.testing.assert_close(out[..., ::2, ::2], ref, rtol=0, atol=1e-10)
    with pytest.raises(DensifyError, match='stride 1 only'):
        dense_layer(DeformConv2d(4, 4, 3, 2, 1), 2, 2)


def test_set_equivalent_stride_sets_and_restores() -> None:
    from segkit.models.backbone_utils import set_equivalent_stride  # what output_stride= calls

    torch.manual_seed(0)
    layer = _randomised(DeformConv2dPack(4, 4, 3, 2, 1))
    x = torch.randn(1, 4, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        ref = layer(x)
        set_equivalent_stride(layer, 2)
        layer.set_equivalent_stride(2)
        assert layer.equivalent_stride == 2 and 'equivalent_stride=2' in repr(layer)
        assert layer.conv_offset.stride == (1, 1)
        layer.set_equivalent_stride(1)
        assert layer.stride == layer.conv_offset.stride == (2, 2)
        torch.testing.assert_close(layer(x), ref, rtol=0, atol=0)


def test_triton_equals_the_formula() -> None:
    """The shared Triton kernels with DCN's per-tap rule (compiled on a GPU,
    else Triton's interpreter on the CPU, as tests/conftest.py sets it up),
    outputs and gradients."""
    from tests.test_ops.test_dcnv3_triton import DEVICE

    t = _inputs(*CASES[1], True, seed=2)  # channel groups, stride 2
    names = ['x', 'offset', 'mask', 'weight', 'bias']
    for k in names:
        t[k].requires_grad_()
    ref = _formula(**t)
    upstream = torch.randn_like(ref)
    expected = torch.autograd.grad(ref, [t[k] for k in names], upstream)
    on = {k: v.detach().to(DEVICE).requires_grad_() if torch.is_tensor(v) else v
          for k, v in t.items()}
    out = _ours(on, 'triton')
    torch.testing.assert_close(out.cpu(), ref, rtol=0, atol=1e-10)
    got = torch.autograd.grad(out, [on[k] for k in names], upstream.to(DEVICE))
    for name, a, b in zip(names, got, expected):
        torch.testing.assert_close(a.cpu(), b, rtol=0, atol=1e-9, msg=name)
