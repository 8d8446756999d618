"""RGB colour masks as class indices, through a colour table.

:func:`colors_to_labels` is the mapping (each pixel's colour looked up in the
table; colours of ``ignore`` entries give the ignore index);
:class:`LoadColorAnnotations` is mmseg's ``LoadAnnotations`` for colour masks,
placed in a pipeline where ``LoadAnnotations`` would be::

    dict(type='LoadColorAnnotations', colors=[[0, 0, 0], [255, 0, 0], [0, 255, 0]])
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from segkit.errors import BadSampleError, ConfigError

__all__ = ['LoadColorAnnotations', 'color_codes', 'colors_to_labels', 'format_color']


def color_codes(rgb: np.ndarray) -> np.ndarray:
    """One int per pixel (or per colour row), ``r << 16 | g << 8 | b``, of an
    ``(..., 3)`` array of RGB values."""
    rgb = np.asarray(rgb, dtype=np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def format_color(code: int) -> str:
    """A colour code as ``(r, g, b)``."""
    return f'({code >> 16}, {(code >> 8) & 255}, {code & 255})'


def colors_to_labels(rgb: np.ndarray, colors: Sequence[Sequence[int]],
                     ignore_colors: Sequence[Sequence[int]] = (),
                     ignore_index: int = 255) -> tuple[np.ndarray, np.ndarray]:
    """Maps an ``(H, W, 3)`` RGB mask to class indices.

    Args:
        rgb: The mask, RGB channel order.
        colors: The colour of class ``i`` at ``colors[i]``.
        ignore_colors: Colours that are no class (void): they get ``ignore_index``.
        ignore_index: The label of ignored pixels, and of colours not in the table.

    Returns:
        ``(labels, unknown)``: the ``(H, W)`` uint8 label map, and the codes
        (:func:`color_codes`) of the colours found that are not in the table.
    """
    if len(colors) >= min(ignore_index, 256):
        raise ConfigError(f'{len(colors)} colour classes do not fit below the ignore index '
                          f'{ignore_index} in an 8-bit label map')
    table = color_codes(np.asarray([*colors, *ignore_colors]).reshape(-1, 3))
    labels = np.array([*range(len(colors)), *[ignore_index] * len(ignore_colors)])
    order = np.argsort(table)
    table, labels = table[order], labels[order]
    codes = color_codes(rgb)
    where = np.searchsorted(table, codes).clip(max=len(table) - 1)
    known = table[where] == codes
    mapped = np.where(known, labels[where], ignore_index).astype(np.uint8)
    return mapped, np.unique(codes[~known])


@TRANSFORMS.register_module()
class LoadColorAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` for RGB colour masks: each colour becomes
    its class index through the table; then ``reduce_zero_label`` and a
    dataset's ``label_map`` apply as in ``LoadAnnotations``.

    Args:
        colors: The colour of class ``i`` at ``colors[i]`` (the dataset's palette).
        ignore_colors: Colours that are no class (void, unlabelled).
        ignore_index: Their label.
        kwargs: ``LoadAnnotations``'s (``backend_args``, ``imdecode_backend``).

    Raises:
        BadSampleError: a mask with a colour that is not in the table (named
            with its file), rather than training on guessed labels.
    """

    def __init__(self, colors: Sequence[Sequence[int]],
                 ignore_colors: Sequence[Sequence[int]] = (), ignore_index: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.colors = [list(c) for c in colors]
        self.ignore_colors = [list(c) for c in ignore_colors]
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        import mmcv
        from mmengine import fileio

        path = results['seg_map_path']
        rgb = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args), flag='color',
                               channel_order='rgb', backend=self.imdecode_backend)
        label, unknown = colors_to_labels(rgb, self.colors, self.ignore_colors,
                                          self.ignore_index)
        if unknown.size:
            shown = ', '.join(format_color(int(c)) for c in unknown[:5])
            raise BadSampleError(f'{path}: colours not in the class table: {shown}'
                                 f'{" ..." if unknown.size > 5 else ""}')
        # as LoadAnnotations (mmseg 1.2.2), on the indices
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        if self.reduce_zero_label:
            label[label == 0] = 255
            label = label - 1
            label[label == 254] = 255
        if results.get('label_map') is not None:
            original = label.copy()
            for old_id, new_id in results['label_map'].items():
                label[original == old_id] = new_id
        results['gt_seg_map'] = label
        results['seg_fields'].append('gt_seg_map')

    def __repr__(self) -> str:
        return f'{type(self).__name__}(colors={len(self.colors)} classes)'
