"""Robustness per model: occlusion, or common corruptions (mCE / mRR).

    segkit robustness CONFIG CHECKPOINT [CONFIG CHECKPOINT ...] --out DIR
        [--occluder rectangles|objects] [--severities 0 10 20 30 40 50]
    segkit robustness CONFIG CHECKPOINT [...] --corruptions all|benchmark|NAME ...
        [--severities 1 2 3 4 5] [--baseline MODEL] [--workers 2]

Occlusion (default) covers 0, 10, ..., 50 % of each validation image with
random rectangles, or of each object's pixels with rectangles on the objects
(--occluder objects), and reports per severity the mIoU on all, on occluded
and on visible pixels, the mean over severities and its ratio to clean:
robustness.{md,csv,json,png}. With --corruptions: mIoU per corruption and
severity (imagecorruptions' definitions), mRR, and with --baseline (one of the
models, by config name) mCE and relative mCE: corruptions.{md,csv,json},
corruptions.png (heatmaps) and corruption_summary.png.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('models', nargs='+', metavar='CONFIG CHECKPOINT',
                        help='one or more config / checkpoint pairs')
    parser.add_argument('--out', default='work_dirs/robustness')
    parser.add_argument('--corruptions', nargs='+', metavar='NAME',
                        help="common corruptions: 'all' (19), 'benchmark' (the 16 of "
                             'Cityscapes-C) or names; default: occlusion')
    parser.add_argument('--severities', type=float, nargs='+',
                        help='occlusion: percent covered (default 0 10 20 30 40 50); '
                             'corruptions: 1-5 (default all five)')
    parser.add_argument('--baseline', help='corruptions: the model (config name) mCE is '
                                           'relative to')
    parser.add_argument('--occluder', choices=['rectangles', 'objects'], default='rectangles',
                        help="occlusion: random rectangles anywhere, or on each object")
    parser.add_argument('--thing-classes', nargs='+', metavar='CLASS',
                        help='--occluder objects: the classes whose connected components are '
                             'objects (default: known for Cityscapes, ADE20K and the sample '
                             'data, else every class)')
    parser.add_argument('--fill', choices=['constant', 'noise', 'mean'], default='constant')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-images', type=int, help='evaluate only the first N images')
    parser.add_argument('--workers', type=int, default=0,
                        help='processes making the perturbed images while the model runs')
    parser.add_argument('--device', default='cpu')


def thing_ids(classes: tuple[str, ...], names: list[str] | None) -> list[int] | None:
    """Class indices of the objects: ``names``, or a known dataset's things
    (:mod:`segkit.datasets.things`)."""
    if names:
        unknown = sorted(set(names) - set(classes))
        if unknown:
            raise ValueError(f'--thing-classes {unknown} are not classes of this dataset: '
                             f'{", ".join(classes)}')
        return [classes.index(n) for n in names]
    from segkit.datasets.things import known_things

    things = known_things(classes)
    return None if things is None else [classes.index(n) for n in things]


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if len(args.models) % 2:
        parser.error('models must come as CONFIG CHECKPOINT pairs')
    pairs = list(zip(args.models[::2], args.models[1::2], strict=True))
    names = [Path(config).stem for config, _ in pairs]
    from segkit.evaluation.corruptions import SEVERITIES, check_severities, corruption_names

    corruptions = corruption_names(args.corruptions) if args.corruptions else None
    if args.baseline is not None and args.baseline not in names:
        raise ValueError(f'--baseline {args.baseline!r} is not one of the models: '
                         f'{", ".join(names)}')
    if corruptions:
        severities = check_severities(args.severities or SEVERITIES)
    from segkit.apis.inference import load_segmentor
    from segkit.apis.runner import check_data_roots

    results = {}
    for name, (config, checkpoint) in zip(names, pairs, strict=True):
        model = load_segmentor(config, checkpoint, args.device)
        check_data_roots(model.cfg, ('test',))
        if corruptions:
            from segkit.evaluation.corruption_benchmark import evaluate_corruptions

            results[name] = evaluate_corruptions(model, corruptions, severities, args.seed,
                                                 args.max_images, args.workers)
            spent = results[name].seconds
            print(f'{name}: making corrupted images {spent["perturbing"]:.0f} s (summed over '
                  f'{max(args.workers, 1)} process(es)), segmenting {spent["predicting"]:.0f} s')
        else:
            from segkit.evaluation import evaluate_robustness

            things = thing_ids(tuple(model.dataset_meta['classes']), args.thing_classes)
            results[name] = evaluate_robustness(
                model, args.severities or (0, 10, 20, 30, 40, 50), args.fill, args.seed,
                args.max_images, occluder=args.occluder, thing_classes=things,
                workers=args.workers)
    if corruptions:
        from segkit.evaluation.corruption_benchmark import write_corruption_report

        print(write_corruption_report(results, args.out, args.baseline))
        print(f'corruptions.{{md,csv,json,png}} and corruption_summary.png written to {args.out}')
        return
    from segkit.evaluation import write_robustness_report

    summaries = write_robustness_report(results, args.out, args.fill, args.occluder)
    print((Path(args.out) / 'robustness.md').read_text())
    for name, s in summaries.items():
        print(f'{name}: clean {s["clean_mIoU"]:.2f}, occluded mean '
              f'{s["mean_occluded_mIoU"]:.2f}, ratio {s["ratio_to_clean"]:.3f}')
