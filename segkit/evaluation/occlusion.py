"""Random rectangular occluders with a requested coverage, drawn by albumentations.

Occluders are albumentations ``CoarseDropout`` holes (one hole at a time,
about 1% of the image each) added until the requested fraction of the image
is covered: the coverage ends within half a hole of the request, whatever
the overlaps. Everything is deterministic given the seed.
"""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ['occlude', 'FILL_MODES', 'seed_for']

FILL_MODES = ('constant', 'noise', 'mean')


def seed_for(*parts: object) -> int:
    """A stable 31-bit seed from any parts (file names, severities...)."""
    return zlib.crc32('|'.join(map(str, parts)).encode()) & 0x7FFFFFFF


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

    if not 0.0 <= fraction < 1.0:
        raise ValueError(f'fraction must be in [0, 1), got {fraction}')
    if fill not in FILL_MODES:
        raise ValueError(f'fill must be one of {FILL_MODES}, got {fill!r}')
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
