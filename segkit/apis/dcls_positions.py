"""Where did the DCLS taps go? Collect and plot learned positions per layer set."""
from __future__ import annotations

import os

import torch.nn as nn

from segkit.ops.dcls import Dcls2d, grid_positions
from segkit.utils.io import atomic_save_figure, pyplot

__all__ = ['collect_dcls_positions', 'plot_dcls_positions']


def collect_dcls_positions(model: nn.Module) -> dict[str, dict]:
    """One entry per distinct position tensor (a ConvNeXt-dcls stage shares one).

    Returns:
        ``{name: dict(x=..., y=..., size=(h, w), layers=n)}`` with ``x``, ``y``
        flat tensors of kernel-grid coordinates (centre at size // 2).
    """
    found: dict[int, dict] = {}
    for name, module in model.named_modules():
        if not isinstance(module, Dcls2d):
            continue
        entry = found.setdefault(id(module.P), dict(name=name, layers=0))
        h, w = module.dilated_kernel_size
        rows, cols = grid_positions(module.P.detach().float().cpu(), module.version)
        entry.update(x=(cols + w // 2).flatten(), y=(rows + h // 2).flatten(), size=(h, w))
        entry['layers'] += 1
    return {e.pop('name'): e for e in found.values()}


def plot_dcls_positions(positions: dict[str, dict], out: str | os.PathLike,
                        title: str = 'DCLS tap positions') -> None:
    """One panel per position set: a 2D histogram of where its taps sit (PNG)."""
    plt = pyplot()
    if not positions:
        raise ValueError('the model has no DCLS layers')
    count = len(positions)
    fig, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.4), squeeze=False)
    for ax, (name, entry) in zip(axes[0], positions.items()):
        h, w = entry['size']
        ax.hist2d(entry['x'].numpy(), entry['y'].numpy(), bins=(w, h),
                  range=((-0.5, w - 0.5), (-0.5, h - 0.5)), cmap='viridis')
        ax.set_title(f'{name}\n({entry["layers"]} layer(s), {entry["x"].numel()} taps)',
                     fontsize=8)
        ax.set_aspect('equal')
        ax.invert_yaxis()
        ax.set_xlabel('x')
        ax.set_ylabel('y')
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_figure(fig, out)
