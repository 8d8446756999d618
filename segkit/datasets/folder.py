"""A folder of images and masks: where they are, which split, which mask is whose.

The layouts people have, found without configuration (folder names in any
case)::

    ROOT/images/*.jpg            ROOT/images/train/*.jpg       ROOT/train/images/*.jpg
    ROOT/masks/*.png             ROOT/masks/train/*.png        ROOT/train/masks/*.png
                                 ROOT/images/val/...           ROOT/val/...

Images are in ``images/`` (or ``imgs/``, ``img_dir/``, ``image/``), masks in
``masks/``, ``annotations/``, ``labels/`` (or ``ann_dir/``, ``mask/``,
``label/``, ``gt/``); split folders are ``train``/``training``,
``val``/``validation``/``valid`` and ``test``/``testing``. Below them, files
may sit in sub-folders (``city/``), mirrored on both sides. A mask belongs to
the image with the same relative path and stem, or the stem plus a suffix
such as ``_mask`` or ``_label``; extensions are any case of the usual ones.

A folder without split folders is split deterministically for validation:
every ``val_every``-th pair by sorted name, starting with the first
(:func:`holdout`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from segkit.errors import ConfigError, DataNotFoundError

__all__ = ['IMAGE_EXTENSIONS', 'MASK_SUFFIXES', 'SPLIT_NAMES', 'FolderLayout', 'Pair', 'Pairing',
           'find_layout', 'holdout', 'pair_files']

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.gif')
IMAGE_DIRS = ('images', 'imgs', 'img_dir', 'image', 'img')
MASK_DIRS = ('masks', 'annotations', 'labels', 'ann_dir', 'mask', 'annotation', 'label', 'gt')
# split -> the folder names that mean it
SPLIT_NAMES = {'train': ('train', 'training'), 'val': ('val', 'validation', 'valid'),
               'test': ('test', 'testing')}
# what follows an image's stem in its mask's name (longest first)
MASK_SUFFIXES = ('_segmentation', '_annotation', '_labels', '_label', '-label', '_masks',
                 '_mask', '-mask', '_seg', '_gt')
LAYOUT_HELP = ('images/ with masks/, annotations/ or labels/ beside it, optionally split '
               'into train/ and val/ (images/train, masks/train or train/images, train/masks)')


@dataclass(frozen=True)
class SplitDirs:
    """One split's folders, relative to the root (``mask_dir`` None: no masks)."""

    img_dir: str
    mask_dir: str | None


@dataclass(frozen=True)
class FolderLayout:
    """Where a root's images and masks are.

    Attributes:
        root: The data root, as given.
        splits: Split name (``'train'``, ``'val'``, ``'test'``, or ``'all'``
            without split folders) -> its folders.
    """

    root: str
    splits: dict[str, SplitDirs]

    @property
    def has_split_folders(self) -> bool:
        return 'all' not in self.splits

    def describe(self) -> str:
        """One line: the folders found, e.g. ``images/ + masks/, splits train, val``."""
        first = next(iter(self.splits.values()))
        if not self.has_split_folders:
            return f'{first.img_dir}/ + {first.mask_dir}/, no split folders'
        dirs = ', '.join(f'{s} ({d.img_dir}/ + {d.mask_dir or "no masks"}'
                         f'{"/" if d.mask_dir else ""})' for s, d in self.splits.items())
        return f'splits {dirs}'


@dataclass(frozen=True)
class Pair:
    """An image and its mask, relative to the root; ``key`` is the shared
    relative stem (``city/0001``), by which pairs sort."""

    key: str
    img: str
    mask: str


@dataclass
class Pairing:
    """The pairs of one split and what did not pair (paths relative to the root).

    Attributes:
        pairs: Sorted by key.
        images_without_masks: With the mask names that were looked for.
        masks_without_images: Masks no image claims.
        duplicates: Files that make a pair ambiguous (two images with one
            stem, or two masks for one image), with the one they clash with.
    """

    pairs: list[Pair] = field(default_factory=list)
    images_without_masks: list[tuple[str, str]] = field(default_factory=list)
    masks_without_images: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)


def _child(folder: Path, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that is a sub-folder of ``folder`` (any case)."""
    if not folder.is_dir():
        return None
    present = {p.name.lower(): p.name for p in folder.iterdir() if p.is_dir()}
    return next((present[n] for n in names if n in present), None)


def _split_children(folder: Path) -> dict[str, str]:
    return {split: name for split, names in SPLIT_NAMES.items()
            if (name := _child(folder, names)) is not None}


def find_layout(root: str | os.PathLike) -> FolderLayout:
    """Finds the image and mask folders of ``root`` (see the module docstring).

    Raises:
        DataNotFoundError: ``root`` is missing or in none of the layouts.
    """
    base = Path(root)
    if not base.is_dir():
        raise DataNotFoundError(f'data root not found: {root}')
    img, mask = _child(base, IMAGE_DIRS), _child(base, MASK_DIRS)
    splits: dict[str, SplitDirs] = {}
    if img:
        by_split = _split_children(base / img)
        for split, name in by_split.items():
            mask_split = _child(base / mask, SPLIT_NAMES[split]) if mask else None
            splits[split] = SplitDirs(f'{img}/{name}', f'{mask}/{mask_split}' if mask_split
                                      else None)
        if not by_split and mask:
            splits['all'] = SplitDirs(img, mask)
    else:
        for split, name in _split_children(base).items():
            sub_img = _child(base / name, IMAGE_DIRS)
            if sub_img:
                sub_mask = _child(base / name, MASK_DIRS)
                splits[split] = SplitDirs(f'{name}/{sub_img}',
                                          f'{name}/{sub_mask}' if sub_mask else None)
    if not any(d.mask_dir for d in splits.values()):
        raise DataNotFoundError(f'{root}: no image and mask folders found (expected '
                                f'{LAYOUT_HELP})')
    return FolderLayout(os.fspath(root), splits)


def _files(folder: Path) -> dict[str, list[str]]:
    """Relative stem -> relative paths of the image files below ``folder``
    (recursive, symlinks followed, hidden files skipped)."""
    found: dict[str, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        rel_dir = Path(dirpath).relative_to(folder)
        for name in filenames:
            stem, ext = os.path.splitext(name)
            if name.startswith('.') or ext.lower() not in IMAGE_EXTENSIONS:
                continue
            found.setdefault((rel_dir / stem).as_posix(), []).append((rel_dir / name).as_posix())
    return found


def pair_files(root: str | os.PathLike, dirs: SplitDirs) -> Pairing:
    """Pairs the images of one split with their masks (see the module docstring)."""
    base = Path(root)
    images = _files(base / dirs.img_dir)
    masks = _files(base / dirs.mask_dir) if dirs.mask_dir else {}
    result = Pairing()
    claimed: set[str] = set()

    def rel(folder: str | None, path: str) -> str:
        return f'{folder}/{path}'

    for key in sorted(images):
        files = sorted(images[key])
        for extra in files[1:]:
            result.duplicates.append((rel(dirs.img_dir, extra), rel(dirs.img_dir, files[0])))
        candidates = [k for k in (key, *(key + s for s in MASK_SUFFIXES)) if k in masks]
        if not candidates:
            result.images_without_masks.append(
                (rel(dirs.img_dir, files[0]),
                 f'{dirs.mask_dir}/{key}.png' if dirs.mask_dir else 'no mask folder'))
            continue
        found = [m for k in candidates for m in sorted(masks[k])]
        for extra in found[1:]:
            result.duplicates.append((rel(dirs.mask_dir, extra), rel(dirs.mask_dir, found[0])))
        claimed.update(candidates)
        result.pairs.append(Pair(key, rel(dirs.img_dir, files[0]), rel(dirs.mask_dir, found[0])))
    result.masks_without_images = [rel(dirs.mask_dir, m) for k in sorted(set(masks) - claimed)
                                   for m in masks[k]]
    if result.pairs and dirs.mask_dir:
        # the name looked for, as the other masks are named (suffix, extension)
        from collections import Counter

        named = Counter((Path(p.mask).stem[len(Path(p.img).stem):], Path(p.mask).suffix)
                        for p in result.pairs)
        (suffix, ext), _ = named.most_common(1)[0]
        result.images_without_masks = [
            (img, f'{dirs.mask_dir}/{Path(img).relative_to(dirs.img_dir).with_suffix("")}'
                  f'{suffix}{ext}') for img, _ in result.images_without_masks]
    return result


def holdout(pairs: list[Pair], every: int, subset: str) -> list[Pair]:
    """The deterministic validation split of a folder without split folders:
    ``'val'`` is every ``every``-th pair by sorted key, starting with the first;
    ``'train'`` the others.

    Raises:
        ConfigError: ``every`` below 2, an unknown ``subset``, or too few
            pairs to leave one on each side.
    """
    if every < 2:
        raise ConfigError(f'val_every must be at least 2, got {every}')
    if subset not in ('train', 'val'):
        raise ConfigError(f"a held-out subset is 'train' or 'val', got {subset!r}")
    if len(pairs) < 2:
        raise ConfigError(f'{len(pairs)} image/mask pair(s): too few to hold one out for '
                          'validation')
    ordered = sorted(pairs, key=lambda p: p.key)
    return [p for i, p in enumerate(ordered) if (i % every == 0) == (subset == 'val')]
