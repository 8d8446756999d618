"""The receptive-field tool recovers known receptive fields of hand-built
networks, and runs end to end on sample models."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from segkit.evaluation import gradient_map, mass_radius, occlusion_map
from segkit.ops import ShapedConv2d, kernel_footprint
from tests.helpers import SAMPLE_CONFIG, run_tool_in_process


def _constant_stack(n: int) -> torch.nn.Module:
    """n 3x3 convs, all weights 1, no bias: the receptive field is exactly (2n+1)^2."""
    layers = [torch.nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(n)]
    for layer in layers:
        torch.nn.init.ones_(layer.weight)
    return torch.nn.Sequential(*layers).double()


def _support(grad: torch.Tensor) -> torch.Tensor:
    rows, cols = (grad != 0).any(1).nonzero(), (grad != 0).any(0).nonzero()
    return grad[rows.min():rows.max() + 1, cols.min():cols.max() + 1] != 0


@pytest.mark.parametrize('n', [1, 2, 3])
def test_a_stack_of_n_3x3_convs_sees_2n_plus_1(n: int) -> None:
    x = torch.rand(1, 1, 21, 21, dtype=torch.float64) + 0.5
    grad, centre = gradient_map(_constant_stack(n), x)
    assert centre == (10.0, 10.0)
    support = _support(grad)
    assert support.shape == (2 * n + 1, 2 * n + 1) and support.all()
    assert (grad != 0).nonzero().float().mean(0).tolist() == [10.0, 10.0]
    # a linear net on a positive image: covering one pixel drops the score by
    # its share, so the occlusion map has the same support
    drop = occlusion_map(_constant_stack(n), x, patch=1, stride=1)
    assert torch.equal(drop > 1e-12, grad != 0)


@pytest.mark.parametrize('shape', ['qh-right', 'qh-left', 'qh-up', 'qh-down', 'qh-mixed'])
def test_one_shaped_conv_sees_its_footprint(shape: str) -> None:
    conv = ShapedConv2d(1, 4, 3, shape, padding=1, bias=False).double()
    torch.nn.init.ones_(conv.weight)
    x = torch.rand(1, 1, 9, 9, dtype=torch.float64) + 0.5
    for channel in range(4):
        grad, _ = gradient_map(lambda t, c=channel: conv(t)[:, c:c + 1], x)
        assert torch.equal(_support(grad), conv.footprint[channel])
    if shape != 'qh-mixed':
        assert torch.equal(_support(grad), kernel_footprint(shape, 3))


def test_mass_radius_by_hand() -> None:
    weights = torch.zeros(11, 11)
    weights[5, 5] = 1.0
    weights[5, 8] = 1.0   # distance 3
    weights[1, 5] = 2.0   # distance 4
    assert mass_radius(weights, (5.0, 5.0), (0.25, 0.5, 0.75, 1.0)) == [0.0, 3.0, 4.0, 4.0]
    assert mass_radius(weights, (5.0, 5.0), (0.2, 0.4, 0.5)) == [0.0, 3.0, 3.0]
    weights[5, 8] = 0.0
    weights[5, 5] = 2.0
    assert mass_radius(weights, (5.0, 5.0), (0.5, 0.51)) == [0.0, 4.0]
    assert math.isclose(mass_radius(weights, (5.0, 8.0), (0.5,))[0], 3.0)


@pytest.mark.slow
def test_tool_end_to_end_on_two_sample_models(sample_root: Path, tmp_path: Path) -> None:
    """Random-weight checkpoints of two sample models (plain ResNet and
    InternImage): the tool writes the table, the JSON and one picture."""
    import segkit.mmseg  # noqa: F401
    from segkit.apis.inference import load_segmentor

    pairs = []
    for name in ('fcn_r18_sample-128x128', 'upernet_internimage-c16_sample-128x128'):
        config = SAMPLE_CONFIG.parent / f'{name}.py'
        checkpoint = tmp_path / f'{name}.pth'
        torch.save({'state_dict': load_segmentor(config).state_dict()}, checkpoint)
        pairs += [config, checkpoint]
    out = tmp_path / 'rf'
    result = run_tool_in_process('tools/receptive_field.py', *pairs, '--images',
                                 sample_root / 'ade' / 'images' / 'validation', '--max-images', '2',
                                 '--out', out)
    assert 'ERF radius 50 %' in result.stdout
    summary = json.loads((out / 'receptive_field.json').read_text())
    assert set(summary) == {'fcn_r18_sample-128x128', 'upernet_internimage-c16_sample-128x128'}
    for figures in summary.values():
        assert 0 < figures['r50'] <= figures['r95'] and figures['images'] == 2
    assert (out / 'receptive_field.png').read_bytes()[:4] == b'\x89PNG'
