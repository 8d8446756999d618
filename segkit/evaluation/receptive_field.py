"""What a backbone looks at: effective receptive field and occlusion sensitivity.

Effective receptive field (Luo, Li, Urtasun, Zemel, "Understanding the
Effective Receptive Field in Deep Convolutional Neural Networks", NeurIPS
2016): the gradient of one output pixel's score with respect to the input,
its magnitude summed over channels and averaged over images; its size is
summarised as the radius of the disc around the pixel that holds 50 % / 95 %
of the gradient mass. Occlusion sensitivity (Zeiler, Fergus, "Visualizing and
Understanding Convolutional Networks", ECCV 2014): how much the score at the
pixel drops when a patch elsewhere is covered.

The score is the logit of the class the model predicts at that output pixel
(the centre of the map unless said otherwise). :func:`gradient_map` and
:func:`occlusion_map` take any function from (N, C, H, W) images to
(N, K, h, w) scores, so they work on hand-built networks as on segmentors.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from segkit.utils.io import atomic_save_figure, atomic_write_text, pyplot
from segkit.utils.tables import markdown_table

from .predict import test_pipeline

__all__ = ['ReceptiveField', 'gradient_map', 'mass_radius', 'occlusion_map',
           'receptive_field_of', 'write_receptive_field_report']

Scores = Callable[[torch.Tensor], torch.Tensor]


def _centre(scores: torch.Tensor) -> tuple[int, int]:
    return scores.shape[-2] // 2, scores.shape[-1] // 2


def _input_point(point: tuple[int, int], out_size: tuple[int, int],
                 in_size: tuple[int, int]) -> tuple[float, float]:
    """Where output pixel ``point`` sits in input pixels (centres aligned)."""
    return tuple((p + 0.5) * i / o - 0.5 for p, o, i in zip(point, out_size, in_size))


def gradient_map(fn: Scores, x: torch.Tensor, point: tuple[int, int] | None = None
                 ) -> tuple[torch.Tensor, tuple[float, float]]:
    """|d score / d input| summed over channels: (H, W), and the input point.

    Args:
        fn: (1, C, H, W) image -> (1, K, h, w) scores.
        x: One image, (1, C, H, W).
        point: Output pixel (row, column); default the centre.
    """
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        scores = fn(x)
        point = point or _centre(scores)
        cls = scores[0, :, point[0], point[1]].argmax()
        (grad,) = torch.autograd.grad(scores[0, cls, point[0], point[1]], x)
    return (grad[0].abs().sum(0).detach(),
            _input_point(point, tuple(scores.shape[-2:]), tuple(x.shape[-2:])))


@torch.no_grad()
def occlusion_map(fn: Scores, x: torch.Tensor, point: tuple[int, int] | None = None,
                  patch: int = 16, stride: int = 8, fill: float = 0.0,
                  batch: int = 32) -> torch.Tensor:
    """Score drop at ``point`` when a ``patch`` x ``patch`` square is filled
    with ``fill`` (0: the mean colour after normalisation), for squares every
    ``stride`` pixels: (H, W), each pixel the mean drop of the squares that
    cover it. The covered images run ``batch`` at a time."""
    scores = fn(x)
    point = point or _centre(scores)
    cls = scores[0, :, point[0], point[1]].argmax()
    clean = scores[0, cls, point[0], point[1]]
    h, w = x.shape[-2:]
    squares = [(slice(max(top, 0), min(top + patch, h)), slice(max(left, 0), min(left + patch, w)))
               for top in range(-(patch // 2), h - patch // 2, stride)
               for left in range(-(patch // 2), w - patch // 2, stride)]
    total = torch.zeros(h, w, device=x.device)
    count = torch.zeros(h, w, device=x.device)
    for start in range(0, len(squares), batch):
        chunk = squares[start:start + batch]
        covered = x.repeat(len(chunk), 1, 1, 1)
        for i, (rows, cols) in enumerate(chunk):
            covered[i, :, rows, cols] = fill
        drops = clean - fn(covered)[:, cls, point[0], point[1]]
        for drop, (rows, cols) in zip(drops, chunk):
            total[rows, cols] += drop
            count[rows, cols] += 1
    return total / count.clamp_min(1)


def mass_radius(weights: torch.Tensor, centre: tuple[float, float],
                fractions: Sequence[float] = (0.5, 0.95)) -> list[float]:
    """Radii of the discs around ``centre`` holding ``fractions`` of the mass
    of the non-negative (H, W) ``weights``, in pixels."""
    h, w = weights.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                            torch.arange(w, dtype=torch.float64), indexing='ij')
    dist = ((ys - centre[0]) ** 2 + (xs - centre[1]) ** 2).sqrt().flatten()
    order = dist.argsort()
    mass = weights.double().flatten()[order].cumsum(0)
    mass = mass / mass[-1].clamp_min(1e-30)
    return [float(dist[order][int(torch.searchsorted(mass, f).clamp(max=len(mass) - 1))])
            for f in fractions]


@dataclass
class ReceptiveField:
    """One model's figures; the maps are averages over the images."""

    r50: float
    r95: float
    support: tuple[int, int]       # rows, columns with a non-zero gradient
    occlusion_r50: float
    images: int
    gradient: np.ndarray           # (H, W), normalised to sum 1
    occlusion: np.ndarray          # (H, W) mean score drop
    centre: tuple[float, float]


def _segmentor_scores(model: torch.nn.Module) -> Scores:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return model(x, mode='tensor')
    return fn


def receptive_field_of(model: torch.nn.Module, images: Sequence[np.ndarray],
                       patch: int = 16, stride: int = 8,
                       progress: bool = True) -> ReceptiveField:
    """Effective receptive field and occlusion sensitivity of a segmentor
    (from :func:`segkit.apis.inference.load_segmentor`) at the centre of the
    score map, averaged over ``images`` (BGR uint8, as read from disk). Each
    image goes through the config's test pipeline and data preprocessor, so
    the maps are in the pipeline's working size; images of another working
    size than the first are resized to it."""
    from tqdm import tqdm

    pipeline, fn = test_pipeline(model), _segmentor_scores(model)
    device = next(model.parameters()).device
    grads, occlusions, centre = [], [], None
    for image in tqdm(images, desc='receptive field', unit='img', disable=not progress):
        item = pipeline(dict(img=np.ascontiguousarray(image)))
        data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                            data_samples=[item['data_samples']]))
        x = data['inputs'].to(device).float()
        if grads and x.shape[-2:] != grads[0].shape:
            x = torch.nn.functional.interpolate(x, size=grads[0].shape, mode='bilinear',
                                                align_corners=False)
        grad, point = gradient_map(fn, x)
        centre = centre or point
        grads.append(grad / grad.sum().clamp_min(1e-30))
        occlusions.append(occlusion_map(fn, x, patch=patch, stride=stride))
    gradient = torch.stack(grads).mean(0).cpu()
    occlusion = torch.stack(occlusions).mean(0).cpu()
    rows, cols = (gradient > 0).any(1).sum(), (gradient > 0).any(0).sum()
    r50, r95 = mass_radius(gradient, centre)
    (occ50,) = mass_radius(occlusion.clamp_min(0), centre, (0.5,))
    return ReceptiveField(r50, r95, (int(rows), int(cols)), occ50, len(images),
                          gradient.numpy(), occlusion.numpy(), centre)


def write_receptive_field_report(results: dict[str, ReceptiveField],
                                 out_dir: str | os.PathLike) -> str:
    """receptive_field.{json,md,png}: one column per model, the gradient map
    (log scale) above the occlusion map. Returns the Markdown table."""
    plt = pyplot()
    out = Path(out_dir)
    text = markdown_table(
        ['model', 'ERF radius 50 % (px)', 'ERF radius 95 % (px)', 'gradient support (px)',
         'occlusion radius 50 % (px)', 'images'],
        [[name, f'{r.r50:.1f}', f'{r.r95:.1f}', f'{r.support[0]}x{r.support[1]}',
          f'{r.occlusion_r50:.1f}', r.images] for name, r in results.items()]) + '\n'
    summary = {name: {k: v for k, v in asdict(r).items() if k not in ('gradient', 'occlusion')}
               for name, r in results.items()}
    atomic_write_text(out / 'receptive_field.md', text)
    atomic_write_text(out / 'receptive_field.json', json.dumps(summary, indent=2))
    fig, axes = plt.subplots(2, len(results), figsize=(3.0 * len(results), 6.0), squeeze=False)
    for column, (name, r) in enumerate(results.items()):
        top, bottom = axes[0][column], axes[1][column]
        top.imshow(np.log10(r.gradient + 1e-7), cmap='magma')
        top.set_title(f'{name}\nERF r50 {r.r50:.0f}px, r95 {r.r95:.0f}px', fontsize=7)
        bottom.imshow(r.occlusion, cmap='viridis')
        bottom.set_title(f'occlusion: score drop (r50 {r.occlusion_r50:.0f}px)', fontsize=7)
        for ax in (top, bottom):
            ax.plot(r.centre[1], r.centre[0], 'c+', markersize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle('What each model looks at, for the centre pixel', fontsize=9)
    fig.tight_layout()
    atomic_save_figure(fig, out / 'receptive_field.png')
    return text
