"""What is in one mask file: its format, its label values and where they lie.

The format as mmseg's ``LoadAnnotations`` (pillow, ``flag='unchanged'``) would
read it:

- ``'indices'``: one channel of class indices (PIL modes ``L``, ``1``, ``I;16``, ``I``);
- ``'palette'``: a palette PNG (mode ``P``): pillow returns the indices, so
  the palette's colours are only for display;
- ``'rgb'``: RGB(A) colour masks, whose colours must be mapped through a
  colour table (:mod:`segkit.datasets.color_mask`);
- ``'gray-rgb'``: three equal channels (indices saved as RGB), which mmseg
  would read as three channels;
- ``'unsupported'``: anything else (grey + alpha, CMYK, float).

Beside the pixels per value, each value's pixels on thin structures (within
:data:`RADIUS` pixels of another value on both sides: outlines such as
VOC's 255 borders) and along the image's edges are counted, to tell an
ignore label from a class.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ['MaskInfo', 'RADIUS', 'image_size', 'read_mask']

RADIUS = 2
INDEX_MODES = ('L', '1', 'I;16', 'I;16L', 'I;16B', 'I')


@dataclass
class MaskInfo:
    """One mask file.

    Attributes:
        format: See the module docstring.
        mode: The PIL mode.
        size: ``(width, height)``.
        pixels: Label value (colour code for ``'rgb'``: ``r << 16 | g << 8 |
            b``) -> number of pixels.
        thin: Value -> pixels of it whose window of radius :data:`RADIUS`
            holds other values (outlines, and the rim of regions).
        edge: Value -> pixels of it within :data:`RADIUS` pixels of the image edge.
        palette: A palette PNG's colours (``[r, g, b]`` per index), else None.
        mapped: The values are class indices mapped from colours (an RGB mask
            read with a colour table).
        unknown_colors: Colour code -> pixels, of the colours of an RGB mask
            that are not in the table.
    """

    format: str
    mode: str
    size: tuple[int, int]
    pixels: Counter = field(default_factory=Counter)
    thin: Counter = field(default_factory=Counter)
    edge: Counter = field(default_factory=Counter)
    palette: list[list[int]] | None = None
    mapped: bool = False
    unknown_colors: Counter = field(default_factory=Counter)


def _counts(values: np.ndarray) -> Counter:
    values = values.ravel()
    if values.size and values.dtype.kind in 'iu' and 0 <= values.min() and \
            values.max() < 1 << 17:
        # NOTE: bincount is 10-40x faster than unique for label maps
        counts = np.bincount(values)
        found = np.flatnonzero(counts)
        return Counter(dict(zip(found.tolist(), counts[found].tolist())))
    found, counts = np.unique(values, return_counts=True)
    return Counter(dict(zip(found.tolist(), counts.tolist())))


def _window(a: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """``reduce`` (np.minimum / np.maximum) over each pixel's square window of
    radius :data:`RADIUS` (edges replicated)."""
    h, w = a.shape
    padded = np.pad(a, RADIUS, mode='edge')
    k = 2 * RADIUS + 1
    rows = reduce.reduce([padded[:, i:i + w] for i in range(k)])
    return reduce.reduce([rows[i:i + h] for i in range(k)])


def label_stats(label: np.ndarray, outlines: bool = True) -> tuple[Counter, Counter, Counter]:
    """Pixels, thin pixels and edge pixels per value of a 2-D label map
    (without ``outlines``, the pixels only)."""
    if not outlines:
        return _counts(label), Counter(), Counter()
    thin = _window(label, np.minimum) != _window(label, np.maximum)
    edge = np.zeros(label.shape, bool)
    edge[:RADIUS], edge[-RADIUS:], edge[:, :RADIUS], edge[:, -RADIUS:] = True, True, True, True
    return _counts(label), _counts(label[thin]), _counts(label[edge])


def read_mask(path: str | os.PathLike, colors: Sequence[Sequence[int]] | None = None,
              ignore_colors: Sequence[Sequence[int]] = (), ignore_index: int = 255,
              outlines: bool = True) -> MaskInfo:
    """Reads a mask file whole.

    Args:
        colors: A colour table (class ``i`` has ``colors[i]``): RGB masks are
            mapped through it to class indices, as ``LoadColorAnnotations`` does.
        ignore_colors: The table's colours of no class.
        ignore_index: Their label, and that of colours not in the table.
        outlines: Count each value's thin and edge pixels too (for hints).

    Raises:
        OSError: the file cannot be read or decoded (also a truncated one).
    """
    from PIL import Image

    from .color_mask import color_codes, colors_to_labels

    with Image.open(path) as img:
        img.load()
        mode, size = img.mode, img.size
        array = np.array(img)
        palette = img.getpalette() if mode == 'P' else None
    info = MaskInfo('unsupported', mode, size)
    if mode == 'P':
        info.format = 'palette'
        info.palette = [palette[i:i + 3] for i in range(0, len(palette or []), 3)]
    elif mode in INDEX_MODES:
        info.format = 'indices'
        array = array.astype(np.int64)
    elif mode in ('RGB', 'RGBA'):
        rgb = array[..., :3]
        gray = bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())
        info.format = 'gray-rgb' if gray else 'rgb'
        if colors is not None:
            array, unknown = colors_to_labels(rgb, colors, ignore_colors, ignore_index)
            codes = color_codes(rgb)
            info.mapped = True
            if unknown.size:
                info.unknown_colors = Counter(
                    {int(c): int((codes == c).sum()) for c in unknown[:20]})
        else:
            array = rgb[..., 0].astype(np.int64) if gray else color_codes(rgb)
    if info.format != 'unsupported':
        info.pixels, info.thin, info.edge = label_stats(array, outlines)
    return info


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image as mmseg's ``LoadImageFromFile`` gets
    it (after its EXIF rotation), decoding the whole file so that a truncated
    one is caught (JPEGs in draft mode: every byte read, little computed).

    Raises:
        OSError: the file cannot be read or decoded.
    """
    from PIL import Image

    with Image.open(path) as img:
        w, h = img.size
        orientation = img.getexif().get(0x0112, 1)
        if img.format == 'JPEG':
            img.draft(img.mode, (max(1, w // 8), max(1, h // 8)))
        img.load()
    # NOTE: orientations 5-8 turn the image a quarter: OpenCV (mmseg's
    # decoder) applies the EXIF rotation, so the mask must fit the turned size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
