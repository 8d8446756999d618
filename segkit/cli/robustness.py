"""mIoU under occlusion, per model.

    segkit robustness CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] --out DIR

Covers 0, 10, ..., 50 % of each validation image with random occluders
(deterministic from --seed), and reports per severity the mIoU on all, on
occluded and on visible pixels, the mean over severities and its ratio to
clean mIoU: robustness.{md,csv,json} and robustness.png (one line per model).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('models', nargs='+', metavar='CONFIG CHECKPOINT',
                        help='one or more config / checkpoint pairs')
    parser.add_argument('--out', default='work_dirs/robustness')
    parser.add_argument('--severities', type=float, nargs='+', default=[0, 10, 20, 30, 40, 50],
                        help='percent of the image area covered')
    parser.add_argument('--fill', choices=['constant', 'noise', 'mean'], default='constant')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-images', type=int, help='evaluate only the first N images')
    parser.add_argument('--device', default='cpu')


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('models must come as CONFIG CHECKPOINT pairs')
    from segkit.apis.inference import load_segmentor
    from segkit.apis.runner import check_data_roots
    from segkit.evaluation import evaluate_robustness, write_robustness_report

    results = {}
    for config, checkpoint in zip(args.models[::2], args.models[1::2], strict=True):
        model = load_segmentor(config, checkpoint, args.device)
        check_data_roots(model.cfg, ('test',))
        results[Path(config).stem] = evaluate_robustness(model, args.severities, args.fill,
                                                         args.seed, args.max_images)
    summaries = write_robustness_report(results, args.out, args.fill)
    print((Path(args.out) / 'robustness.md').read_text())
    for name, s in summaries.items():
        print(f'{name}: clean {s["clean_mIoU"]:.2f}, occluded mean '
              f'{s["mean_occluded_mIoU"]:.2f}, ratio {s["ratio_to_clean"]:.3f}')
