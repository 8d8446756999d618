"""Occluders with a requested coverage: random rectangles anywhere (drawn by
albumentations), or rectangles on the objects (:func:`occlude_objects`).

Occluders are albumentations ``CoarseDropout`` holes (one hole at a time,
about 1% of the image each) added until the requested fraction of the image
is covered: the coverage ends within half a hole of the request, whatever
the overlaps. Everything is deterministic given the seed.
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

__all__ = ['FILL_MODES', 'occlude', 'occlude_objects', 'seed_for']

FILL_MODES = ('constant', 'noise', 'mean')


def seed_for(*parts: object) -> int:
    """A stable 31-bit seed from any parts (file names, severities...)."""
    return zlib.crc32('|'.join(map(str, parts)).encode()) & 0x7FFFFFFF


def _check(fraction: float, fill: str) -> None:
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f'fraction must be in [0, 1), got {fraction}')
    if fill not in FILL_MODES:
        raise ValueError(f'fill must be one of {FILL_MODES}, got {fill!r}')


def occlude(image: np.ndarray, fraction: float, seed: int, fill: str = 'constant',
            hole_fraction: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Covers ``fraction`` of ``image`` (H, W, C uint8) with random rectangles.

    Args:
        image: The image; not modified.
        fraction: Area to cover, 0..1.
        seed: Seed of the occluders' positions, sizes and noise.
        fill: ``'constant'`` (mid grey), ``'noise'`` (uniform random pixels) or
            ``'mean'`` (the image's mean colour).
        hole_fraction: Typical area of one hole (sets the coverage accuracy).

    Returns:
        (occluded image, boolean mask of the occluded pixels).
    """
    import albumentations as A

    _check(fraction, fill)
    h, w = image.shape[:2]
    covered = np.zeros((h, w), np.uint8)
    out = image.copy()
    if fraction == 0 or h * w == 0:
        return out, covered.astype(bool)
    side = max(1, int(round(np.sqrt(hole_fraction * h * w))))
    fill_value: object = {'constant': 128, 'noise': 'random_uniform'}.get(fill)
    if fill == 'mean':
        fill_value = tuple(float(v) for v in image.reshape(-1, image.shape[-1]).mean(0))
    hole = A.CoarseDropout(num_holes_range=(1, 1),
                           hole_height_range=(max(1, side // 2), min(h, side * 3 // 2)),
                           hole_width_range=(max(1, side // 2), min(w, side * 3 // 2)),
                           fill=fill_value, fill_mask=1, p=1.0)
    pipeline = A.Compose([hole], seed=seed)
    target = fraction * h * w
    tolerance = 0.5 * side * side
    for _ in range(100_000):
        if covered.sum() >= target - tolerance:
            break
        result = pipeline(image=out, mask=covered)
        out, covered = result['image'], result['mask']
    return out, covered.astype(bool)


def _fill_values(image: np.ndarray, fill: str, rng: np.random.Generator,
                 count: int) -> np.ndarray:
    """``count`` pixel values for the fill modes of :func:`occlude`."""
    channels = image.shape[-1] if image.ndim == 3 else 1
    if fill == 'noise':
        return rng.integers(0, 256, (count, channels), dtype=np.uint8)
    if fill == 'mean':
        mean = image.reshape(-1, channels).mean(0).round().astype(np.uint8)
        return np.broadcast_to(mean, (count, channels))
    return np.full((count, channels), 128, np.uint8)


def occlude_objects(image: np.ndarray, label: np.ndarray, fraction: float, seed: int,
                    fill: str = 'constant', classes: Sequence[int] | None = None,
                    ignore_index: int = 255, min_pixels: int = 100
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Covers ``fraction`` of each object's pixels with rectangles on the object.

    Objects are the connected components (8-connected) of each class in
    ``classes`` ("things"; None: every class but ``ignore_index``). On each
    object, rectangles centred on its still visible pixels and clipped to
    it are added, the last one shrunk as needed, until the covered share of
    its pixels is within 1 % (or one pixel) of ``fraction``; nothing outside
    objects is covered. Objects of fewer than ``min_pixels`` pixels are left
    alone (one pixel would be more than 1 % of them).

    Returns:
        (occluded image, boolean mask of the occluded pixels).
    """
    from scipy import ndimage

    _check(fraction, fill)
    rng = np.random.default_rng(seed)
    mask = np.zeros(label.shape, bool)
    present = np.unique(label)
    wanted = present if classes is None else np.intersect1d(present, list(classes))
    for cls in wanted:
        if cls == ignore_index or fraction == 0:
            continue
        components, count = ndimage.label(label == cls, structure=np.ones((3, 3), int))
        for box_index, box in enumerate(ndimage.find_objects(components), start=1):
            obj = components[box] == box_index
            area = int(obj.sum())
            if area < min_pixels:
                continue
            covered = np.zeros_like(obj)
            target, tolerance = fraction * area, max(0.01 * area, 1.0)
            while covered.sum() < target - tolerance:
                ys, xs = np.nonzero(obj & ~covered)
                pick = rng.integers(len(ys))
                side = max(1, int(np.sqrt(target - covered.sum())))
                aspect = rng.uniform(0.5, 2.0)
                while True:
                    hh = max(1, int(round(side * np.sqrt(aspect))))
                    ww = max(1, int(round(side / np.sqrt(aspect))))
                    rect = np.zeros_like(obj)
                    rect[max(0, ys[pick] - hh // 2):ys[pick] - hh // 2 + hh,
                         max(0, xs[pick] - ww // 2):xs[pick] - ww // 2 + ww] = True
                    new = rect & obj & ~covered
                    if covered.sum() + new.sum() <= target + tolerance or side == 1:
                        break
                    side = max(1, side // 2)
                covered |= new
            mask[box] |= covered
    out = image.copy()
    out[mask] = _fill_values(image, fill, rng, int(mask.sum())).reshape(
        (-1,) + image.shape[2:])
    return out, mask
