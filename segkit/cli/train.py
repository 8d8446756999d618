"""Train a segmentor with mmengine's Runner.

    segkit train CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp [--amp-dtype D]]
                        [--tensorboard] [--seed N] [--cfg-options K=V ...]

After training, the loss and mIoU curves are in WORK_DIR/training_curves.png.

Multi-GPU: torchrun --nproc_per_node=8 tools/train.py CONFIG --launcher pytorch
"""
from __future__ import annotations

import argparse
import os


def add_launcher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank`` (train and test)."""
    from mmengine.config import DictAction

    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help="config file, or the name of one of segkit's configs")
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision: bfloat16 on the CPU, float16 with '
                             'loss scaling on CUDA')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'],
                        help='with --amp: the autocast dtype instead of the default')
    parser.add_argument('--skip-bad-samples', type=float, metavar='FRACTION',
                        help='skip unreadable/invalid training samples (logged) until more '
                             'than FRACTION of the dataset is bad; default: stop at the first')
    parser.add_argument('--on-nan', choices=['raise', 'skip'], default='raise',
                        help='a NaN/Inf loss stops training (default) or skips that step')
    parser.add_argument('--tensorboard', action='store_true',
                        help="log to TensorBoard too (mmengine's TensorboardVisBackend; "
                             "pip install 'segkit[tensorboard]'): tensorboard --logdir WORK_DIR")
    parser.add_argument('--seed', type=int,
                        help="the random seed (mmengine's randomness.seed; default: the "
                             "config's), recorded in the work dir's segkit_run.json")
    add_launcher_arguments(parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    from segkit.apis import train

    work_dir = train(args.config, work_dir=args.work_dir, resume=args.resume, amp=args.amp,
                     cfg_options=args.cfg_options, launcher=args.launcher,
                     on_non_finite=args.on_nan, skip_bad_samples=args.skip_bad_samples,
                     amp_dtype=args.amp_dtype, tensorboard=args.tensorboard,
                     seed=args.seed)
    print(f'work dir: {work_dir}')
