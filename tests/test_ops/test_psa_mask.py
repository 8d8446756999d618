"""PSAMask against mmcv 2.1.0's kernels written out as loops over flat indices
(mmcv/ops/csrc/pytorch/cpu/psamask.cpp), and against a case worked by hand."""
from __future__ import annotations

import pytest
import torch

from segkit.ops import PSAMask, psa_mask


def _reference(x: torch.Tensor, psa_type: str, h_mask: int, w_mask: int) -> torch.Tensor:
    """mmcv's psamask_{collect,distribute}_forward, index for index."""
    num, _, h_feature, w_feature = x.shape
    half_h, half_w = (h_mask - 1) // 2, (w_mask - 1) // 2
    src, dst = [], []
    for n in range(num):
        for h in range(h_feature):
            for w in range(w_feature):
                hstart, hend = max(0, half_h - h), min(h_mask, h_feature + half_h - h)
                wstart, wend = max(0, half_w - w), min(w_mask, w_feature + half_w - w)
                for hidx in range(hstart, hend):
                    for widx in range(wstart, wend):
                        p = (hidx + h - half_h) * w_feature + (widx + w - half_w)
                        q = h * w_feature + w
                        if psa_type == 'collect':
                            dst.append((n * h_feature * w_feature + p) * h_feature * w_feature + q)
                        else:
                            dst.append((n * h_feature * w_feature + q) * h_feature * w_feature + p)
                        src.append(((n * h_mask * w_mask + hidx * w_mask + widx) * h_feature
                                    + h) * w_feature + w)
    out = x.new_zeros(num * (h_feature * w_feature) ** 2)
    out[torch.tensor(dst, dtype=torch.long)] = x.reshape(-1)[torch.tensor(src, dtype=torch.long)]
    return out.view(num, h_feature * w_feature, h_feature, w_feature)


CASES = [  # N, H, W, h_mask, w_mask
    (2, 5, 7, 9, 13),    # windows that cover the whole map from every position (2H-1, 2W-1)
    (1, 6, 4, 3, 5),     # small windows, even map sizes
    (3, 4, 5, 4, 6),     # even windows: the centre is ((4-1)//2, (6-1)//2) = (1, 2)
    (2, 3, 3, 9, 7),     # windows larger than 2H-1
    (1, 1, 1, 1, 1),
    (2, 1, 6, 1, 5),
]


@pytest.mark.parametrize('psa_type', ['collect', 'distribute'])
@pytest.mark.parametrize('case', CASES, ids=str)
def test_matches_mmcv_kernel_with_gradients(psa_type: str, case: tuple[int, ...]) -> None:
    n, h, w, h_mask, w_mask = case
    torch.manual_seed(0)
    x = torch.randn(n, h_mask * w_mask, h, w, dtype=torch.float64, requires_grad=True)
    out = PSAMask(psa_type, (h_mask, w_mask))(x)
    ref = _reference(x, psa_type, h_mask, w_mask)
    assert out.shape == (n, h * w, h, w)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    weights = torch.randn_like(out)
    (grad,) = torch.autograd.grad((out * weights).sum(), x)
    (grad_ref,) = torch.autograd.grad((ref * weights).sum(), x)
    torch.testing.assert_close(grad, grad_ref, rtol=0, atol=0)
    # window entries whose position falls off the map get no gradient
    assert int((grad == 0).sum()) == x.numel() - int((ref != 0).sum())


def test_worked_by_hand() -> None:
    """3x3 map, 3x3 windows: at q = (0, 0) only the window's lower-right 2x2
    lies on the map, at p = (0, 0), (0, 1), (1, 0), (1, 1)."""
    x = torch.arange(1.0, 1 + 9 * 9).view(1, 9, 3, 3)
    collect = psa_mask(x, 'collect', 3)
    at_q00 = collect[0, :, 0, 0]
    expected = torch.zeros(9)
    expected[[0, 1, 3, 4]] = x[0, [4, 5, 7, 8], 0, 0]
    torch.testing.assert_close(at_q00, expected)
    # the centre position sees its whole window, laid out as the map
    torch.testing.assert_close(collect[0, :, 1, 1], x[0, :, 1, 1])
    # distribute: the same values, the two H*W axes swapped
    distribute = psa_mask(x, 'distribute', (3, 3))
    torch.testing.assert_close(distribute[0, 0].flatten(), expected)
    torch.testing.assert_close(distribute.view(1, 9, 9), collect.view(1, 9, 9).transpose(1, 2))


def test_float32_and_non_contiguous_input() -> None:
    x = torch.randn(2, 5, 6, 15).permute(0, 3, 1, 2)  # (2, 15, 5, 6), channels-last in memory
    out = psa_mask(x, 'distribute', (3, 5))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, _reference(x.contiguous(), 'distribute', 3, 5), rtol=0, atol=0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match='psa_type'):
        PSAMask('bi-direction', (3, 3))
    with pytest.raises(ValueError, match='psa_type'):
        psa_mask(torch.zeros(1, 9, 2, 2), 'gather', 3)
    with pytest.raises(ValueError, match=r'10 channels.*h_mask \* w_mask = 9'):
        PSAMask('collect', (3, 3))(torch.zeros(1, 10, 4, 4))
    with pytest.raises(TypeError):
        PSAMask('collect')  # type: ignore[call-arg]
    mask = PSAMask('distribute', [5, 5])
    assert (mask.psa_type, mask.psa_type_enum, mask.mask_size) == ('distribute', 1, [5, 5])
    assert 'psa_type=distribute, mask_size=[5, 5]' in repr(mask)
