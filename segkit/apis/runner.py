"""Training and testing through mmengine's Runner, with early, clear errors.

``tools/train.py`` and ``tools/test.py`` only parse arguments and call
:func:`train` / :func:`test`. Problems a user can fix (a missing config, data
root or checkpoint) are raised as :mod:`segkit.errors` before any model is
built, with one line that says what is wrong and where.
"""
from __future__ import annotations

import contextlib
import json
import os
import os.path as osp
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config

from segkit.errors import (CheckpointNotFoundError, ConfigError, ConfigNotFoundError,
                           DataNotFoundError, SegkitError)
from segkit.models.checkpoint_utils import check_checkpoint
from segkit.utils.configs import configs_env, resolve_config
from segkit.utils.io import atomic_write_text

from .curves import plot_training_curves
from .data import check_folder_datasets

__all__ = ['RUN_RECORD', 'SegkitError', 'load_config', 'check_data_roots', 'check_model_wiring',
           'keep_per_image_stats', 'read_run_seed', 'train', 'test', 'use_tta']

# what segkit train records in a work dir beside mmengine's files (the seed)
RUN_RECORD = 'segkit_run.json'


# What each dataset type expects under its data_root, for error messages.
DATASET_LAYOUTS = {
    'ADE20KDataset': 'images/{training,validation}/*.jpg and '
                     'annotations/{training,validation}/*.png',
    'CityscapesDataset': 'leftImg8bit/{train,val}/<city>/*_leftImg8bit.png and '
                         'gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png '
                         '(made by tools/dataset_converters/cityscapes.py)',
    'SampleDataset': 'images/{training,validation}/*.jpg and '
                     'annotations/{training,validation}/*.png '
                     '(generate it with: python tools/make_sample_data.py)',
}


def load_config(config: str | os.PathLike, cfg_options: dict | None = None) -> Config:
    """Loads a config file, or a config shipped with segkit by name
    (:func:`segkit.utils.configs.resolve_config`), and merges
    ``--cfg-options`` style overrides."""
    try:
        path = resolve_config(config)
    except FileNotFoundError as e:
        raise ConfigNotFoundError(str(e)) from None
    with configs_env():  # configs of `segkit config new` name their base through it
        cfg = Config.fromfile(os.fspath(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _datasets(cfg: Config, splits: tuple[str, ...]) -> list[tuple[str, dict]]:
    found = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        dataset = loader.get('dataset') if loader else None
        # ConcatDataset / RepeatDataset wrap the real ones
        stack = [dataset] if dataset else []
        while stack:
            ds = stack.pop()
            if 'datasets' in ds:
                stack.extend(ds['datasets'])
            elif 'dataset' in ds:
                stack.append(ds['dataset'])
            else:
                found.append((split, ds))
    return found


def check_data_roots(cfg: Config, splits: tuple[str, ...] = ('train', 'val', 'test')) -> None:
    """Checks that every dataset's folders exist before anything is built.

    Raises:
        DataNotFoundError: naming the missing folder and the expected layout.
    """
    for split, ds in _datasets(cfg, splits):
        root = ds.get('data_root', '') or ''
        layout = DATASET_LAYOUTS.get(ds.get('type', ''), 'the layout of its dataset type')
        if root and not osp.isdir(root):
            raise DataNotFoundError(
                f'{split} data root not found: {root} (expected {layout})')
        for key in ('img_path', 'seg_map_path'):
            sub = (ds.get('data_prefix') or {}).get(key)
            if sub and not osp.isdir(osp.join(root, sub)):
                raise DataNotFoundError(
                    f'{split} data root {root or "."} has no {sub}/ folder '
                    f'(expected {layout})')


def _wrap_datasets(cfg: Config, skip_bad: float | None) -> None:
    """Wraps the train and val datasets in ``SafeDataset``: a bad sample is
    named (or, for training with ``skip_bad``, skipped up to that fraction)."""
    for split, skip in (('train_dataloader', skip_bad), ('val_dataloader', None)):
        loader = cfg.get(split)
        if not loader or loader.dataset.get('type') == 'SafeDataset':
            continue
        wrapped = dict(type='SafeDataset', dataset=loader.dataset, skip_bad=skip is not None)
        if skip is not None:
            wrapped['max_skip_fraction'] = skip
        loader.dataset = wrapped


def check_model_wiring(model: torch.nn.Module, size: tuple[int, int] = (64, 64)) -> None:
    """Runs one small forward pass to catch mis-wired models before training.

    Raises:
        ConfigError: naming the module whose input did not fit (for example a
            decode head whose ``in_channels`` differ from the backbone's).
    """
    entered: list[str] = []
    handles = [m.register_forward_pre_hook(lambda mod, args, name=name: entered.append(name))
               for name, m in model.named_modules() if name and not list(m.children())]
    was_training = model.training
    model.eval()
    try:
        param = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, 3, *size, device=param.device, dtype=param.dtype),
                  mode='tensor')
    except RuntimeError as e:
        where = entered[-1] if entered else 'the model'
        message = ' '.join(str(e).split())
        raise ConfigError(f'the model does not fit together at {where}: {message} '
                          '(check in_channels / in_index of the heads against the '
                          "backbone's outputs)") from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)


@contextlib.contextmanager
def distributed_session(launcher: str) -> Iterator[None]:
    """Every exit of a distributed run is clean: the process group is
    destroyed (after a barrier when the run finished), so no gloo/NCCL
    thread is left joinable at interpreter exit (the C++ runtime then aborts
    the process, 'terminate called without an active exception', and the
    launcher reports a finished job as failed). (The segkit command turns
    the SIGTERM a launcher sends its workers into an interrupt, so this runs
    then too: :func:`segkit.utils.cli.run_cli`.)"""
    if launcher == 'none':
        yield
        return
    import torch.distributed as dist

    finished = False
    try:
        yield
        finished = True
    finally:
        if dist.is_available() and dist.is_initialized():
            if finished:
                dist.barrier()  # every rank done before the group goes
            dist.destroy_process_group()


def _setup_launcher(cfg: Config, launcher: str) -> None:
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    # NOTE: mmengine 0.10.7 always calls torch.cuda.set_device and passes
    # device_ids to DDP; on a CPU-only machine use gloo and a CPU DDP wrapper.
    import torch.distributed as dist

    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if launcher == 'pytorch' and not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.model_wrapper_cfg = dict(type='CPUDistributedDataParallel')


def _set_optim_wrapper(cfg: Any, amp: bool, amp_dtype: str | None,
                       on_non_finite: str) -> str | None:
    """Chooses the optimizer wrapper for ``amp`` and this machine; returns
    the one line to log about precision (None: the config's float32).

    float16 needs mmengine's loss scaling (``AmpOptimWrapper``, CUDA only);
    bfloat16 and float32 train under segkit's non-finite guard. A config
    whose recipe trains in float16 mixed precision (``AmpOptimWrapper``, as
    the ConvNeXt recipes) runs so on CUDA; without CUDA it runs in float32,
    or in bfloat16 with ``amp``.
    """
    if amp_dtype is not None and not amp:
        raise ConfigError('amp_dtype is given without amp')
    cuda = torch.cuda.is_available()
    if amp:
        amp_dtype = amp_dtype or ('float16' if cuda else 'bfloat16')
        if amp_dtype not in ('float16', 'bfloat16'):
            raise ConfigError(f"amp dtype must be 'float16' or 'bfloat16', got {amp_dtype!r}")
        if amp_dtype == 'float16' and not cuda:
            raise ConfigError('float16 mixed precision needs CUDA (loss scaling); on the CPU '
                              'use bfloat16')
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    line = None
    if wrapper == 'AmpOptimWrapper':
        recipe = cfg.optim_wrapper.get('dtype') or 'float16'
        if cuda and (not amp or amp_dtype == recipe):
            return f'precision: {recipe} mixed precision with dynamic loss scaling, as the recipe'
        # NOTE: mmengine's AmpOptimWrapper refuses to run without CUDA
        cfg.optim_wrapper.type = wrapper = 'OptimWrapper'
        for key in ('loss_scale', 'dtype'):
            cfg.optim_wrapper.pop(key, None)
        here = ('bfloat16 autocast with float32 weights (--amp)' if amp else
                'float32 (--amp: bfloat16 autocast)')
        why = '' if cuda else ', which needs CUDA'
        line = (f'precision: the recipe trains in {recipe} mixed precision with dynamic loss '
                f'scaling{why}; this run trains in {here}')
    if amp and amp_dtype == 'float16':
        # NOTE: AMP's dynamic loss scaling already skips steps with inf gradients
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        cfg.optim_wrapper.dtype = 'float16'
        return 'precision: float16 mixed precision with dynamic loss scaling (--amp)'
    if wrapper in ('OptimWrapper', 'NonFiniteGuardOptimWrapper'):
        cfg.optim_wrapper.type = 'NonFiniteGuardOptimWrapper'
        cfg.optim_wrapper.on_non_finite = on_non_finite
        if amp:
            cfg.optim_wrapper.autocast_dtype = 'bfloat16'
            line = line or 'precision: bfloat16 autocast with float32 weights (--amp)'
        return line
    if amp:
        raise ConfigError(f'--amp with optim_wrapper type {wrapper!r}: set the mixed '
                          'precision in the config instead')
    return None


def _check_start_checkpoint(cfg: Config, model: torch.nn.Module) -> None:
    """The checkpoint training starts from, checked against the model before
    mmengine loads it: a resumed one must fit exactly (one line naming what
    does not); a ``load_from`` may fit in part (fine-tuning another head),
    which is said in one line, but not at all."""
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import find_latest_checkpoint

    path = cfg.get('load_from')
    if cfg.get('resume') and not path:
        path = find_latest_checkpoint(cfg.work_dir)
    if not path or not osp.isfile(path):
        return
    said = check_checkpoint(model, path, strict=bool(cfg.get('resume')))
    if said:
        print_log(f'load_from: {said} (the rest is loaded)', logger='current', level=30)


def train(config: str | os.PathLike, work_dir: str | None = None,
          resume: str | bool | None = None, amp: bool = False,
          cfg_options: dict | None = None, launcher: str = 'none',
          on_non_finite: str = 'raise', skip_bad_samples: float | None = None,
          amp_dtype: str | None = None, tensorboard: bool = False,
          seed: int | None = None) -> Path:
    """Trains a model from a config with mmengine's Runner.

    Args:
        config: Path of the config file.
        work_dir: Where logs and checkpoints go; defaults to
            ``work_dirs/<config name>``.
        resume: ``'auto'`` or True to resume from the latest checkpoint in
            ``work_dir``, a path to resume from that checkpoint, None to start
            afresh.
        amp: Train with automatic mixed precision: bfloat16 autocast (no
            loss scaling) on the CPU, float16 with dynamic loss scaling
            (mmengine's ``AmpOptimWrapper``) on CUDA. A config that asks for
            float16 AMP itself (the ConvNeXt recipes) gets it on CUDA and
            trains in float32 (bfloat16 with ``amp``) without; one log line
            says which precision runs.
        cfg_options: Overrides merged into the config.
        launcher: ``'none'`` or ``'pytorch'`` (torchrun), ``'slurm'``, ``'mpi'``.
        on_non_finite: What a NaN/Inf loss does: ``'raise'`` stops before the
            update, naming the step; ``'skip'`` drops the update.
        skip_bad_samples: None stops at the first unreadable or invalid
            training sample, naming its files; a fraction skips bad samples
            (logged and counted) until more than that fraction are bad.
        amp_dtype: ``'float16'`` (CUDA only) or ``'bfloat16'`` instead of
            the device's default for ``amp``.
        tensorboard: Log to TensorBoard too (mmengine's
            ``TensorboardVisBackend``, in ``<work_dir>/<timestamp>/vis_data``).
        seed: mmengine's ``randomness.seed`` (None: the config's). The seed
            the run uses is recorded in ``<work_dir>/segkit_run.json``
            (:func:`read_run_seed`), so ``segkit compare`` can pool the runs
            of one config trained with different seeds.

    A folder dataset (``FolderSegDataset``) is checked whole first, as
    ``segkit data check`` does: bad data is refused before anything is
    built, one line naming the file. After training, the loss and mIoU
    curves are drawn into ``<work_dir>/training_curves.png``.

    Returns:
        The work directory.
    """
    from mmengine.logging import print_log
    from mmengine.runner import Runner

    cfg = load_config(config, cfg_options)
    check_data_roots(cfg, ('train', 'val'))
    check_folder_datasets(_datasets(cfg, ('train', 'val')))
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(os.fspath(config)))[0])
    if tensorboard:
        _add_tensorboard(cfg)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    precision = _set_optim_wrapper(cfg, amp, amp_dtype, on_non_finite)
    if precision:
        print_log(precision, logger='current')
    if resume in (True, 'auto'):
        cfg.resume = True
        cfg.load_from = None
    elif resume:
        if not osp.isfile(resume):
            raise CheckpointNotFoundError(f'checkpoint to resume from not found: {resume}')
        cfg.resume = True
        cfg.load_from = resume
    _wrap_datasets(cfg, skip_bad_samples)
    hooks = list(cfg.get('custom_hooks', []))
    if not any(h.get('type') == 'RNGStateHook' for h in hooks):
        cfg.custom_hooks = hooks + [dict(type='RNGStateHook')]  # exact resume
    with distributed_session(launcher):
        _setup_launcher(cfg, launcher)
        runner = Runner.from_cfg(cfg)
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        check_model_wiring(model)
        _check_start_checkpoint(cfg, model)
        _record_run(cfg, config, runner.seed)
        runner.train()
        _plot_curves(cfg.work_dir)
    return Path(cfg.work_dir)


def _add_tensorboard(cfg: Config) -> None:
    """mmengine's ``TensorboardVisBackend`` beside the config's backends."""
    from segkit.utils.optional import require

    require('tensorboard', 'tensorboard')  # one line naming the extra if missing
    backends = cfg.visualizer.setdefault('vis_backends', [])
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))


def _plot_curves(work_dir: str) -> None:
    """The run's curves as a PNG (on the main process); a plot that cannot
    be drawn (no matplotlib) is one log line, not a failed training."""
    from mmengine.dist import is_main_process
    from mmengine.logging import print_log

    if not is_main_process():
        return
    try:
        path = plot_training_curves(work_dir)
    except (ImportError, OSError, ValueError) as e:
        print_log(f'training curves not drawn: {e}', logger='current', level=30)
        return
    if path is not None:
        print_log(f'training curves: {path}', logger='current')


def _record_run(cfg: Config, config: str | os.PathLike, seed: int) -> None:
    """Writes ``segkit_run.json`` (the config's name and the seed) into the
    work dir, on the main process; a resumed run keeps the first record."""
    from mmengine.dist import is_main_process

    path = Path(cfg.work_dir) / RUN_RECORD
    if not is_main_process() or (cfg.get('resume') and path.is_file()):
        return
    atomic_write_text(path, json.dumps(dict(
        config=osp.splitext(osp.basename(os.fspath(config)))[0], seed=int(seed),
        deterministic=bool((cfg.get('randomness') or {}).get('deterministic', False))),
        indent=2) + '\n')


def read_run_seed(work_dir: str | os.PathLike) -> int | None:
    """The seed a work dir was trained with: from ``segkit_run.json``, else
    the ``randomness.seed`` of the config mmengine dumped there; None when
    neither says (a random seed of an older run)."""
    work_dir = Path(work_dir)
    record = work_dir / RUN_RECORD
    if record.is_file():
        seed = json.loads(record.read_text()).get('seed')
        return None if seed is None else int(seed)
    for dumped in sorted(work_dir.glob('*.py')):
        seed = (load_config(dumped).get('randomness') or {}).get('seed')
        return None if seed is None else int(seed)
    return None


def use_tta(cfg: Config) -> None:
    """Switches ``cfg`` to its test-time augmentation: ``tta_pipeline`` for
    the test set and ``tta_model`` around the model.

    Model settings that differ under augmentation sit in
    ``tta_model.module`` and replace the model's: ConvNeXt's multi-scale
    test infers on whole images, its single-scale test with sliding windows
    (``tta_model = dict(type='SegTTAModel', module=dict(test_cfg=dict(mode='whole')))``).
    """
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    model = cfg.model
    for key, value in (cfg.tta_model.get('module') or {}).items():
        model[key] = value
    cfg.tta_model.module = model
    cfg.model = cfg.tta_model


def keep_per_image_stats(cfg: Config, path: str) -> bool:
    """Swaps mmseg's ``IoUMetric`` of the test evaluator for
    :class:`~segkit.evaluation.iou_metric.PerImageIoUMetric`, writing ``path``
    (the same metrics, and the per-image counts they sum); returns whether
    the evaluator had one."""
    from segkit.evaluation.iou_metric import PerImageIoUMetric  # noqa: F401  (registers it)

    evaluator = cfg.get('test_evaluator')
    found = False
    for metric in evaluator if isinstance(evaluator, list) else [evaluator]:
        if metric and metric.get('type') in ('IoUMetric', 'mmseg.IoUMetric'):
            metric['type'] = 'PerImageIoUMetric'
            metric['per_image_stats'] = path
            found = True
    return found


def test(config: str | os.PathLike, checkpoint: str, work_dir: str | None = None,
         out: str | None = None, show_dir: str | None = None,
         metrics_json: str | None = None, cfg_options: dict | None = None,
         launcher: str = 'none', tta: bool = False) -> dict[str, Any]:
    """Evaluates a checkpoint on the config's test set; returns the metrics.

    With mmseg's ``IoUMetric`` (every segkit config) the per-image counts
    the metrics sum are written to ``<work_dir>/per_image_stats.npz``
    (:func:`keep_per_image_stats`).

    Args:
        config: Path of the config file.
        checkpoint: Path of the checkpoint (loaded with ``weights_only=True``).
        work_dir: Where logs and ``per_image_stats.npz`` go; defaults to
            ``work_dirs/<config name>``.
        out: Folder to write the predicted label maps to.
        show_dir: Folder (under the work dir's timestamp folder) for
            visualisations of the predictions.
        metrics_json: File to write the metrics to, as JSON.
        cfg_options: Overrides merged into the config.
        launcher: As for :func:`train`.
        tta: Use the config's test-time augmentation (:func:`use_tta`).
    """
    from mmengine.runner import Runner

    cfg = load_config(config, cfg_options)
    if not osp.isfile(checkpoint):
        raise CheckpointNotFoundError(f'checkpoint not found: {checkpoint}')
    check_data_roots(cfg, ('test',))
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(os.fspath(config)))[0])
    # NOTE: loaded strictly below: the Runner's own load_from only warns
    # about missing keys, and a half-random model would be evaluated
    cfg.load_from = None
    cfg.resume = False
    if show_dir:
        hook = cfg.default_hooks.visualization
        hook.draw = True
        hook.show_dir = show_dir
        hook.interval = 1
    if out:
        cfg.test_evaluator['output_dir'] = out
        cfg.test_evaluator['keep_results'] = True
    if tta:
        use_tta(cfg)
    keep_per_image_stats(cfg, osp.join(cfg.work_dir, 'per_image_stats.npz'))
    with distributed_session(launcher):
        _setup_launcher(cfg, launcher)
        runner = Runner.from_cfg(cfg)
        # checked first: mmengine's strict loading lists every key of both models
        check_checkpoint(runner.model.module if hasattr(runner.model, 'module')
                         else runner.model, checkpoint)
        runner.load_checkpoint(checkpoint, strict=True)
        metrics = runner.test()
    # numpy scalars -> Python numbers, so the metrics serialise as JSON
    metrics = {k: v.item() if hasattr(v, 'item') else v for k, v in metrics.items()}
    if metrics_json:
        atomic_write_text(metrics_json, json.dumps(
            dict(config=os.fspath(config), checkpoint=checkpoint, metrics=metrics), indent=2))
    return metrics
