"""A run's loss and mIoU curves as a PNG, for users without TensorBoard.

mmengine's ``LocalVisBackend`` (in every segkit runtime) logs each run's
scalars to ``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON object
per line: training lines hold ``loss`` (and each head's losses) at their
``step``, validation lines ``mIoU``. :func:`plot_training_curves` draws them
for all runs in a work dir (a resumed run continues the curve; a later run
replaces the steps it repeats) into ``<work_dir>/training_curves.png``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from segkit.utils.io import atomic_save_figure, pyplot

__all__ = ['read_scalars', 'plot_training_curves']

CURVES_FILE = 'training_curves.png'


def read_scalars(work_dir: str | os.PathLike) -> tuple[dict[int, dict], dict[int, dict]]:
    """``(train, val)``: step -> scalars, from every run's ``scalars.json`` in
    ``work_dir`` (oldest first, so later runs win); unreadable lines are skipped."""
    train: dict[int, dict] = {}
    val: dict[int, dict] = {}
    for path in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        for line in path.read_text(encoding='utf-8').splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if not isinstance(record, dict) or 'step' not in record:
                continue
            target = val if 'mIoU' in record else train if 'loss' in record else None
            if target is not None:
                target[int(record['step'])] = record
    return train, val


def plot_training_curves(work_dir: str | os.PathLike, path: str | os.PathLike | None = None
                         ) -> Path | None:
    """Draws the loss (each logged loss term too) and the validation mIoU
    over the iterations; returns the PNG's path, or None when nothing was logged.

    Args:
        work_dir: The training work dir.
        path: The PNG to write (default ``<work_dir>/training_curves.png``).
    """
    train, val = read_scalars(work_dir)
    if not train and not val:
        return None
    plt = pyplot()
    fig, (loss_ax, miou_ax) = plt.subplots(1, 2, figsize=(10, 3.6), layout='constrained')
    steps = sorted(train)
    terms = sorted({k for r in train.values() for k in r if '.loss' in k})
    terms = terms if len(terms) > 1 else []  # one term is the loss itself
    if steps:
        loss_ax.plot(steps, [train[s].get('loss') for s in steps], label='loss', color='black')
        for term in terms:
            loss_ax.plot(steps, [train[s].get(term) for s in steps], label=term, linewidth=0.8)
        loss_ax.legend(fontsize='small')
    loss_ax.set(xlabel='iteration', ylabel='training loss', title='loss')
    if val:
        vsteps = sorted(val)
        miou_ax.plot(vsteps, [val[s]['mIoU'] for s in vsteps], marker='o', color='tab:green')
        best = max(vsteps, key=lambda s: val[s]['mIoU'])
        miou_ax.annotate(f'{val[best]["mIoU"]:.2f}', (best, val[best]['mIoU']),
                         textcoords='offset points', xytext=(0, 6), ha='center')
    else:
        miou_ax.text(0.5, 0.5, 'no validation yet', ha='center', va='center',
                     transform=miou_ax.transAxes)
    miou_ax.set(xlabel='iteration', ylabel='mIoU (%)', title='validation mIoU')
    fig.suptitle(Path(os.path.abspath(work_dir)).name)
    return atomic_save_figure(fig, path or Path(work_dir) / CURVES_FILE)
