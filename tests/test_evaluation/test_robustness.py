"""Occlusion generator, per-region mIoU by hand, and tools/robustness.py end to end."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from segkit.evaluation import RegionStats, occlude, seed_for
from tests.helpers import SAMPLE_CONFIG, run_tool
from tests.test_tools.test_infer import checkpoint  # noqa: F401  (fixture)


@pytest.mark.parametrize('size', [(128, 128), (97, 211), (512, 384)])
@pytest.mark.parametrize('fraction', [0.1, 0.25, 0.5, 0.7])
@pytest.mark.parametrize('fill', ['constant', 'noise', 'mean'])
def test_coverage_within_two_percent(size: tuple[int, int], fraction: float, fill: str) -> None:
    image = np.random.default_rng(0).integers(0, 255, (*size, 3), dtype=np.uint8)
    out, mask = occlude(image, fraction, seed=7, fill=fill)
    assert abs(mask.mean() - fraction) <= 0.02
    assert np.array_equal(out[~mask], image[~mask]), 'only occluded pixels change'
    if fill == 'constant':
        assert (out[mask] == 128).all()
    elif fill == 'mean':
        assert np.abs(out[mask].astype(float) - image.reshape(-1, 3).mean(0)).max() <= 1


def test_deterministic_and_seeded() -> None:
    image = np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    a = occlude(image, 0.3, seed_for(0, 'a.jpg', 30), 'noise')
    b = occlude(image, 0.3, seed_for(0, 'a.jpg', 30), 'noise')
    c = occlude(image, 0.3, seed_for(1, 'a.jpg', 30), 'noise')
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert occlude(image, 0.0, 1)[1].sum() == 0
    with pytest.raises(ValueError, match='fill must be'):
        occlude(image, 0.3, 1, fill='blur')


def test_region_miou_by_hand() -> None:
    label = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [2, 2, 255, 255]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 1, 2],
                     [2, 0, 0, 2]])
    region = np.zeros_like(label, bool)
    region[:, :2] = True  # the left half
    stats = {name: RegionStats(3) for name in ('all', 'left', 'right')}
    stats['all'].update(pred, label, None)
    stats['left'].update(pred, label, region)
    stats['right'].update(pred, label, ~region)
    # all: class 0 I=3 U=5 (label 4 + pred-only (2,1)); class 1 I=3 U=5
    # (label 4 + pred-only (0,1)); class 2 I=1 U=3 (label 2 + pred-only (1,3))
    assert stats['all'].miou() == pytest.approx((3 / 5 + 3 / 5 + 1 / 3) / 3 * 100)
    # left: class 0 I=3 U=5 (label 4 + pred-only (2,1)); class 1 I=0 U=1; class 2 I=1 U=2
    assert stats['left'].miou() == pytest.approx((3 / 5 + 0 + 1 / 2) / 3 * 100)
    # right: class 1 I=3 U=4; class 2 I=0 U=1 (pred-only (1,3)); class 0 absent
    assert stats['right'].miou() == pytest.approx((3 / 4 + 0) / 2 * 100)


@pytest.mark.slow
def test_robustness_tool(checkpoint: Path, sample_root: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / 'rob'
    # the tool reads the dataset from the config: point it at the small sample
    config = tmp_path / 'config.py'
    config.write_text(f"_base_ = '{SAMPLE_CONFIG}'\n"
                      f"test_dataloader = dict(dataset=dict(data_root='{sample_root / 'ade'}'))\n")
    result = run_tool('tools/robustness.py', config, checkpoint, '--out', out,
                      '--severities', '0', '20', '40', '--fill', 'noise', '--max-images', '3')
    assert 'ratio' in result.stdout
    data = json.loads((out / 'robustness.json').read_text())
    assert [r['severity'] for r in data['results']] == [0, 20, 40]
    assert all(abs(r['coverage'] - r['severity']) <= 2 for r in data['results'])
    summary = data['summary']['config']
    assert summary['clean_mIoU'] == data['results'][0]['mIoU']
    rows = list(csv.DictReader((out / 'robustness.csv').open()))
    assert len(rows) == 3 and rows[1]['severity'] == '20.0'
    assert (out / 'robustness.png').read_bytes()[:4] == b'\x89PNG'
    assert '| config | 40 |' in (out / 'robustness.md').read_text()


def _objects_label() -> np.ndarray:
    """Stuff (0, 1), three objects of class 5 and one of class 6, one tiny one."""
    import cv2

    label = np.zeros((160, 220), np.uint8)
    label[80:] = 1
    cv2.circle(label, (50, 60), 30, 5, -1)
    cv2.rectangle(label, (120, 20), (200, 70), 5, -1)
    cv2.fillPoly(label, [np.array([[100, 150], [200, 150], [150, 90]])], 6)
    label[5:8, 5:8] = 5  # 9 pixels: too small to cover to 2 %
    label[150:155, 10:40] = 255
    return label


@pytest.mark.parametrize('fraction', [0.1, 0.3, 0.5])
@pytest.mark.parametrize('fill', ['constant', 'noise'])
def test_object_occlusion_covers_each_object(fraction: float, fill: str) -> None:
    from scipy import ndimage

    from segkit.evaluation import occlude_objects

    label = _objects_label()
    image = np.random.default_rng(0).integers(0, 256, (*label.shape, 3), dtype=np.uint8)
    out, mask = occlude_objects(image, label, fraction, seed=4, fill=fill, classes=[5, 6])
    objects = np.isin(label, [5, 6])
    assert not (mask & ~objects).any()  # nothing outside objects
    assert np.array_equal(out[~mask], image[~mask])
    if fill == 'constant':
        assert (out[mask] == 128).all()
    checked = 0
    for cls in (5, 6):
        components, count = ndimage.label(label == cls, structure=np.ones((3, 3), int))
        for k in range(1, count + 1):
            obj = components == k
            share = (mask & obj).sum() / obj.sum()
            if obj.sum() < 100:
                assert share == 0
            else:
                assert abs(share - fraction) <= 0.02, (cls, k, share)
                checked += 1
    assert checked == 3
    again, mask2 = occlude_objects(image, label, fraction, seed=4, fill=fill, classes=[5, 6])
    assert np.array_equal(again, out) and np.array_equal(mask2, mask)
    every = occlude_objects(image, label, fraction, seed=4, classes=None)[1]
    assert (every & (label == 1)).any()  # without a thing list every class is objects
