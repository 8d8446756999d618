"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--metrics-json FILE]

Prints mmseg's per-class IoU/Acc table and aAcc / mIoU / mAcc.
"""
import argparse
import os

from mmengine.config import DictAction

from segkit.utils.cli import run_cli


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a segmentor checkpoint.')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs (and metrics)')
    parser.add_argument('--out', help='folder to write the predicted label maps to')
    parser.add_argument('--show-dir', help='folder to write visualised predictions to')
    parser.add_argument('--metrics-json', help='write the metrics to this JSON file')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    import segkit.mmseg  # noqa: F401  (fixes + registration)
    from segkit.apis import test

    metrics = test(args.config, args.checkpoint, work_dir=args.work_dir, out=args.out,
                   show_dir=args.show_dir, metrics_json=args.metrics_json,
                   cfg_options=args.cfg_options, launcher=args.launcher, tta=args.tta)
    print('  '.join(f'{k}: {v:.2f}' for k, v in metrics.items() if isinstance(v, float)))


if __name__ == '__main__':
    run_cli(main)
