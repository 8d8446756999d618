"""Common corruptions: ImageNet-C's 15 and its 4 extra ones, as the field's
``imagecorruptions`` package defines them.

Hendrycks, Dietterich, "Benchmarking Neural Network Robustness to Common
Corruptions and Perturbations", ICLR 2019; for segmentation Kamann, Rother,
"Benchmarking the Robustness of Semantic Segmentation Models", CVPR 2020 /
IJCV 2021, whose Cityscapes-C uses the 16 corruptions of :data:`BENCHMARK`.
Definitions: the ``imagecorruptions`` package 1.1.2 (Michaelis et al.,
bethgelab).

Fifteen corruptions call the package's own functions. Three fail on today's
stack (scikit-image 0.26 dropped ``multichannel``, numpy 2 dropped
``np.float_``): ``gaussian_blur``, ``glass_blur`` and ``fog`` are
implemented here from the same definitions, with the same random draws, so
they give what the package gives where it runs (tested against it). A fourth,
``impulse_noise``, runs but is not reproducible there: scikit-image >= 0.19
draws its salt and pepper from a fresh unseeded generator; here the same
scikit-image function gets a seed from the seeded global state. Nothing is
patched in numpy or scikit-image.

Every corruption draws from numpy's global random state, as the package
does; :func:`corrupt` seeds it for the call and restores it afterwards, so a
result depends only on (image, name, severity, seed).
"""
from __future__ import annotations

import contextlib
import numbers
import warnings
from types import ModuleType
from typing import Iterable, Iterator, Sequence

import numpy as np

from segkit.utils.optional import require

__all__ = ['BENCHMARK', 'CATEGORIES', 'CORRUPTIONS', 'SEVERITIES', 'check_severities', 'corrupt',
           'corruption_names']

CATEGORIES = {
    'noise': ('gaussian_noise', 'shot_noise', 'impulse_noise'),
    'blur': ('defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur'),
    'weather': ('snow', 'frost', 'fog', 'brightness'),
    'digital': ('contrast', 'elastic_transform', 'pixelate', 'jpeg_compression'),
    'extra': ('speckle_noise', 'gaussian_blur', 'spatter', 'saturate'),
}
CORRUPTIONS = tuple(name for names in CATEGORIES.values() for name in names)
# Cityscapes-C (Kamann & Rother): noise, blur, digital and weather, 4 each
BENCHMARK = ('gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise',
             'defocus_blur', 'glass_blur', 'motion_blur', 'gaussian_blur',
             'brightness', 'contrast', 'saturate', 'jpeg_compression',
             'snow', 'spatter', 'fog', 'frost')
SEVERITIES = (1, 2, 3, 4, 5)


def corruption_names(spec: Sequence[str]) -> list[str]:
    """Expands ``'all'`` (19), ``'benchmark'`` (16) and names, in order.

    Raises:
        ValueError: an unknown name, naming the valid choices.
    """
    names: list[str] = []
    for item in spec:
        group = {'all': CORRUPTIONS, 'benchmark': BENCHMARK}.get(item, (item,))
        for name in group:
            if name not in CORRUPTIONS:
                raise ValueError(f"unknown corruption {name!r}: choose 'all', 'benchmark' or "
                                 f"names from {', '.join(CORRUPTIONS)}")
            if name not in names:
                names.append(name)
    return names


def check_severities(severities: Iterable[float]) -> list[int]:
    """``severities`` as ints, each one of :data:`SEVERITIES` (a float with an
    integer value, as a command line gives it, counts).

    Raises:
        ValueError: a severity is not an integer from 1 to 5, naming those.
    """
    severities = list(severities)
    bad = [s for s in severities if isinstance(s, bool) or not isinstance(s, numbers.Real)
           or s not in SEVERITIES]
    if bad:
        raise ValueError(f'corruption severities are integers from 1 to 5, got '
                         f'{", ".join(map(repr, bad))}')
    return [int(s) for s in severities]


def _package() -> ModuleType:
    with warnings.catch_warnings():  # pkg_resources and scipy deprecations at import
        warnings.simplefilter('ignore')
        return require('imagecorruptions.corruptions', 'robustness')


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """scikit-image's Gaussian over the two image axes of (H, W, C) floats
    (the package's ``gaussian(..., multichannel=True)``)."""
    from skimage.filters import gaussian

    return gaussian(x, sigma=sigma, channel_axis=-1)


def _gaussian_blur(image: np.ndarray, severity: int) -> np.ndarray:
    sigma = (1, 2, 3, 4, 6)[severity - 1]
    return np.clip(_gaussian(image / 255.0, sigma), 0, 1) * 255


def _glass_blur(image: np.ndarray, severity: int) -> np.ndarray:
    sigma, delta, iterations = ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2),
                                (1.5, 4, 2))[severity - 1]
    x = np.uint8(_gaussian(image / 255.0, sigma) * 255)
    h, w = x.shape[:2]
    rows = np.arange(h - delta, delta, -1)
    cols = np.arange(w - delta, delta, -1)
    for _ in range(iterations):
        # one (dx, dy) draw per pixel, bottom-right to top-left, as the package
        moves = np.random.randint(-delta, delta, size=(len(rows) * len(cols), 2))
        k = 0
        for r in rows.tolist():
            for c in cols.tolist():
                dx, dy = moves[k]
                k += 1
                # NOTE: the package "swaps" two numpy views with a tuple
                # assignment, which copies the displaced pixel onto this one
                # and leaves the displaced one as it was; that is the
                # definition its published numbers use, so it is kept
                x[r, c] = x[r + dy, c + dx]
    return np.clip(_gaussian(x / 255.0, sigma), 0, 1) * 255


def _plasma_fractal(size: int, decay: float) -> np.ndarray:
    """Diamond-square height map in [0, 1], ``size`` a power of two; random
    draws in the package's order (squares, then the two diamond sets, per
    scale)."""
    grid = np.empty((size, size), dtype=np.float64)
    grid[0, 0] = 0
    step, wibble = size, 100.0

    def noisy_mean(total: np.ndarray) -> np.ndarray:
        return total / 4 + wibble * np.random.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = grid[0:size:step, 0:size:step]
        squares = corners + np.roll(corners, -1, axis=0)
        squares = squares + np.roll(squares, -1, axis=1)
        grid[half:size:step, half:size:step] = noisy_mean(squares)
        centres = grid[half:size:step, half:size:step]
        corners = grid[0:size:step, 0:size:step]
        grid[0:size:step, half:size:step] = noisy_mean(
            centres + np.roll(centres, 1, axis=0) + corners + np.roll(corners, -1, axis=1))
        grid[half:size:step, 0:size:step] = noisy_mean(
            centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=0))
        step //= 2
        wibble /= decay
    grid -= grid.min()
    return grid / grid.max()


def _fog(image: np.ndarray, severity: int) -> np.ndarray:
    strength, decay = ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4))[severity - 1]
    h, w = image.shape[:2]
    size = 1 << (max(image.shape) - 1).bit_length()  # the next power of two
    x = image / 255.0
    peak = x.max()
    x = x + strength * _plasma_fractal(size, decay)[:h, :w][..., None]
    return np.clip(x * peak / (peak + strength), 0, 1) * 255


def _impulse_noise(image: np.ndarray, severity: int) -> np.ndarray:
    from skimage.util import random_noise

    amount = (0.03, 0.06, 0.09, 0.17, 0.27)[severity - 1]
    # NOTE: scikit-image >= 0.19 draws salt and pepper from its own generator,
    # unseeded unless given one; the seed comes from the (seeded) global state
    rng = np.random.randint(2 ** 31)
    return np.clip(random_noise(image / 255.0, mode='s&p', amount=amount, rng=rng), 0, 1) * 255


_REPAIRED = {'gaussian_blur': _gaussian_blur, 'glass_blur': _glass_blur, 'fog': _fog,
             'impulse_noise': _impulse_noise}


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    state = np.random.get_state()
    np.random.seed(seed & 0xFFFFFFFF)
    try:
        yield
    finally:
        np.random.set_state(state)


def corrupt(image: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """``image`` corrupted by ``name`` at ``severity``, deterministically.

    Args:
        image: uint8 RGB (H, W, 3), (H, W, 1) or gray (H, W); at least 32 x 32
            pixels (the package's bound). Gray images are corrupted as three
            equal channels and returned as gray (ITU-R 601 luma).
        name: One of :data:`CORRUPTIONS`.
        severity: 1 to 5.
        seed: Seed of every random draw.

    Returns:
        uint8, the shape of ``image``.

    Example:
        >>> img = np.full((64, 80, 3), 128, np.uint8)
        >>> corrupt(img, 'fog', 3).shape
        (64, 80, 3)
    """
    if name not in CORRUPTIONS:
        corruption_names([name])  # raises with the valid choices
    (severity,) = check_severities([severity])
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError('image must be uint8 (H, W), (H, W, 1) or (H, W, 3), got '
                         f'{image.dtype} {image.shape}')
    if min(image.shape[:2]) < 32:
        raise ValueError(f'corruptions need images of at least 32 x 32 pixels, got '
                         f'{image.shape[1]} x {image.shape[0]}')
    rgb = image if image.ndim == 3 and image.shape[2] == 3 else np.repeat(
        image.reshape(*image.shape[:2], 1), 3, axis=2)
    with _seeded(seed):
        if name in _REPAIRED:
            out = _REPAIRED[name](np.asarray(rgb), severity)
        else:
            from PIL import Image

            out = getattr(_package(), name)(Image.fromarray(rgb), severity)
    out = np.uint8(out)  # NOTE: truncation, as the package's corrupt()
    if image.ndim == 3 and image.shape[2] == 3:
        return out
    from PIL import Image

    gray = np.asarray(Image.fromarray(out).convert('L'))
    return gray if image.ndim == 2 else gray[..., None]
