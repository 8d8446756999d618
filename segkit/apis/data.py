"""``segkit data check``: a folder of images and masks checked, reported on one screen.

:func:`check_dataset` runs :func:`segkit.datasets.check_folder` and writes
the report (``report.md``, ``report.json``) and a bar plot of the pixels per
class (``class_pixels.png``); :func:`format_report` is the text the command
prints; :func:`check_folder_datasets` is the same check run by
:func:`segkit.apis.train` on every ``FolderSegDataset`` of a config, before
anything is built.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from pathlib import Path
from typing import Any

from segkit.datasets.class_table import CLASSES_FILE, ClassTable, read_class_table
from segkit.datasets.folder_check import FORMAT_NAMES, FolderReport, check_folder
from segkit.errors import BadSampleError, ConfigError
from segkit.utils.io import atomic_save_figure, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

__all__ = ['check_dataset', 'check_folder_datasets', 'format_report', 'load_class_table']

# problem lines printed per kind before '... and N more' (the report file has all)
SHOWN = 10
# rows of the pixel table printed (the report file has all)
SHOWN_ROWS = 30


def load_class_table(root: str | os.PathLike, classes: str | os.PathLike | None = None
                     ) -> ClassTable | None:
    """The classes file named, else ``ROOT/classes.txt`` if there is one."""
    if classes is not None:
        return read_class_table(classes)
    default = Path(root) / CLASSES_FILE
    return read_class_table(default) if default.is_file() else None


def _check_args(ignore_index: int, reduce_zero_label: bool, num_classes: int | None,
                table: ClassTable | None) -> None:
    if not 0 <= ignore_index <= 255:
        raise ConfigError(f'ignore index must be 0..255 (masks are read as 8 bits), got '
                          f'{ignore_index}')
    if reduce_zero_label and ignore_index != 255:
        raise ConfigError('reduce_zero_label makes 0 the label 255 (mmseg), so the ignore '
                          f'index must be 255, not {ignore_index}')
    if num_classes is not None and table is not None and num_classes != table.num_classes:
        raise ConfigError(f'--num-classes {num_classes} but {table.source} names '
                          f'{table.num_classes} classes')
    if num_classes is not None and num_classes < 1:
        raise ConfigError(f'num_classes must be positive, got {num_classes}')


def check_dataset(root: str | os.PathLike, classes: str | os.PathLike | None = None,
                  num_classes: int | None = None, ignore_index: int = 255,
                  reduce_zero_label: bool = False, out: str | os.PathLike | None = None
                  ) -> FolderReport:
    """Checks a folder dataset; with ``out``, writes the report and the plot there.

    Args:
        root: The data root (``images/`` + ``masks/``, ``annotations/`` or
            ``labels/``, optionally split into ``train/``, ``val/``).
        classes: A classes file (default: ``ROOT/classes.txt`` if present).
        num_classes: The number of classes, when no file names them.
        ignore_index: The ignored label value.
        reduce_zero_label: 0 is "other" and ignored; the others move down by one.
        out: Folder for ``report.md``, ``report.json`` and ``class_pixels.png``.

    Raises:
        DataNotFoundError: ``root`` or the classes file is missing, or
            ``root`` is in no known layout.
        ConfigError: contradicting options, or a malformed classes file.
    """
    table = load_class_table(root, classes)
    _check_args(ignore_index, reduce_zero_label, num_classes, table)
    report = check_folder(root, table, num_classes, ignore_index, reduce_zero_label)
    if out is not None:
        out = Path(out)
        atomic_write_text(out / 'report.md', format_report(report, shown=None) + '\n')
        atomic_write_text(out / 'report.json', json.dumps(report_dict(report), indent=2))
        plot_class_pixels(report, out / 'class_pixels.png')
    return report


def _pixel_rows(report: FolderReport) -> list[list[Any]]:
    splits = list(report.pixels)
    total = report.total_pixels
    pixels = sum(total.values()) or 1
    rows = []
    for value in sorted(total):
        cls = report.class_of(value)
        unmapped = report.colour_masks and report.table is None and report.format == 'rgb'
        name = ('?' if unmapped else 'ignored' if cls is None else report.classes[cls]
                if cls < len(report.classes)
                else f'? (>= {len(report.classes)} classes)' if report.classes else '?')
        rows.append([report.value_name(value), '?' if unmapped else '-' if cls is None else cls,
                     name,
                     *([report.pixels[s].get(value, 0) for s in splits] if len(splits) > 1
                       else []),
                     total[value], f'{100 * total[value] / pixels:.2f}',
                     report.masks_with[value]])
    return rows


def _pixel_headers(report: FolderReport) -> list[str]:
    splits = list(report.pixels)
    return ['value', 'class', 'name', *([f'{s} px' for s in splits] if len(splits) > 1 else []),
            'pixels', '%', 'masks']


def _problem_lines(problems: list, root: str, shown: int | None) -> list[str]:
    lines = [f'  {p.line(root)}' for p in problems[:shown]]
    if shown is not None and len(problems) > shown:
        lines.append(f'  ... and {len(problems) - shown} more (all in report.md with --out)')
    return lines


def format_report(report: FolderReport, shown: int | None = SHOWN) -> str:
    """The report as text (Markdown-friendly): one screen for ``shown`` lines per kind.

    Args:
        shown: Problem lines (and, times three, table rows) shown; None: all.
    """
    root = report.root
    masks = sum(report.formats.values())
    splits = ', '.join(f'{s}: {n} pairs' for s, n in report.pairs.items())
    if report.unlabelled:
        splits += ''.join(f', {s}: {n} images without masks (not used)'
                          for s, n in report.unlabelled.items())
    formats = ', '.join(f'{FORMAT_NAMES[f]} ({n} of {masks})'
                        for f, n in report.formats.most_common()) or 'none read'
    sizes = ', '.join(f'{w}x{h} ({n})' for (w, h), n in report.sizes.most_common(3))
    if len(report.sizes) > 3:
        sizes += f', ... ({len(report.sizes)} sizes)'
    lines = [f'data check: {root} ({report.layout.describe()})',
             f'  pairs: {splits}',
             f'  masks: {formats}',
             f'  images: {sizes or "none read"}',
             f'  classes: {report.class_source or "unknown"}; ignore index '
             f'{report.ignore_index}; reduce_zero_label '
             f'{"on" if report.reduce_zero_label else "off"}']
    if not report.layout.has_split_folders:
        lines.append('  no train/val folders: segkit config new holds out every 5th pair by '
                     'sorted name for validation (--val-every)')
    rows = _pixel_rows(report)
    if rows:
        limit = None if shown is None else SHOWN_ROWS
        lines += ['', markdown_table(_pixel_headers(report), rows[:limit], align='lrl' + 'r' * (
            len(rows[0]) - 3))]
        if limit is not None and len(rows) > limit:
            lines.append(f'... and {len(rows) - limit} more values (all in report.md with --out)')
    if report.hints:
        lines += ['', 'hints:'] + [f'  {h}' for h in report.hints]
    if report.warnings:
        lines += ['', f'warnings ({len(report.warnings)}):']
        lines += _problem_lines(report.warnings, root, shown)
    if report.errors:
        lines += ['', f'errors ({len(report.errors)}): training on this data would be wrong']
        lines += _problem_lines(report.errors, root, shown)
        lines += ['', f'FAILED: {len(report.errors)} error(s)']
    else:
        flags = (' --reduce-zero-label' if report.reduce_zero_label else '') + (
            f' --ignore-index {report.ignore_index}' if report.ignore_index != 255 else '')
        lines += ['', f'OK: ready to train (segkit config new --model NAME --data {root}{flags})']
    return '\n'.join(lines)


def report_dict(report: FolderReport) -> dict:
    """The report as JSON-ready data (for programs)."""
    return dict(
        root=report.root, layout=report.layout.describe(), pairs=report.pairs,
        unlabelled=report.unlabelled, formats=dict(report.formats),
        image_sizes={f'{w}x{h}': n for (w, h), n in report.sizes.items()},
        classes=list(report.classes), class_source=report.class_source,
        ignore_index=report.ignore_index, reduce_zero_label=report.reduce_zero_label,
        pixels={s: {str(v): n for v, n in sorted(c.items())} for s, c in report.pixels.items()},
        class_pixels={report.classes[c] if c < len(report.classes) else str(c): n
                      for c, n in sorted(report.class_pixels().items())},
        hints=report.hints, warnings=[p.line(report.root) for p in report.warnings],
        errors=[p.line(report.root) for p in report.errors], ok=report.ok)


def plot_class_pixels(report: FolderReport, path: str | os.PathLike) -> Path | None:
    """A bar plot of the training pixels per class (log scale when classes
    differ more than 100-fold); None when there is nothing to plot."""
    counts = report.class_pixels()
    ids = sorted(set(range(len(report.classes))) | set(counts))
    if not ids:
        return None
    plt = pyplot()
    names = [report.classes[i] if i < len(report.classes) else f'{i} (?)' for i in ids]
    values = [counts.get(i, 0) for i in ids]
    n = len(ids)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * n + 2), 3.5), layout='constrained')
    palette = report.table.palette if report.table and report.table.colors else report.palette
    colors = [[c / 255 for c in palette[i]] if palette and i < len(palette) else 'tab:blue'
              for i in ids]
    ax.bar(range(n), values, color=colors, edgecolor='black', linewidth=0.5)
    ax.set_xticks(range(n), names, rotation=60 if n > 6 else 0, ha='right' if n > 6 else 'center')
    positive = [v for v in values if v]
    if positive and max(positive) > 100 * min(positive):
        ax.set_yscale('log')
    ax.set_ylabel('pixels')
    ax.set_title(f'pixels per class: {osp.basename(osp.normpath(report.root))}')
    return atomic_save_figure(fig, path)


def folder_check_args(dataset: dict, pipeline: list | None = None) -> dict:
    """What :func:`check_folder` needs to check a ``FolderSegDataset`` config
    as it trains: its folders, classes, ignore index, ``reduce_zero_label``
    and the colour table of its ``LoadColorAnnotations``."""
    from segkit.datasets.folder_dataset import FolderSegDataset

    root = dataset['data_root']
    dirs = FolderSegDataset.split_dirs(root, dataset.get('subset'), dataset.get('val_every'),
                                  dataset.get('data_prefix'))
    metainfo = dataset.get('metainfo') or {}
    names = metainfo.get('classes')
    if not names:
        names = FolderSegDataset.class_metainfo(root, dataset.get('classes_file'),
                                                dataset.get('num_classes'))['classes']
    ignore_index = dataset.get('ignore_index', 255)
    colors, ignore_colors = dataset.get('mask_colors'), dataset.get('ignore_colors')
    for step in pipeline or dataset.get('pipeline') or []:
        if isinstance(step, dict) and step.get('type') == 'LoadColorAnnotations':
            colors, ignore_colors = step['colors'], step.get('ignore_colors', ())
            ignore_index = step.get('ignore_index', ignore_index)
    table = ClassTable(tuple(names), tuple(tuple(c) for c in colors) if colors else None,
                       tuple(tuple(c) for c in ignore_colors or ()), source='the config')
    return dict(root=root, dirs=dirs, table=table, ignore_index=ignore_index,
                reduce_zero_label=bool(dataset.get('reduce_zero_label', False)))


def check_folder_datasets(datasets: list[tuple[str, dict]]) -> list[FolderReport]:
    """Checks the folders of a config's ``FolderSegDataset``s (each folder once).

    Args:
        datasets: ``(split, dataset config)`` pairs, as
            :func:`segkit.apis.runner` finds them in a config.

    Raises:
        BadSampleError: naming the first problem's file, how many there are,
            and the command that lists them all.
    """
    from mmengine.logging import print_log

    from segkit.datasets.folder import FolderLayout

    reports, seen = [], set()
    for split, dataset in datasets:
        if dataset.get('type') != 'FolderSegDataset':
            continue
        args = folder_check_args(dataset)
        key = (args['root'], args['dirs'])
        if key in seen:
            continue
        seen.add(key)
        layout = FolderLayout(args['root'], {split: args['dirs']})
        report = check_folder(args['root'], args['table'], None, args['ignore_index'],
                              args['reduce_zero_label'], layout=layout, outlines=False)
        if report.errors:
            more = len(report.errors) - 1
            raise BadSampleError(
                f'{split} data: {report.errors[0].line(args["root"])}'
                f'{f" (and {more} more problems)" if more else ""}; '
                f'segkit data check {args["root"]} lists them')
        print_log(f'{split} data {args["root"]}: {sum(report.pairs.values())} pairs checked, '
                  f'{len(report.warnings)} warnings (segkit data check shows them)',
                  logger='current')
        reports.append(report)
    return reports

