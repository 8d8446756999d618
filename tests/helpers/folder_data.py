"""Small folder datasets made on the spot (images + masks), in each mask format.

``make_folder_data(root, 'palette', splits=True)`` writes 32x32 images whose
masks hold a few rectangles of classes 0..2 (and a 255 outline in one), and
returns the label maps it wrote, so a test counts pixels with numpy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ('background', 'scratch', 'dent')
COLORS = ((0, 0, 0), (220, 20, 60), (0, 128, 255))
SIZE = 32
MISTAKES = ['missing mask', 'size mismatch', 'value above classes', 'rgb without table',
            'unreadable file']


def _label(rng: np.random.Generator, index: int) -> np.ndarray:
    label = np.zeros((SIZE, SIZE), np.uint8)
    for cls in (1, 2):
        y, x = rng.integers(0, SIZE - 10, 2)
        h, w = rng.integers(4, 10, 2)
        label[y:y + h, x:x + w] = cls
    if index == 1:  # one mask with a VOC-like ignore outline
        label[10, 4:28] = 255
        label[4:28, 10] = 255
    return label


def _save_mask(path: Path, label: np.ndarray, fmt: str) -> None:
    from PIL import Image

    if fmt == 'indices':
        Image.fromarray(label, mode='L').save(path)
    elif fmt == 'palette':
        img = Image.fromarray(label, mode='P')
        palette = [v for c in COLORS for v in c] + [255, 255, 255] * (256 - len(COLORS))
        img.putpalette(palette)
        img.save(path)
    elif fmt == 'rgb':
        rgb = np.zeros((*label.shape, 3), np.uint8)
        for cls, color in enumerate(COLORS):
            rgb[label == cls] = color
        rgb[label == 255] = (255, 255, 255)  # the table's 'ignore' colour
        Image.fromarray(rgb, mode='RGB').save(path)
    else:
        raise ValueError(fmt)


def write_classes(root: Path, colors: bool) -> Path:
    lines = [f'{n} {" ".join(map(str, c))}' if colors else n for n, c in zip(CLASSES, COLORS)]
    if colors:
        lines.append('ignore 255 255 255')
    path = root / 'classes.txt'
    path.write_text('# classes of the test parts\n' + '\n'.join(lines) + '\n')
    return path


def make_folder_data(root: Path, fmt: str = 'indices', splits: bool = False, num: int = 8,
                     mask_dir: str = 'masks', suffix: str = '', classes: bool | None = None,
                     seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Writes a folder dataset; returns split -> image stem -> its label map.

    Args:
        fmt: ``'indices'``, ``'palette'`` or ``'rgb'`` (with a colour table).
        splits: ``images/train`` + ``images/val`` (3 of ``num`` in val), or all in ``images/``.
        mask_dir: The masks' folder name.
        suffix: After the image stem in mask names (``'_mask'``).
        classes: Write ``classes.txt`` (default: for ``'rgb'`` only, with colours).
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    labels: dict[str, dict[str, np.ndarray]] = {}
    for i in range(num):
        split = ('val' if i < 3 else 'train') if splits else 'all'
        sub = f'/{split}' if splits else ''
        stem = f'part_{i:02d}'
        label = _label(rng, i)
        image = rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
        image[label == 1] //= 2
        for d in (f'images{sub}', f'{mask_dir}{sub}'):
            (root / d).mkdir(parents=True, exist_ok=True)
        ext = '.JPG' if i % 2 else '.png'  # upper-case extensions pair too
        Image.fromarray(image).save(root / f'images{sub}' / f'{stem}{ext}',
                                    format='JPEG' if ext == '.JPG' else 'PNG')
        _save_mask(root / f'{mask_dir}{sub}' / f'{stem}{suffix}.png', label, fmt)
        labels.setdefault(split, {})[stem] = label
    if classes or (classes is None and fmt == 'rgb'):
        write_classes(root, colors=fmt == 'rgb')
    return labels


def make_mistake(root: Path, mistake: str) -> str:
    """Makes one of :data:`MISTAKES` in a folder of :func:`make_folder_data`
    (indices, no split folders); returns the file it is about."""
    import shutil

    from PIL import Image

    if mistake == 'missing mask':
        (root / 'masks/part_03.png').unlink()
        return 'images/part_03.JPG'
    if mistake == 'size mismatch':
        Image.new('L', (20, 32)).save(root / 'masks/part_04.png')
        return 'masks/part_04.png'
    if mistake == 'value above classes':
        label = np.array(Image.open(root / 'masks/part_05.png'))
        label[10:22, 10:22] = 7  # a region, not an outline
        Image.fromarray(label).save(root / 'masks/part_05.png')
        return 'masks/part_05.png'
    if mistake == 'rgb without table':  # colour masks, and no classes.txt
        shutil.rmtree(root)
        make_folder_data(root, 'rgb', classes=False)
        return 'masks/part_00.png'
    if mistake == 'unreadable file':
        (root / 'images/part_02.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
        return 'images/part_02.png'
    raise ValueError(mistake)
