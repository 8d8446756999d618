"""CrissCrossAttention against its definition (Huang et al., arXiv 1811.11721)
computed position by position, and against mmcv 2.1.0's own pure-PyTorch
module (shipped in mmcv-lite) with the same weights."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from unittest import mock

import pytest
import torch

from segkit.ops import CrissCrossAttention, criss_cross_attention


def _reference(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Each (h, w): a softmax over the energies of the H + W - 1 positions of
    its row and column (itself once), weighting their values."""
    b_size, _, height, width = query.shape
    outs = []
    for b in range(b_size):
        for h in range(height):
            for w in range(width):
                cross = [(i, w) for i in range(height)] + [(h, j) for j in range(width) if j != w]
                energy = torch.stack([query[b, :, h, w] @ key[b, :, i, j] for i, j in cross])
                attn = energy.softmax(0)
                outs.append(sum(a * value[b, :, i, j] for a, (i, j) in zip(attn, cross)))
    return torch.stack(outs).view(b_size, height, width, -1).permute(0, 3, 1, 2)


SIZES = [(2, 5, 7), (1, 4, 1), (3, 1, 6), (1, 3, 3)]  # B, H, W


@pytest.mark.parametrize('size', SIZES, ids=str)
def test_matches_definition_with_gradients(size: tuple[int, int, int]) -> None:
    b, h, w = size
    torch.manual_seed(0)
    cca = CrissCrossAttention(16).double()
    with torch.no_grad():
        cca.gamma.scale.fill_(0.7)
    x = torch.randn(b, 16, h, w, dtype=torch.float64, requires_grad=True)
    out = cca(x)
    assert out.shape == x.shape
    ref = x + cca.gamma.scale * _reference(cca.query_conv(x), cca.key_conv(x),
                                           cca.value_conv(x))
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    weights = torch.randn_like(out)
    names, params = zip(('x', x), *cca.named_parameters())
    grads = torch.autograd.grad((out * weights).sum(), params)
    grads_ref = torch.autograd.grad((ref * weights).sum(), params)
    for name, g, g_ref in zip(names, grads, grads_ref):
        torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-12)
        if name == 'key_conv.bias':
            # it adds query . bias to every energy of a softmax: no effect
            torch.testing.assert_close(g, torch.zeros_like(g), rtol=0, atol=1e-12)
        else:
            assert g.abs().min() > 0, name  # every parameter gets a gradient


def test_function_against_definition() -> None:
    torch.manual_seed(1)
    q, k = torch.randn(2, 2, 2, 6, 5, dtype=torch.float64)
    v = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(criss_cross_attention(q, k, v), _reference(q, k, v),
                               rtol=1e-12, atol=1e-12)
    # attention weights sum to one: constant values come back unchanged
    ones = torch.ones(2, 3, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(criss_cross_attention(q, k, ones), ones)


def _mmcv_module() -> type:
    """mmcv 2.1.0's ``mmcv/ops/cc_attention.py`` (pure PyTorch since mmcv
    1.3.13; mmcv-lite ships the file but not the ``mmcv.ops`` package that
    would import it), loaded without registering it."""
    import mmcv
    from mmengine.registry import MODELS

    path = Path(mmcv.__file__).parent / 'ops' / 'cc_attention.py'
    spec = importlib.util.spec_from_file_location('_mmcv_cc_attention', path)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(MODELS, 'register_module', lambda *a, **k: (lambda cls: cls)):
        spec.loader.exec_module(module)
    return module.CrissCrossAttention


def test_loads_mmcv_weights_and_matches_mmcv() -> None:
    torch.manual_seed(2)
    theirs = _mmcv_module()(24).double()
    with torch.no_grad():
        theirs.gamma.scale.fill_(-1.3)
    ours = CrissCrossAttention(24).double()
    ours.load_state_dict(theirs.state_dict())  # strict: same names and shapes
    x = torch.randn(2, 24, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-12, atol=1e-12)
    assert ours.gamma.scale.shape == ()


def test_fresh_block_is_identity_and_bad_arguments() -> None:
    cca = CrissCrossAttention(8)
    x = torch.randn(1, 8, 4, 5)
    torch.testing.assert_close(cca(x), x)  # gamma starts at 0
    assert repr(cca).startswith('CrissCrossAttention(\n  in_channels=8')
    with pytest.raises(ValueError, match='at least 8'):
        CrissCrossAttention(4)
