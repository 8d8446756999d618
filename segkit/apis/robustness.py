"""Robustness studies of trained segmentors: occlusion, or common corruptions.

Kamann & Rother, "Benchmarking the Robustness of Semantic Segmentation
Models", CVPR 2020 (corruptions, mCE / mRR); the occlusion protocol covers a
fraction of each image (or of each object) and reports mIoU on all, occluded
and visible pixels.

:func:`robustness_study` is what ``segkit robustness`` runs: it loads each
model, checks its test data, runs the study and writes the report.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

__all__ = ['OCCLUSION_SEVERITIES', 'RobustnessReport', 'robustness_study', 'thing_ids']

# percent of each image (or object) covered, clean included
OCCLUSION_SEVERITIES = (0, 10, 20, 30, 40, 50)


@dataclass
class RobustnessReport:
    """What a study wrote: the Markdown report, one line per model, the files."""

    markdown: str
    lines: list[str] = field(default_factory=list)
    files: str = ''


def thing_ids(classes: Sequence[str], names: Sequence[str] | None) -> list[int] | None:
    """Class indices of the objects: ``names``, or a known dataset's things
    (:mod:`segkit.datasets.things`); None means every class.

    Raises:
        ValueError: a name that is not a class of the dataset.
    """
    classes = tuple(classes)
    if names:
        unknown = sorted(set(names) - set(classes))
        if unknown:
            raise ValueError(f'--thing-classes {unknown} are not classes of this dataset: '
                             f'{", ".join(classes)}')
        return [classes.index(n) for n in names]
    from segkit.datasets.things import known_things

    things = known_things(classes)
    return None if things is None else [classes.index(n) for n in things]


def robustness_study(pairs: Sequence[tuple[str, str]], out_dir: str | os.PathLike,
                     corruptions: Sequence[str] | None = None,
                     severities: Sequence[float] | None = None, baseline: str | None = None,
                     occluder: str = 'rectangles', thing_classes: Sequence[str] | None = None,
                     fill: str = 'constant', seed: int = 0, max_images: int | None = None,
                     workers: int = 0, device: str = 'cpu', progress: bool = True,
                     bootstrap: int = 1000) -> RobustnessReport:
    """Evaluates every (config, checkpoint) pair and writes the report.

    Without ``corruptions``: occlusion at ``severities`` percent (default
    :data:`OCCLUSION_SEVERITIES`) by ``occluder`` (``'rectangles'`` anywhere
    or ``'objects'``, on the connected components of ``thing_classes``),
    written as robustness.{md,csv,json,png}. With ``corruptions`` ('all',
    'benchmark' or names): mIoU per corruption and severity (default 1-5),
    mRR, and with ``baseline`` (a model, by config name) mCE, written as
    corruptions.{md,csv,json,png} and corruption_summary.png.

    Every figure comes with a 95 % bootstrap interval over the test images
    (``bootstrap`` resamples; 0: none) and, with several models, each
    model's paired difference to the baseline (the first model without one)
    with a Holm-adjusted p-value and a verdict: mRR and mCE (corruptions),
    clean and mean occluded mIoU (occlusion); a forest plot and each model's
    per-image counts (per_image_stats/<model>.npz) are written beside.

    Raises:
        ValueError: a bad corruption name or severity, a baseline that is
            not one of the models or a negative ``bootstrap``; checked before
            any model is loaded.
        DataNotFoundError: a model's test data is missing.
    """
    from segkit.evaluation.corruptions import SEVERITIES, check_severities, corruption_names

    from .inference import load_segmentor
    from .runner import check_data_roots

    names = [Path(config).stem for config, _ in pairs]
    corruptions = corruption_names(corruptions) if corruptions else None
    if baseline is not None and baseline not in names:
        raise ValueError(f'--baseline {baseline!r} is not one of the models: {", ".join(names)}')
    if bootstrap < 0:
        raise ValueError(f'--bootstrap must be 0 (no intervals) or more, got {bootstrap}')
    if corruptions:
        severities = check_severities(severities or SEVERITIES)
    results, lines = {}, []
    for name, (config, checkpoint) in zip(names, pairs, strict=True):
        model = load_segmentor(config, checkpoint, device)
        check_data_roots(model.cfg, ('test',))
        if corruptions:
            from segkit.evaluation.corruption_benchmark import evaluate_corruptions

            results[name] = evaluate_corruptions(model, corruptions, severities, seed,
                                                 max_images, workers, progress=progress)
            spent = results[name].seconds
            lines.append(f'{name}: making corrupted images {spent["perturbing"]:.0f} s (summed '
                         f'over {max(workers, 1)} process(es)), segmenting '
                         f'{spent["predicting"]:.0f} s')
        else:
            from segkit.evaluation import evaluate_robustness

            things = thing_ids(model.dataset_meta['classes'], thing_classes)
            results[name] = evaluate_robustness(
                model, severities or OCCLUSION_SEVERITIES, fill, seed, max_images,
                occluder=occluder, thing_classes=things, workers=workers, progress=progress)
    if corruptions:
        from segkit.evaluation.corruption_benchmark import write_corruption_report

        markdown = write_corruption_report(results, out_dir, baseline, bootstrap)
        return RobustnessReport(markdown, lines, 'corruptions.{md,csv,json,png}, '
                                                 'corruption_summary.png'
                                + (', corruption_forest.png' if bootstrap and len(results) > 1
                                   else '') + (' and per_image_stats/' if bootstrap else ''))
    from segkit.evaluation import write_robustness_report

    summaries = write_robustness_report(results, out_dir, fill, occluder, bootstrap,
                                        baseline=baseline)
    lines += [f'{name}: clean {s["clean_mIoU"]:.2f}, occluded mean '
              f'{s["mean_occluded_mIoU"]:.2f}, ratio {s["ratio_to_clean"]:.3f}'
              for name, s in summaries.items()]
    return RobustnessReport((Path(out_dir) / 'robustness.md').read_text(), lines,
                            'robustness.{md,csv,json,png}'
                            + (', robustness_forest.png' if bootstrap and len(results) > 1
                               else '') + (' and per_image_stats/' if bootstrap else ''))
