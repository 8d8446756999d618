"""Checks a folder of images and masks before anyone trains on it.

:func:`check_folder` reads every image and mask once (in threads) and
returns a :class:`FolderReport`: the pairs per split, the mask format, the
pixels per label value, and the problems, each one line naming its file.
``errors`` are what would make training wrong or fail (a missing mask, a
mask of another size, an unreadable file, a value above the declared
classes, colour masks without a colour table, ...); ``warnings`` and
``hints`` are for a person to read (a class without pixels, a value that
looks like an ignore label, whether 0 is background or "other").
"""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .class_table import ClassTable
from .color_mask import format_color
from .folder import MASK_SUFFIXES, FolderLayout, Pair, find_layout, pair_files
from .mask_stats import MaskInfo, image_size, read_mask

__all__ = ['BACKGROUND_NAMES', 'FolderReport', 'Problem', 'check_folder', 'train_label']

# first class names that mean "background / other"
BACKGROUND_NAMES = ('background', 'bg', 'other', 'others', 'void', 'unlabeled', 'unlabelled',
                    'none', 'clutter', 'backdrop')
FORMAT_NAMES = {'indices': 'single-channel class indices', 'palette': 'palette PNG (indices)',
                'rgb': 'RGB colour masks', 'gray-rgb': 'class indices saved as RGB',
                'unsupported': 'unsupported'}
# a value covering this share of all pixels is "most of the image"
DOMINANT = 0.4
# masks whose outlines are looked at, at most (evenly spread)
OUTLINED = 200


@dataclass(frozen=True)
class Problem:
    """One problem, about one file (``path`` relative to the root; '' for the
    dataset as a whole)."""

    path: str
    message: str

    def line(self, root: str) -> str:
        """The one line a person reads: ``ROOT/path: message``."""
        return f'{os.path.join(root, self.path)}: {self.message}' if self.path else self.message


@dataclass
class FolderReport:
    """What :func:`check_folder` found.

    Attributes:
        root: The data root, as given.
        layout: Its folders.
        pairs: Split -> image/mask pairs found.
        unlabelled: Split without a mask folder -> its images.
        formats: Mask format -> masks.
        sizes: Image ``(width, height)`` -> images.
        classes: Class names (from the table, numbered from ``num_classes``, or
            from the values found).
        class_source: Where ``classes`` come from, for the report.
        declared: The classes were given (a table, a count), not inferred.
        table: The classes file read, if any.
        ignore_index: Label value that is ignored.
        reduce_zero_label: mmseg's "0 is other, ignored; labels shift down by one".
        pixels: Split -> label value -> pixels (for colour masks without a
            table, colour codes).
        masks_with: Label value -> masks holding it.
        thin, edge: Label value -> its pixels on outlines / along image edges,
            in the masks looked at so (at most :data:`OUTLINED`, evenly spread;
            ``outlined``: all their pixels per value).
        palette: The colours of the first palette PNG, if the masks are palette PNGs.
        errors, warnings: Problems; ``errors`` make training wrong.
        hints: Advice in a line each.
    """

    root: str
    layout: FolderLayout
    pairs: dict[str, int] = field(default_factory=dict)
    unlabelled: dict[str, int] = field(default_factory=dict)
    formats: Counter = field(default_factory=Counter)
    sizes: Counter = field(default_factory=Counter)
    classes: tuple[str, ...] = ()
    class_source: str = ''
    declared: bool = False
    table: ClassTable | None = None
    ignore_index: int = 255
    reduce_zero_label: bool = False
    pixels: dict[str, Counter] = field(default_factory=dict)
    masks_with: Counter = field(default_factory=Counter)
    thin: Counter = field(default_factory=Counter)
    edge: Counter = field(default_factory=Counter)
    outlined: Counter = field(default_factory=Counter)
    palette: list[list[int]] | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error: training on this data would see what the masks say."""
        return not self.errors

    @property
    def format(self) -> str:
        """The masks' format (the most common one)."""
        return self.formats.most_common(1)[0][0] if self.formats else 'none'

    @property
    def colour_masks(self) -> bool:
        return self.format in ('rgb', 'gray-rgb')

    @property
    def total_pixels(self) -> Counter:
        """Label value -> pixels, all splits together."""
        total: Counter = Counter()
        for counts in self.pixels.values():
            total.update(counts)
        return total

    def class_of(self, value: int) -> int | None:
        """The class a label value trains as (None: ignored, or a colour of
        colour masks without a table)."""
        if self.colour_masks and self.table is None and self.format == 'rgb':
            return None
        return train_label(value, self.reduce_zero_label, self.ignore_index)

    def class_pixels(self) -> Counter:
        """Class index -> training pixels, all splits (values above the
        classes included, as they are)."""
        result: Counter = Counter()
        if self.colour_masks and self.table is None:
            return result  # colours, no classes yet
        for value, count in self.total_pixels.items():
            cls = self.class_of(value)
            if cls is not None:
                result[cls] += count
        return result

    def value_name(self, value: int) -> str:
        """How the report names a label value: its colour for colour masks."""
        if not self.colour_masks:
            return str(value)
        if self.table is None:
            return format_color(value) if self.format == 'rgb' else str(value)
        colors = self.table.colors or ()
        return format_color(_code(colors[value])) if value < len(colors) else 'ignore colours'


def _code(color: tuple[int, int, int]) -> int:
    return (color[0] << 16) | (color[1] << 8) | color[2]


def train_label(value: int, reduce_zero_label: bool, ignore_index: int) -> int | None:
    """The class index mmseg trains a mask value as, or None when it is
    ignored (``reduce_zero_label``: 0 is ignored, the others move down by
    one, 255 stays ignored, as mmseg's ``LoadAnnotations``)."""
    if reduce_zero_label:
        return None if value in (0, 255) else value - 1
    return None if value == ignore_index else value


def _read_pair(root: str, pair: Pair, table: ClassTable | None, ignore_index: int,
               outlines: bool) -> tuple[Pair, tuple[int, int] | str, MaskInfo | str]:
    def reason(e: Exception) -> str:
        return f'unreadable ({" ".join(str(e).split()) or type(e).__name__})'

    try:
        size: tuple[int, int] | str = image_size(os.path.join(root, pair.img))
    except (OSError, ValueError, SyntaxError) as e:  # PIL raises all three
        size = reason(e)
    try:
        colors = table.colors if table is not None else None
        mask: MaskInfo | str = read_mask(os.path.join(root, pair.mask), colors,
                                         table.ignore_colors if table else (), ignore_index,
                                         outlines)
    except (OSError, ValueError, SyntaxError) as e:
        mask = reason(e)
    return pair, size, mask


def check_folder(root: str | os.PathLike, table: ClassTable | None = None,
                 num_classes: int | None = None, ignore_index: int = 255,
                 reduce_zero_label: bool = False, workers: int | None = None,
                 layout: FolderLayout | None = None, outlines: bool = True) -> FolderReport:
    """Checks every image and mask of a data root (see the module docstring).

    Args:
        root: The data root (:func:`segkit.datasets.folder.find_layout`).
        table: The classes (names, and colours for colour masks), if known.
        num_classes: The number of classes, when no table names them.
        ignore_index: The label value that is ignored.
        reduce_zero_label: mmseg's ``reduce_zero_label`` (0 ignored, the
            other values move down by one).
        workers: Threads reading files (default: the CPU count, at most 8).
        layout: The folders to check, if not those :func:`find_layout` finds.
        outlines: Look where ignore-like values lie (for the hints; about
            half the time of a check).

    Raises:
        DataNotFoundError: ``root`` is not a folder in a known layout.
    """
    root = os.fspath(root)
    layout = layout or find_layout(root)
    report = FolderReport(root, layout, table=table, ignore_index=ignore_index,
                          reduce_zero_label=reduce_zero_label)
    errors, warnings = report.errors, report.warnings
    jobs: list[tuple[str, Pair]] = []
    for split, dirs in layout.splits.items():
        pairing = pair_files(root, dirs)
        if dirs.mask_dir is None:
            report.unlabelled[split] = len(pairing.images_without_masks)
            continue
        report.pairs[split] = len(pairing.pairs)
        for img, wanted in pairing.images_without_masks:
            errors.append(Problem(img, f'no mask (looked for {wanted} and the usual variants of '
                                       f'its name: {", ".join(MASK_SUFFIXES[-4:])}, ...)'))
        for mask in pairing.masks_without_images:
            errors.append(Problem(mask, f'no image for this mask in {dirs.img_dir}/'))
        for extra, first in pairing.duplicates:
            errors.append(Problem(extra, f'a second file for {first} (same name, another '
                                         'extension or suffix): keep one'))
        if not pairing.pairs:
            errors.append(Problem(dirs.img_dir, 'no image/mask pairs in this split'))
        jobs += [(split, p) for p in pairing.pairs]

    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        # NOTE: outlines (for hints only) cost 5-10x the rest: a sample of masks
        every = max(1, len(jobs) // OUTLINED)
        results = list(pool.map(lambda ij: (ij[1][0], *_read_pair(
            root, ij[1][1], table, ignore_index, outlines and ij[0] % every == 0)),
            enumerate(jobs)))
    unknown_colors: Counter = Counter()
    first_of: dict[str, str] = {}
    for split, pair, size, mask in results:
        counts = report.pixels.setdefault(split, Counter())
        if isinstance(size, str):
            errors.append(Problem(pair.img, size))
        else:
            report.sizes[size] += 1
        if isinstance(mask, str):
            errors.append(Problem(pair.mask, mask))
            continue
        report.formats[mask.format] += 1
        first_of.setdefault(mask.format, pair.mask)
        if report.palette is None and mask.palette:
            report.palette = mask.palette
        if not isinstance(size, str) and size != mask.size:
            errors.append(Problem(pair.mask, f'mask is {mask.size[0]}x{mask.size[1]}, its image '
                                             f'{pair.img} is {size[0]}x{size[1]}'))
        if mask.format == 'unsupported':
            errors.append(Problem(pair.mask, f'mask of PIL mode {mask.mode}, which mmseg reads '
                                             'wrongly: save it single-channel (mode L or P)'))
            continue
        if pair.mask.lower().endswith(('.jpg', '.jpeg')):
            warnings.append(Problem(pair.mask, 'JPEG mask: lossy compression puts values '
                                               'between classes along edges; use PNG'))
        if mask.unknown_colors:
            shown = ', '.join(f'{format_color(c)} {n} px'
                              for c, n in mask.unknown_colors.most_common(3))
            errors.append(Problem(pair.mask, f'colours not in the classes table: {shown}'))
            unknown_colors.update(mask.unknown_colors)
        if mask.format in ('rgb', 'gray-rgb') and not mask.mapped:
            what = ('RGB colour mask' if mask.format == 'rgb' else
                    'class indices saved as 3 equal RGB channels (mmseg reads 3 channels): save '
                    'it single-channel, or')
            errors.append(Problem(pair.mask, f"{what} without a colour table: give --classes "
                                             "FILE with 'name r g b' lines"))
        elif max(mask.pixels) > 255 and not mask.mapped:
            errors.append(Problem(pair.mask, f'value {max(mask.pixels)} in a {mask.mode} mask: '
                                             'mmseg reads masks as 8 bits (values 0..255)'))
        counts.update(mask.pixels)
        report.masks_with.update(mask.pixels.keys())
        if mask.thin or mask.edge:
            report.thin.update(mask.thin)
            report.edge.update(mask.edge)
            report.outlined.update(mask.pixels)

    if len({f for f in report.formats if f != 'unsupported'}) > 1 and \
            {'rgb', 'gray-rgb'} & set(report.formats) and \
            {'indices', 'palette'} & set(report.formats):
        mixed = ', '.join(f'{FORMAT_NAMES[f]} ({n}, e.g. {first_of[f]})'
                          for f, n in report.formats.most_common())
        errors.append(Problem('', f'{root}: masks mix formats: {mixed}'))
    if reduce_zero_label and report.colour_masks:
        errors.append(Problem('', f"{root}: reduce_zero_label with colour masks: name the "
                                  "colour of 'unlabelled' as a line 'ignore r g b' of the classes "
                                  'file instead'))
    _classes(report, table, num_classes)
    _values(report, results)
    _hints(report)
    for problems in (errors, warnings):
        problems.sort(key=lambda p: (bool(p.path), p.path))
    return report


def _classes(report: FolderReport, table: ClassTable | None, num_classes: int | None) -> None:
    """The class names: the table's, numbered ones, or from the values found."""
    report.declared = table is not None or num_classes is not None
    if table is not None:
        report.classes = table.names
        report.class_source = f'{len(table.names)} from {table.source or "the classes table"}'
        return
    first = 1 if report.reduce_zero_label else 0
    if num_classes is not None:
        report.classes = tuple(f'class_{v + first}' for v in range(num_classes))
        report.class_source = f'{num_classes} (--num-classes)'
        return
    if report.colour_masks:
        report.class_source = "none: RGB colour masks need a classes file of 'name r g b' lines"
        return
    found = [c for v in report.total_pixels if (c := report.class_of(v)) is not None]
    count = max(found) + 1 if found else 0
    report.classes = tuple(f'class_{v + first}' for v in range(count))
    report.class_source = (f'{count} from the values found (0..{count - 1 + first}); name them in '
                           'a classes file' if count else 'none found')


def _values(report: FolderReport, results: list) -> None:
    """Values above the classes (an error per mask), classes without pixels."""
    n = len(report.classes)
    if not n:
        return
    declared = report.declared
    bad = {v for v in report.total_pixels if (c := report.class_of(v)) is not None and c >= n}
    if bad and declared:
        for _, pair, _, mask in results:
            if isinstance(mask, str) or mask.format == 'unsupported' or \
                    (mask.format in ('rgb', 'gray-rgb') and not mask.mapped):
                continue
            here = sorted(v for v in mask.pixels if v in bad)
            if here:
                shift = ' (after reduce_zero_label: minus 1)' if report.reduce_zero_label else ''
                shown = ', '.join(f'{v} ({mask.pixels[v]} px)' for v in here[:4])
                report.errors.append(Problem(pair.mask, f'value {shown} >= {n} classes{shift}, '
                                                        f'not the ignore index '
                                                        f'{report.ignore_index}'))
    have = report.class_pixels()
    empty = [i for i in range(n) if not have[i]]
    if empty and (declared or report.table is None):
        names = ', '.join(f'{i} {report.classes[i]!r}' for i in empty[:8])
        more = f' and {len(empty) - 8} more' if len(empty) > 8 else ''
        report.warnings.append(Problem('', f'classes without a pixel in any mask: {names}{more}'))


def _hints(report: FolderReport) -> None:
    """Ignore-like values, and whether 0 is background (reduce_zero_label)."""
    total = report.total_pixels
    pixels = sum(total.values()) or 1
    n = len(report.classes)
    if report.colour_masks and report.table is None:
        if report.format == 'rgb':
            found = ', '.join(format_color(c) for c, _ in total.most_common(10))
            report.hints.append(f"colours found (most pixels first): {found}"
                                f"{' ...' if len(total) > 10 else ''}: a classes file names "
                                "each as a line 'name r g b'")
        return
    for value in sorted(total):
        cls = report.class_of(value)
        if report.colour_masks:
            break  # colours name their classes; the table declares ignored ones
        if not (cls is None or (n and cls >= n)) or (report.reduce_zero_label and value == 0):
            continue
        share = total[value] / pixels
        if not report.outlined[value]:
            continue  # in no mask looked at
        seen = report.outlined[value]
        thin, edge = report.thin[value] / seen, report.edge[value] / seen
        where = ('mostly along the image edges (a frame)' if edge > 0.5 else
                 'mostly thin lines (outlines between regions, as VOC\'s borders)' if thin > 0.6
                 else None)
        masks = f'{report.masks_with[value]} of {sum(report.formats.values())} masks'
        if cls is None:
            report.hints.append(f'value {value}: {share:.1%} of the pixels, in {masks}, '
                                f'{where or "in regions"}: ignored (the ignore index)')
        elif where:
            report.hints.append(f'value {value}: {share:.1%} of the pixels, in {masks}, {where}: '
                                f'looks like an ignore label: --ignore-index {value} ignores it')
    if report.reduce_zero_label:
        if 0 not in total:
            report.hints.append('reduce_zero_label is on but no mask holds 0: nothing is ignored '
                                'and every label moves down by one; check it is meant')
        return
    if not total or 0 not in total:
        return
    names = [c.lower() for c in report.classes]
    declared_n = len(report.table.names) if report.table is not None else None
    values = {v for v in total if v != report.ignore_index}
    if declared_n and max(values) == declared_n and not report.colour_masks:
        report.hints.append(f'the masks hold 0..{declared_n} for {declared_n} named classes: if 0 '
                            'means unlabelled/other, --reduce-zero-label ignores it and maps '
                            f'1..{declared_n} to the named classes (as ADE20K)')
    elif names and names[0] in BACKGROUND_NAMES:
        report.hints.append(f"class 0 is {report.classes[0]!r}: it is learnt and scored as a "
                            'class (reduce_zero_label off); if it means "unlabelled", '
                            '--reduce-zero-label ignores it instead')
    elif report.thin[0] > 0.6 * report.outlined[0] > 0 and not report.colour_masks:
        report.hints.append(f'value 0: {total[0] / pixels:.1%} of the pixels, mostly thin lines '
                            'and rims between the other values: it looks like '
                            '"unlabelled/other" rather than a class; if so, '
                            '--reduce-zero-label ignores it (as ADE20K)')
    elif total[0] / pixels >= DOMINANT:
        report.hints.append(f'0 covers {total[0] / pixels:.0%} of the pixels: if it means '
                            'background/other rather than a class you want scored, '
                            '--reduce-zero-label ignores it (reduce_zero_label=True)')
