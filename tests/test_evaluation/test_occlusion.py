"""The occlusion generator: coverage, seeds, fills, objects."""
from __future__ import annotations

import numpy as np
import pytest

from segkit.evaluation import occlude, seed_for


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
