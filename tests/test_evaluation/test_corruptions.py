"""Common corruptions: every name on any image, deterministic per seed, and the
three repaired ones equal to the imagecorruptions package's own definitions
(run here with its two API renames shimmed for the test only)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from segkit.evaluation.corruptions import (BENCHMARK, CORRUPTIONS, _package, corrupt,
                                           corruption_names)

# the corruptions that draw random numbers (the others ignore the seed)
RANDOM = {'gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise', 'glass_blur',
          'motion_blur', 'snow', 'frost', 'fog', 'spatter', 'elastic_transform'}


def _image(h: int, w: int, channels: int | None = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    smooth = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    import cv2

    base = cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR)
    noise = rng.integers(-20, 21, (h, w, 3))
    rgb = np.clip(base + noise, 0, 255).astype(np.uint8)
    if channels is None:
        return rgb[..., 0].reshape(shape)
    return rgb[..., :channels].reshape(shape)


def test_the_sets() -> None:
    assert len(CORRUPTIONS) == 19 and len(set(CORRUPTIONS)) == 19
    assert len(BENCHMARK) == 16 and set(BENCHMARK) <= set(CORRUPTIONS)
    assert set(CORRUPTIONS) - set(BENCHMARK) == {'zoom_blur', 'elastic_transform', 'pixelate'}
    assert corruption_names(['fog', 'benchmark'])[:2] == ['fog', 'gaussian_noise']
    assert corruption_names(['all']) == list(CORRUPTIONS)


@pytest.mark.parametrize('name', CORRUPTIONS)
def test_every_corruption_on_rgb_gray_and_odd_sizes(name: str) -> None:
    for shape in ((37, 53, 3), (64, 48, None), (33, 40, 1)):
        image = _image(shape[0], shape[1], shape[2])
        out = corrupt(image, name, 3, seed=5)
        assert out.dtype == np.uint8 and out.shape == image.shape, (shape, out.shape)
    rgb = _image(40, 56)
    first = corrupt(rgb, name, 2, seed=11)
    assert np.array_equal(first, corrupt(rgb, name, 2, seed=11))
    assert not np.array_equal(first, rgb) or name in ('jpeg_compression',)
    if name in RANDOM:
        assert not np.array_equal(first, corrupt(rgb, name, 2, seed=12))


def test_the_global_random_state_is_left_alone() -> None:
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    corrupt(_image(48, 48), 'gaussian_noise', 1, seed=7)
    assert np.random.rand() == expected


@pytest.fixture
def package_as_defined(monkeypatch):
    """The package's functions, with scikit-image's renamed keyword and numpy's
    removed alias put back for this test only."""
    from skimage.filters import gaussian

    module = _package()

    def old_gaussian(image, sigma=1, multichannel=None, **kwargs):
        if multichannel:
            kwargs['channel_axis'] = -1
        return gaussian(image, sigma=sigma, **kwargs)

    monkeypatch.setattr(module, 'gaussian', old_gaussian)
    monkeypatch.setattr(np, 'float_', np.float64, raising=False)
    return module


@pytest.mark.parametrize('name', ['gaussian_blur', 'glass_blur', 'fog'])
@pytest.mark.parametrize('severity', [1, 2, 3, 4, 5])
def test_repaired_corruptions_equal_the_package(package_as_defined, name: str,
                                                severity: int) -> None:
    from PIL import Image

    image = _image(45, 70, seed=severity)
    np.random.seed(31)
    expected = np.uint8(getattr(package_as_defined, name)(Image.fromarray(image), severity))
    assert np.array_equal(corrupt(image, name, severity, seed=31), expected)


def test_impulse_noise_is_salt_and_pepper_of_the_requested_amount() -> None:
    """(The package's own impulse noise is unseeded on scikit-image >= 0.19.)"""
    image = np.full((200, 300, 3), 100, np.uint8)
    for severity, amount in zip(range(1, 6), (0.03, 0.06, 0.09, 0.17, 0.27)):
        out = corrupt(image, 'impulse_noise', severity, seed=3)
        changed = out != 100
        assert set(np.unique(out[changed])) <= {0, 254, 255}
        assert abs(changed.mean() - amount) < 0.01


def test_the_others_are_the_package_itself() -> None:
    from PIL import Image

    image = _image(40, 50)
    for name in ('gaussian_noise', 'frost', 'saturate'):
        np.random.seed(9)
        expected = np.uint8(getattr(_package(), name)(Image.fromarray(image), 4))
        assert np.array_equal(corrupt(image, name, 4, seed=9), expected)


def test_bad_input_is_one_clear_error() -> None:
    image = _image(40, 40)
    with pytest.raises(ValueError, match="unknown corruption 'rain': choose 'all', 'benchmark' "
                                         'or names from gaussian_noise, shot_noise'):
        corrupt(image, 'rain', 1)
    with pytest.raises(ValueError, match='corruption severities are integers from 1 to 5, '
                                         'got 6$'):
        corrupt(image, 'fog', 6)
    with pytest.raises(ValueError, match='at least 32 x 32'):
        corrupt(image[:20], 'fog', 1)
    with pytest.raises(ValueError, match='image must be uint8'):
        corrupt(image.astype(np.float32), 'fog', 1)


def test_severities_are_checked_in_one_place() -> None:
    """Integers 1 to 5 (integral floats from a command line count); anything
    else is one error naming every bad value, whoever asks."""
    from segkit.evaluation.corruption_benchmark import evaluate_corruptions
    from segkit.evaluation.corruptions import SEVERITIES, check_severities

    assert check_severities(SEVERITIES) == [1, 2, 3, 4, 5]
    assert check_severities([3.0, np.int64(5)]) == [3, 5]
    assert all(type(s) is int for s in check_severities([3.0, np.int64(5)]))
    for bad, shown in [([0, 2], '0'), ([2.5, 6], '2.5, 6'), ([True], 'True'), (['3'], "'3'"),
                       ([None], 'None')]:
        with pytest.raises(ValueError, match=f'^corruption severities are integers from 1 to 5, '
                                             f'got {re.escape(shown)}$'):
            check_severities(bad)
    # the library entry points ask before any work (no model needed to refuse)
    with pytest.raises(ValueError, match='got 6$'):
        evaluate_corruptions(None, ['fog'], [1, 6])
    assert corrupt(_image(40, 40), 'fog', 2.0, seed=1).shape == (40, 40, 3)
