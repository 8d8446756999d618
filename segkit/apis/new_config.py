"""``segkit config new``: a short config for one's own folder of data on a shipped model.

:func:`new_config` checks the data (:func:`segkit.apis.data.check_dataset`;
it refuses data with errors), then writes a leaf config that inherits the
model's config (its recipe: model, optimizer, pipelines, runtime) and sets
what depends on the data: the ``FolderSegDataset`` of each loader, the
classes and palette, ``num_classes`` of every decode and auxiliary head, the
crop (train pipeline, ``data_preprocessor.size``, a sliding-window test), the
resize scale, a validation split when the data has none (every k-th pair by
sorted name, said in the file and on the screen) and the schedule scaled to
the requested iterations (``max_iters``, each scheduler's ``begin``/``end``/
``T_max``/``milestones``, the validation, checkpoint and log intervals).

The file names its base as ``'{{$SEGKIT_CONFIGS:<folder>}}/<family>/<name>.py'``:
mmengine puts the environment variable ``SEGKIT_CONFIGS`` there, or the
folder where the configs were at generation when it is unset; segkit's
commands set it to the configs of the segkit they run
(:func:`segkit.apis.runner.load_config`), so the file works from any folder,
and after segkit moves or is installed elsewhere.
"""
from __future__ import annotations

import copy
import os
import os.path as osp
import shlex
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segkit.errors import BadSampleError, ConfigError
from segkit.utils.configs import base_reference, resolve_config
from segkit.utils.io import atomic_save

from segkit.datasets.folder_check import FORMAT_NAMES

from .data import check_dataset

__all__ = ['NewConfig', 'new_config', 'scale_schedule']

HELD_OUT = 5  # default: every 5th pair is validation
TENSORBOARD = ("# TensorBoard: segkit train --tensorboard, or\n"
               "# visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),\n"
               "#                                 dict(type='TensorboardVisBackend')])")


class Ref(str):
    """A name of the config's own variables, written bare (``crop_size``)."""

    def __repr__(self) -> str:
        return str(self)


@dataclass
class NewConfig:
    """What :func:`new_config` wrote.

    Attributes:
        path: The config file.
        base: The config it inherits.
        notes: Lines for the user (data, validation split, schedule, next step).
        text: The file's text.
    """

    path: Path
    base: Path
    notes: list[str] = field(default_factory=list)
    text: str = ''


# ---------------------------------------------------------------- formatting

def _py(value: Any, indent: int = 0, width: int = 92) -> str:
    """``value`` as Python source in mmengine's config style (``dict(k=v)``)."""
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        items = [f'{k}={_py(v, indent + 4, width)}' for k, v in value.items()]
        flat = f'dict({", ".join(items)})'
        if len(flat) + indent <= width and '\n' not in flat:
            return flat
        return 'dict(\n' + ',\n'.join(pad + i for i in items) + ')'
    if isinstance(value, (list, tuple)):
        open_, close = ('[', ']') if isinstance(value, list) else ('(', ')')
        items = [_py(v, indent + 4, width) for v in value]
        tail = ',' if isinstance(value, tuple) and len(items) == 1 else ''
        flat = f'{open_}{", ".join(items)}{tail}{close}'
        if len(flat) + indent <= width and '\n' not in flat:
            return flat
        return f'{open_}\n' + ',\n'.join(pad + i for i in items) + f'{tail}{close}'
    return repr(value)


def _set(tree: dict, dotted: str, value: Any) -> None:
    """Sets ``a.b.0.c`` in nested dicts/lists (missing dicts are made)."""
    keys = dotted.split('.')
    node: Any = tree
    for key in keys[:-1]:
        if isinstance(node, list):
            node = node[int(key)]
            continue
        child = node.get(key)
        if not isinstance(child, (dict, list)):
            child = node[key] = {}
        node = child
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


# ------------------------------------------------------------------ schedule

def _scale_iter(value: int, old: int, new: int) -> int:
    # NOTE: recipes end schedulers one past the last iteration (mmcv's poly
    # decay exactly: schedule_internimage_160k.py); keep such offsets
    for offset in (-1, 0, 1):
        if value == old + offset:
            return new + offset
    return max(0, round(value * new / old))


def scale_schedule(schedulers: list[dict], old_iters: int, new_iters: int) -> list[dict]:
    """The param schedulers of a ``old_iters`` recipe for ``new_iters``
    iterations: ``begin``, ``end``, ``T_max`` and ``milestones`` scaled by
    the same factor (ends one past the last iteration kept so, every
    scheduler at least one iteration long).

    Raises:
        ConfigError: a scheduler counted in epochs (nothing to scale by).
    """
    result = []
    for scheduler in copy.deepcopy(schedulers):
        if scheduler.get('by_epoch', True) and scheduler.get('convert_to_iter_based') is not True:
            raise ConfigError(f"param_scheduler {scheduler.get('type')} counts epochs: "
                              'segkit config new scales iteration-based schedules')
        for key in ('begin', 'end', 'T_max'):
            if isinstance(scheduler.get(key), int):
                scheduler[key] = _scale_iter(scheduler[key], old_iters, new_iters)
        if 'milestones' in scheduler:
            scheduler['milestones'] = [_scale_iter(m, old_iters, new_iters)
                                       for m in scheduler['milestones']]
        if 'end' in scheduler and scheduler['end'] <= scheduler.get('begin', 0):
            scheduler['end'] = scheduler.get('begin', 0) + 1
        result.append(scheduler)
    return result


# ----------------------------------------------------------------- pipelines

def _rewrite(steps: list, crop: tuple[int, int] | None, scale: tuple[int, int],
             old_scale: tuple[int, int] | None, ignore_index: int, colors: bool) -> list:
    """The recipe's pipeline for this data: its loading, check, crop and
    scales (the recipe's ``old_scale`` becomes ``scale``; other scales, as
    those of a multi-scale test, keep their ratio to it)."""
    result = []
    for step in copy.deepcopy(steps):
        if isinstance(step, list):  # TestTimeAug's groups
            result.append(_rewrite(step, crop, scale, old_scale, ignore_index, colors))
            continue
        kind = step.get('type')
        if kind == 'LoadAnnotations':
            step.pop('reduce_zero_label', None)  # the dataset's choice
            if colors:
                step = dict(type='LoadColorAnnotations', colors=Ref('palette'),
                            ignore_colors=Ref('ignore_colors'), ignore_index=ignore_index)
        elif kind == 'ValidateSegSample':
            step.update(num_classes=Ref('num_classes'), ignore_index=ignore_index)
        elif kind == 'RandomCrop' and crop is not None:
            step['crop_size'] = Ref('crop_size')
            if ignore_index != 255:
                step['ignore_index'] = ignore_index
        elif kind in ('RandomResize', 'Resize') and 'scale' in step:
            old = tuple(step['scale'])
            if old_scale is None or old == old_scale or len(old) != 2:
                step['scale'] = Ref('img_scale')
            else:
                step['scale'] = tuple(round(o * n / b) for o, n, b in zip(old, scale, old_scale))
        elif kind == 'TestTimeAug':
            step['transforms'] = _rewrite(step['transforms'], crop, scale, old_scale,
                                          ignore_index, colors)
        result.append(step)
    return result


def _inner(dataset: dict) -> dict:
    while 'dataset' in dataset or 'datasets' in dataset:
        dataset = dataset['dataset'] if 'dataset' in dataset else dataset['datasets'][0]
    return dataset


# -------------------------------------------------------------------- heads

def _heads(model: dict, num_classes: int, ignore_index: int) -> dict:
    """``num_classes`` (and a non-default ignore index) for every head: a
    dict overrides a dict head; a list of heads is written whole."""
    def fit(head: dict, whole: bool) -> dict:
        new = copy.deepcopy(head) if whole else {}
        new['num_classes'] = Ref('num_classes')
        if ignore_index != 255:
            new['ignore_index'] = ignore_index
        losses = head.get('loss_decode')
        for i, loss in enumerate(losses if isinstance(losses, list) else [losses]):
            if isinstance(loss, dict) and loss.get('class_weight') is not None:
                # NOTE: the recipe's per-class weights are for its own classes
                if isinstance(losses, list):
                    new.setdefault('loss_decode', copy.deepcopy(losses))[i]['class_weight'] = None
                else:
                    new['loss_decode'] = dict(class_weight=None)
        return new

    heads = {}
    for key in ('decode_head', 'auxiliary_head'):
        head = model.get(key)
        if isinstance(head, dict):
            heads[key] = fit(head, whole=False)
        elif isinstance(head, list):
            heads[key] = [fit(h, whole=True) for h in head]
    if 'decode_head' not in heads:
        raise ConfigError('the model config has no decode_head to set num_classes on')
    return heads


# ------------------------------------------------------------------- naming

def _default_name(model: str, data: str, batch_size: int, iters: int,
                  crop: tuple[int, int]) -> str:
    """mmseg's ``{algo}_{backbone}_{N}xb{B}-{iters}_{dataset}-{crop}`` for the
    user's data: ``upernet_convnext-t_1xb2-2k_parts-256x256``."""
    import re

    stem = Path(model).stem
    match = re.match(r'^(.*?)_(\d+xb\d+-[\dk]+)_([^_]+)-(\d+x\d+)$', stem) or \
        re.match(r'^(.*?)()_([^_]+)-(\d+x\d+)$', stem)
    prefix = match.group(1) if match else stem
    dataset = re.sub(r'[^\w-]+', '-', osp.basename(osp.normpath(osp.abspath(data)))) or 'data'
    n = f'{iters // 1000}k' if iters % 1000 == 0 else str(iters)
    return f'{prefix}_1xb{batch_size}-{n}_{dataset}-{crop[0]}x{crop[1]}.py'


# --------------------------------------------------------------------- main

def new_config(model: str | os.PathLike, data: str | os.PathLike,
               classes: str | os.PathLike | None = None, crop: tuple[int, int] | None = None,
               iters: int | None = None, batch_size: int | None = None,
               scale: tuple[int, int] | None = None, val_every: int = HELD_OUT,
               reduce_zero_label: bool = False, ignore_index: int = 255,
               cfg_options: dict | None = None, out: str | os.PathLike | None = None,
               force: bool = False, command: str | None = None) -> NewConfig:
    """Writes a config for a folder of data on a shipped (or any) model config.

    Args:
        model: A shipped config's name (``segkit configs``) or a config file.
        data: The data root (see :mod:`segkit.datasets.folder`).
        classes: A classes file (default: ``DATA/classes.txt`` if present, else
            numbered classes from the values found).
        crop: Training crop ``(h, w)``; default: the recipe's.
        iters: Training iterations; the schedule is scaled to them (default:
            the recipe's).
        batch_size: Per-GPU batch size (default: the recipe's).
        scale: ``(long, short)`` edge the images are resized to (keeping their
            ratio) before cropping and for testing; default: the data's median
            image size (no resize).
        val_every: For data without a ``val`` folder: every ``val_every``-th
            pair by sorted name is held out for validation.
        reduce_zero_label: 0 means other/unlabelled and is ignored.
        ignore_index: The ignored label value.
        cfg_options: ``--cfg-options`` style overrides, written into the file.
        out: The file to write; default ``./<mmseg-style name>.py``.
        force: Overwrite ``out`` if it exists.
        command: The command line, for the file's header.

    Raises:
        ConfigNotFoundError: no such model config.
        BadSampleError: the data check found errors (the first named).
        ConfigError: contradicting options; ``out`` exists without ``force``.
    """
    from .runner import ConfigNotFoundError, load_config

    try:
        base_path = resolve_config(model).resolve()
    except FileNotFoundError as e:
        raise ConfigNotFoundError(str(e)) from None
    base = load_config(base_path)
    report = check_dataset(data, classes=classes, ignore_index=ignore_index,
                           reduce_zero_label=reduce_zero_label)
    if report.errors:
        more = len(report.errors) - 1
        raise BadSampleError(f'{report.errors[0].line(report.root)}'
                             f'{f" (and {more} more problems)" if more else ""}; '
                             f'segkit data check {report.root} lists them')
    if not report.classes:
        raise ConfigError(f'{report.root}: no classes found')
    colors = report.colour_masks
    table = report.table

    old_iters = base.train_cfg.get('max_iters')
    iters = iters or old_iters
    if not old_iters or not iters or iters < 1:
        raise ConfigError('the model config has no iteration-based train_cfg.max_iters to scale')
    train_ds = _inner(base.train_dataloader.dataset)
    val_ds = _inner(base.val_dataloader.dataset)
    batch_size = batch_size or base.train_dataloader.batch_size
    old_crop = next((tuple(s['crop_size']) for s in train_ds.get('pipeline', [])
                     if s.get('type') == 'RandomCrop'), None)
    crop = tuple(crop) if crop else old_crop
    if crop is None:
        raise ConfigError("the model config's train pipeline has no RandomCrop: give --crop")
    sizes = list(report.sizes.elements())
    if scale is None:
        scale = (int(statistics.median(max(s) for s in sizes)),
                 int(statistics.median(min(s) for s in sizes)))
    scale = (max(scale), min(scale))

    root = osp.abspath(report.root)
    splits = report.layout.splits
    notes = [f'data: {report.root}: {", ".join(f"{s} {n}" for s, n in report.pairs.items())} '
             f'pairs; masks: {FORMAT_NAMES[report.format]}; classes: {report.class_source}']
    header = [f'# A config for the data in {root}, written by segkit config new:',
              f'#   {command}' if command else None,
              f'# The model and its recipe are {base_path.parent.name}/{base_path.name}',
              '# (segkit configs), inherited below; this file sets what depends on the data.']

    def dataset(subset: str, pipeline: str) -> dict:
        dirs = splits.get(subset) or splits.get('train') or splits['all']
        ds: dict = dict(_delete_=True, type='FolderSegDataset', data_root=Ref('data_root'),
                        data_prefix=dict(img_path=dirs.img_dir, seg_map_path=dirs.mask_dir))
        if held_out and subset in ('train', 'val'):
            ds.update(subset=subset, val_every=val_every)
        ds.update(metainfo=dict(classes=Ref('classes'), palette=Ref('palette'))
                  if palette else dict(classes=Ref('classes')),
                  reduce_zero_label=reduce_zero_label)
        if colors:  # also for pipelines built elsewhere (segkit compare, robustness)
            ds.update(mask_colors=Ref('palette'), ignore_colors=Ref('ignore_colors'))
        if ignore_index != 255:
            ds['ignore_index'] = ignore_index
        ds['pipeline'] = Ref(pipeline)
        return ds

    held_out = 'val' not in splits
    if held_out:
        from segkit.datasets.folder import holdout, pair_files

        dirs = splits.get('train') or splits['all']
        pairs = pair_files(report.root, dirs).pairs
        val = holdout(pairs, val_every, 'val')
        shown = ', '.join(osp.basename(p.img) for p in val[:3]) + (' ...' if len(val) > 3 else '')
        said = (f'no val folder: validation holds out every {val_every}th pair by sorted name '
                f'({len(val)} of {len(pairs)}: {shown}); training uses the other '
                f'{len(pairs) - len(val)}')
        notes.append(f'validation: {said}')
        header.append(f'# Validation: {said} (FolderSegDataset(subset=, val_every=)); make a '
                      'val folder for a split of your own.')
    else:
        notes.append(f'validation: the val folder ({report.pairs.get("val", 0)} pairs)')
    test_subset = 'test' if splits.get('test') and splits['test'].mask_dir else 'val'

    first = 1 if reduce_zero_label else 0  # a palette PNG's colour of class 0
    palette = (table.palette if table is not None and table.colors is not None else
               report.palette[first:first + len(report.classes)] if report.palette else None)
    leaf: dict[str, Any] = {'_base_': base_reference(base_path),
                            'data_root': root, 'classes': tuple(report.classes)}
    if palette:
        leaf['palette'] = palette
    if colors:
        leaf['ignore_colors'] = [list(c) for c in table.ignore_colors] if table else []
    leaf['num_classes'] = len(report.classes)
    leaf['crop_size'] = crop
    leaf['img_scale'] = scale
    old_scale = next((tuple(s['scale']) for s in val_ds.get('pipeline', [])
                      if s.get('type') == 'Resize' and 'scale' in s), None)
    for key, steps in (('train_pipeline', train_ds.get('pipeline', [])),
                       ('test_pipeline', val_ds.get('pipeline', [])),
                       ('tta_pipeline', base.get('tta_pipeline'))):
        if steps:
            leaf[key] = _rewrite(steps, crop, scale, old_scale, ignore_index, colors)
    leaf['train_dataloader'] = dict(batch_size=batch_size,
                                    dataset=dataset('train', 'train_pipeline'))
    leaf['val_dataloader'] = dict(dataset=dataset('val', 'test_pipeline'))
    leaf['test_dataloader'] = (Ref('val_dataloader') if test_subset == 'val' else
                               dict(dataset=dataset('test', 'test_pipeline')))
    model_cfg = base.model
    model: dict[str, Any] = dict(data_preprocessor=dict(size=Ref('crop_size')))
    if ignore_index != 255:
        model['data_preprocessor']['seg_pad_val'] = ignore_index
    model.update(_heads(model_cfg, len(report.classes), ignore_index))
    test_cfg = model_cfg.get('test_cfg') or {}
    if test_cfg.get('mode') == 'slide':
        model['test_cfg'] = dict(crop_size=Ref('crop_size'),
                                 stride=(crop[0] * 2 // 3, crop[1] * 2 // 3))
    leaf['model'] = model
    if ignore_index != 255:
        for key in ('val_evaluator', 'test_evaluator'):
            leaf[key] = dict(ignore_index=ignore_index)

    # the schedule, scaled
    factor = iters / old_iters
    leaf['train_cfg'] = dict(max_iters=iters)
    if base.train_cfg.get('val_interval'):
        leaf['train_cfg']['val_interval'] = min(iters, max(1, round(
            base.train_cfg.val_interval * factor)))
    if base.get('param_scheduler'):
        schedulers = base.param_scheduler
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
        leaf['param_scheduler'] = scale_schedule([dict(s) for s in schedulers], old_iters, iters)
    hooks: dict[str, Any] = {}
    checkpoint = (base.get('default_hooks') or {}).get('checkpoint') or {}
    if checkpoint.get('interval'):
        # scaled, but not more often than every 20th of the run (saving costs)
        hooks['checkpoint'] = dict(interval=min(iters, max(1, iters // 20, round(
            checkpoint['interval'] * factor))))
    logger = (base.get('default_hooks') or {}).get('logger') or {}
    if logger.get('interval') and logger['interval'] > max(1, iters // 10):
        hooks['logger'] = dict(interval=max(1, iters // 10))
    if hooks:
        leaf['default_hooks'] = hooks
    notes.append(f'schedule: {iters} iterations of batch {batch_size} (the recipe: {old_iters} '
                 f'of {base.train_dataloader.batch_size}); schedulers scaled by {factor:.4g}; '
                 f'validation every {leaf["train_cfg"].get("val_interval", "-")}, checkpoints '
                 f'every {hooks.get("checkpoint", {}).get("interval", "-")} iterations')
    if old_crop and crop != old_crop:
        notes.append(f'crop: {crop[0]}x{crop[1]} (the recipe: {old_crop[0]}x{old_crop[1]}); '
                     f'images resized to {scale[0]}x{scale[1]} (long x short edge) first')
    small = min(min(s) for s in sizes)
    if small < min(crop):
        notes.append(f'note: the smallest image ({small} px) is smaller than the crop '
                     f'{crop[0]}x{crop[1]}: crops are padded (--crop, --scale)')
    for key, value in (cfg_options or {}).items():
        _set(leaf, key, value)

    header += [
        f'# Data: {FORMAT_NAMES[report.format]}; classes: {report.class_source}; ignore index '
        f'{ignore_index}; '
        f'reduce_zero_label {reduce_zero_label} (segkit data check {report.root}).',
        f'# Schedule: {iters} iterations (the recipe trains {old_iters}), its schedulers scaled '
        f'by {factor:.4g}.',
        TENSORBOARD]
    body = []
    for key, value in leaf.items():
        if key == 'train_pipeline':
            body.append('')
        if key == 'train_dataloader' or key == 'model' or key == 'train_cfg':
            body.append('')
        body.append(f'{key} = {_py(value, 0)}')
    text = '\n'.join([h for h in header if h is not None] + body) + '\n'

    out = Path(out) if out else Path(_default_name(base_path.name, report.root, batch_size,
                                                   iters, crop))
    if out.exists() and not force:
        raise ConfigError(f'{out} exists: choose another --out, or --force to overwrite it')

    def save(tmp: Path) -> None:
        tmp.write_text(text, encoding='utf-8')
        load_config(tmp)  # it loads (its base found), or nothing is written

    atomic_save(out, save, suffix='.py')
    notes.append(f'next: segkit train {shlex.quote(str(out))}  (--tensorboard for TensorBoard)')
    return NewConfig(out, base_path, notes, text)
