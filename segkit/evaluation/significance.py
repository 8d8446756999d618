"""Intervals and paired tests for the figures segkit's comparisons report.

One model is one or more training runs (seeds) of a config, each evaluated
on the same test images, clean and perturbed (:class:`RunCounts`: the
per-image counts of every condition). :func:`significance` resamples the
images once for all models and the seeds per model
(:class:`~segkit.evaluation.statistics.ImageBootstrap`), computes every
figure from the resampled counts (clean mIoU, mean occluded mIoU, mRR and
mCE with the formulas of :mod:`.corruption_metrics`, per-class IoU), and
compares each model with the baseline: the paired difference, its 95 %
percentile interval and a two-sided p-value, Holm-adjusted over the models
for each figure (the methods and their references: :mod:`.statistics`).

What this does not cover: another test set (the images are resampled from
this one: a dataset of another domain can rank models otherwise), another
schedule or recipe, and, with one run per model, the spread of training
runs (seeds): the report says which.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .corruption_metrics import corruption_errors, relative_robustness
from .statistics import (LEVEL, Difference, ImageBootstrap, ImageCounts, Resampled,
                         compare_to_baseline)

__all__ = ['FIGURES', 'RunCounts', 'differences_table', 'forest_plot', 'interval_text',
           'p_text', 'per_class_markdown', 'significance', 'significance_notes',
           'significance_section']

# figure -> (label, higher is better)
FIGURES = {'clean_mIoU': ('clean mIoU', True), 'occluded_mIoU': ('occluded mIoU (mean)', True),
           'mRR': ('mRR', True), 'mCE': ('mCE', False)}


@dataclass
class RunCounts:
    """One run's per-image counts: clean, under occlusion (severity in
    percent, > 0) and under corruptions (name -> severity)."""

    clean: ImageCounts
    occluded: dict[float, ImageCounts] = field(default_factory=dict)
    corrupted: dict[str, dict[int, ImageCounts]] = field(default_factory=dict)

    @classmethod
    def of(cls, severities: Sequence[object] = (), corruption: object = None) -> RunCounts:
        """From an occlusion study's ``SeverityResult`` list (severity 0 is
        clean) and / or a ``CorruptionResult`` (its ``'clean'`` counts)."""
        clean = None
        occluded = {}
        for result in severities:
            if result.severity == 0:
                clean = result.counts
            else:
                occluded[float(result.severity)] = result.counts
        corrupted: dict[str, dict[int, ImageCounts]] = {}
        if corruption is not None:
            clean = clean or corruption.counts['clean']
            for key, counts in corruption.counts.items():
                if key != 'clean':
                    corrupted.setdefault(key[0], {})[key[1]] = counts
        if clean is None:
            raise ValueError('no clean evaluation (severity 0) to compare')
        return cls(clean, occluded, corrupted)

    def save(self, path: str | os.PathLike) -> Path:
        """``per_image_stats.npz``: the clean counts, the perturbed ones as
        variants ``'occlusion/<severity>'`` and ``'<corruption>/<severity>'``."""
        variants = {f'occlusion/{s:g}': c for s, c in self.occluded.items()}
        variants.update({f'{name}/{s}': c for name, per in self.corrupted.items()
                         for s, c in per.items()})
        return self.clean.save(path, variants)


def _model_figures(boot: ImageBootstrap, runs: Sequence[RunCounts]) -> dict[str, Resampled]:
    """One model's resampled figures; the same seed draws for every condition."""
    draws = boot.seed_draws(len(runs))
    miou, iou = boot.figures([r.clean for r in runs], draws)
    out = {'clean_mIoU': miou, 'class_iou': iou}
    severities = sorted(runs[0].occluded)
    if severities:
        levels = [boot.miou([r.occluded[s] for r in runs], draws) for s in severities]
        out['occluded_mIoU'] = levels[0].apply(lambda *v: np.mean(np.stack(v), axis=0),
                                               *levels[1:])
    if runs[0].corrupted:
        out['table'] = {name: {s: boot.miou([r.corrupted[name][s] for r in runs], draws)
                               for s in per} for name, per in runs[0].corrupted.items()}
        table = out['table']
        out['mRR'] = Resampled(
            relative_robustness(_values(table, 'value'), out['clean_mIoU'].value)[1],
            relative_robustness(_values(table, 'samples'), out['clean_mIoU'].samples)[1])
    return out


def _values(table: dict[str, dict[int, Resampled]], what: str) -> dict[str, dict[int, object]]:
    return {name: {s: getattr(r, what) for s, r in per.items()} for name, per in table.items()}


def _mce(model: dict, base: dict) -> Resampled:
    """mCE of ``model`` against ``base``, on the figures and on each replicate."""
    return Resampled(*(
        corruption_errors(_values(model['table'], what), getattr(model['clean_mIoU'], what),
                          _values(base['table'], what), getattr(base['clean_mIoU'], what))['mCE']
        for what in ('value', 'samples')))


def _pair(interval: np.ndarray) -> list[float]:
    return [float(interval[0]), float(interval[1])]


def significance(models: Mapping[str, Sequence[RunCounts]], baseline: str | None = None,
                 resamples: int = 1000, seed: int = 0, level: float = LEVEL) -> dict[str, dict]:
    """Every model's figures with intervals and, but for the baseline, its
    paired differences to the baseline.

    Args:
        models: Per model, its runs (one per seed) on the same test images.
        baseline: The model the others are compared with (default: the first).
        resamples: Bootstrap resamples.
        seed: Of the bootstrap's draws.
        level: Of the intervals and tests.

    Returns:
        Per model, JSON-ready: ``seeds``, ``test_images``, each figure
        (``clean_mIoU``, and where measured ``occluded_mIoU``, ``mRR``,
        ``mCE`` against the baseline) with ``<figure>_ci95``; ``seed_std``
        of the clean mIoU (several seeds); for all but the baseline
        ``delta_<figure>``, ``delta_<figure>_ci95``, ``<figure>_p_value``
        (Holm-adjusted over the models), ``<figure>_p_value_unadjusted``,
        ``<figure>_verdict``, with the clean mIoU's also as ``delta_ci95``,
        ``p_value`` and ``verdict``; and ``per_class``.

    Raises:
        ValueError: no models, a bad baseline or resample count, models
            evaluated on different images or with different perturbations.
    """
    if not models:
        raise ValueError('no models to compare')
    if resamples < 1:
        raise ValueError(f'the bootstrap needs at least one resample, got {resamples}')
    baseline = next(iter(models)) if baseline is None else baseline
    if baseline not in models:
        raise ValueError(f'baseline {baseline!r} is not one of the models: {", ".join(models)}')
    first = next(iter(models.values()))[0]
    shape = (sorted(first.occluded), {n: sorted(p) for n, p in first.corrupted.items()})
    for name, runs in models.items():
        for run in runs:
            if (sorted(run.occluded), {n: sorted(p) for n, p in run.corrupted.items()}) != shape:
                raise ValueError(f'{name} was evaluated under other perturbations than '
                                 f'{next(iter(models))}')
    boot = ImageBootstrap(first.clean.img_names or [str(i) for i in
                                                    range(first.clean.num_images)],
                          resamples, seed)
    figures = {name: _model_figures(boot, runs) for name, runs in models.items()}
    if shape[1]:
        for name in figures:
            figures[name]['mCE'] = _mce(figures[name], figures[baseline])
    out: dict[str, dict] = {}
    for name, runs in models.items():
        entry: dict[str, object] = dict(seeds=len(runs), test_images=boot.weights.shape[1])
        if len(runs) > 1:
            entry['seed_std'] = float(np.std([r.clean.miou() for r in runs], ddof=1))
        for key in FIGURES:
            if key in figures[name]:
                entry[key] = float(figures[name][key].value)
                entry[f'{key}_ci95'] = _pair(figures[name][key].interval(level))
        out[name] = entry
    for key, (_, higher) in FIGURES.items():
        if key not in figures[baseline]:
            continue
        diffs = compare_to_baseline({n: f[key] for n, f in figures.items()}, baseline,
                                    higher, level)
        for name, d in diffs.items():
            out[name].update(_difference(key, d))
    classes = first.clean.class_names or [str(i) for i in
                                          range(first.clean.area_intersect.shape[1])]
    base_cls = figures[baseline]['class_iou']
    for name in (n for n in models if n != baseline):
        cls = figures[name]['class_iou']
        delta = cls.apply(np.subtract, base_cls)
        lo, hi = delta.interval(level)
        out[name]['per_class'] = [
            {'class': c, 'baseline_IoU': _num(b), 'IoU': _num(v), 'delta': _num(d),
             'ci95': [_num(x), _num(y)], 'clear': bool(x > 0 or y < 0)}
            for c, b, v, d, x, y in zip(classes, base_cls.value, cls.value, delta.value, lo, hi)]
    for entry in out.values():
        entry['baseline'] = baseline
    return out


def _num(value: float) -> float | None:
    """A JSON number, None for NaN (a class neither labelled nor predicted)."""
    return None if value is None or math.isnan(value) else float(value)


def _difference(key: str, d: Difference) -> dict[str, object]:
    out = {f'delta_{key}': d.delta, f'delta_{key}_ci95': list(d.ci95),
           f'{key}_p_value': d.p_value, f'{key}_p_value_unadjusted': d.p_value_unadjusted,
           f'{key}_verdict': d.verdict}
    if key == 'clean_mIoU':  # the short names of the main figure
        out.update(delta_ci95=list(d.ci95), p_value=d.p_value, p_value_adjustment='holm',
                   verdict=d.verdict)
    return out


def interval_text(value: float, ci: Sequence[float] | None, digits: int = 2,
                  sign: bool = False) -> str:
    """``'57.97 [56.10, 59.80]'`` (``sign``: ``'+0.25 [-0.40, +0.91]'``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    form = f'{{:{"+" if sign else ""}.{digits}f}}'
    text = form.format(value)
    if ci is not None and all(v is not None for v in ci):
        text += f' [{form.format(ci[0])}, {form.format(ci[1])}]'
    return text


def p_text(p: float) -> str:
    """A p-value as a report shows it."""
    return 'n/a' if p is None or math.isnan(p) else ('< 0.001' if p < 0.001 else f'{p:.3f}')


def differences_table(stats: Mapping[str, dict], figures: Sequence[str]) -> str:
    """One row per model but the baseline: each figure's paired difference
    with its interval, Holm-adjusted p-value and verdict."""
    from segkit.utils.tables import markdown_table

    baseline = next(iter(stats.values()))['baseline']
    headers = ['model', 'seeds']
    for key in figures:
        label = FIGURES[key][0]
        headers += [f'{label}: difference [95 % CI]', f'{label}: p (Holm)', f'{label}: verdict']
    rows = []
    for name, s in stats.items():
        if name == baseline:
            continue
        row = [name, str(s['seeds'])]
        for key in figures:
            row += [interval_text(s[f'delta_{key}'], s[f'delta_{key}_ci95'], sign=True),
                    p_text(s[f'{key}_p_value']), s[f'{key}_verdict']]
        rows.append(row)
    return markdown_table(headers, rows, align='lr' + 'rrl' * len(figures))


def significance_notes(stats: Mapping[str, dict], resamples: int) -> list[str]:
    """What the intervals and tests are, in a few lines of Markdown."""
    entry = next(iter(stats.values()))
    baseline, images = entry['baseline'], entry['test_images']
    seeds = sorted({s['seeds'] for s in stats.values()})
    lines = [f'- Intervals: 95 % percentile bootstrap over the {images} test images '
             f'({resamples} resamples; mIoU recomputed from the resampled per-image '
             'intersections and unions, as mmseg computes it). Differences are paired (the '
             f'same resampled images for every model) against {baseline}; p-values are '
             f'two-sided and Holm-adjusted over the {len(stats) - 1} comparison(s) with the '
             'baseline; the verdict is "better" or "worse" where the adjusted p < 0.05.']
    if seeds == [1]:
        lines.append('- One training run per model: seed-to-seed variation is not included '
                     '(train with `segkit train --seed N` and pass every work dir to include '
                     'it).')
    else:
        lines.append('- Models with several seeds: the figure is the mean over seeds; the '
                     'intervals resample seeds, then images (hierarchical bootstrap). Models '
                     'with one seed: seed-to-seed variation is not included.')
    lines.append('- The intervals cover the choice of test images from the same distribution; '
                 'not another dataset, schedule or recipe (docs/comparing.md).')
    return lines


def per_class_markdown(stats: Mapping[str, dict]) -> str:
    """Per class, each model minus the baseline (IoU, percent points), with
    the classes whose 95 % interval excludes 0."""
    from segkit.utils.tables import markdown_table

    baseline = next(iter(stats.values()))['baseline']
    parts = []
    for name, s in stats.items():
        if 'per_class' not in s:
            continue
        rows = [[c['class'], interval_text(c['baseline_IoU'], None),
                 interval_text(c['IoU'], None), interval_text(c['delta'], c['ci95'], sign=True),
                 'yes' if c['clear'] else ''] for c in s['per_class']]
        clear = [f"{c['class']} ({c['delta']:+.2f})" for c in s['per_class'] if c['clear']]
        parts += [f'### {name} against {baseline}, per class (IoU)', '',
                  markdown_table(['class', f'{baseline}', f'{name}', 'difference [95 % CI]',
                                  'clear'], rows, align='lrrrl'), '',
                  'Clear differences (95 % interval excluding 0): '
                  + (', '.join(clear) if clear else 'none') + '.', '']
    if parts:
        count = len(next(s for s in stats.values() if 'per_class' in s)['per_class'])
        parts.append(f'Per-class intervals are not corrected for the {count} classes: about '
                     f'{0.05 * count:.1f} of them may look clear by chance when nothing differs.')
    return '\n'.join(parts)


def forest_plot(stats: Mapping[str, dict], figures: Sequence[str],
                path: str | os.PathLike) -> Path:
    """Each model's difference to the baseline with its 95 % interval, a line
    at 0, one panel per figure: a PNG at ``path``."""
    from segkit.utils.io import atomic_save_figure, pyplot

    plt = pyplot()
    baseline = next(iter(stats.values()))['baseline']
    names = [n for n in stats if n != baseline]
    fig, axes = plt.subplots(1, len(figures), squeeze=False,
                             figsize=(1.5 + 3.6 * len(figures), 1.2 + 0.45 * len(names)))
    for ax, key in zip(axes[0], figures):
        label, higher = FIGURES[key]
        for y, name in enumerate(names):
            s = stats[name]
            delta, (lo, hi) = s[f'delta_{key}'], s[f'delta_{key}_ci95']
            verdict = s[f'{key}_verdict']
            color = {'better': 'tab:green', 'worse': 'tab:red'}.get(verdict, 'tab:gray')
            ax.errorbar([delta], [y], xerr=[[delta - lo], [hi - delta]], fmt='o', color=color,
                        capsize=3)
        ax.axvline(0, color='k', lw=0.8)
        ends = [0.0] + [v for n in names for v in stats[n][f'delta_{key}_ci95']
                        if v is not None and not math.isnan(v)]
        pad = 0.08 * (max(ends) - min(ends)) or 0.5
        ax.set_xlim(min(ends) - pad, max(ends) + pad)
        ax.set_yticks(range(len(names)), names if ax is axes[0][0] else [], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f'{label} - {baseline} (points)'
                      + ('' if higher else ', lower is better'), fontsize=7)
        ax.grid(axis='x', alpha=0.3)
    fig.suptitle('difference to the baseline, 95 % paired bootstrap interval', fontsize=8)
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def significance_section(stats: Mapping[str, dict], figures: Sequence[str], resamples: int,
                         forest: str | os.PathLike | None = None) -> list[str]:
    """The Markdown lines of a report's comparison: the differences to the
    baseline (two models or more) and what the intervals are; with
    ``forest``, the forest plot there (two models or more)."""
    baseline = next(iter(stats.values()))['baseline']
    lines = []
    if len(stats) > 1:
        lines += [f'Against {baseline} (paired; percent points):', '',
                  differences_table(stats, figures), '']
        if forest is not None:
            forest_plot(stats, figures, forest)
    return lines + significance_notes(stats, resamples)
