"""Train a segmentor: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]

Multi-GPU: torchrun --nproc_per_node=8 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import os

from mmengine.config import DictAction

from segkit.utils.cli import run_cli


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor (mmengine Runner).')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where to save logs and checkpoints')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--skip-bad-samples', type=float, metavar='FRACTION',
                        help='skip unreadable/invalid training samples (logged) until more '
                             'than FRACTION of the dataset is bad; default: stop at the first')
    parser.add_argument('--on-nan', choices=['raise', 'skip'], default='raise',
                        help='a NaN/Inf loss stops training (default) or skips that step')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    import segkit.mmseg  # noqa: F401  (fixes + registration)
    from segkit.apis import train

    work_dir = train(args.config, work_dir=args.work_dir, resume=args.resume, amp=args.amp,
                     cfg_options=args.cfg_options, launcher=args.launcher,
                     on_non_finite=args.on_nan, skip_bad_samples=args.skip_bad_samples)
    print(f'work dir: {work_dir}')


if __name__ == '__main__':
    run_cli(main)
