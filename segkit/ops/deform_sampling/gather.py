"""Deformable sampling as one weighted gather-sum in pure PyTorch (``embedding_bag``).

The mask is folded into the four bilinear corner weights of every sample,
and one ``embedding_bag`` (mode 'sum', per-sample weights) over the
channels-last value table sums them. It runs wherever ``embedding_bag``
does and is fast for inference; its autograd backward is correct but slower
than ``grid_sample``'s.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .positions import Samples

__all__ = ['sample_gather']


def sample_gather(input: torch.Tensor, s: Samples) -> torch.Tensor:
    """What :func:`.reference.sample_reference` computes, as one gather-sum."""
    n, h, w, group, k = s.n, s.h, s.w, s.group, s.points
    x0, y0 = s.x.detach().floor(), s.y.detach().floor()
    fx, fy = s.x - x0, s.y - y0  # differentiable: gradients reach the offsets
    x0, y0 = x0.long(), y0.long()
    # rows of the (N*H*W*G, C') value table: ((n*H + y)*W + x)*G + g
    base = (torch.arange(n, device=input.device).view(n, 1, 1, 1, 1) * h * w * group
            + torch.arange(group, device=input.device).view(1, 1, 1, group, 1))
    indices, weights = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        cx, cy = x0 + dx, y0 + dy
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        corner = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        weights.append(corner * s.mask * inside)
        indices.append(base + (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)) * group)
    # bags: one per (n, h_out, w_out, g), holding its 4*K weighted corners
    index = torch.stack(indices, -1).view(-1, k * 4)
    weight = torch.stack(weights, -1).view(-1, k * 4).to(input.dtype)
    table = input.reshape(n * h * w * group, s.group_channels)
    out = F.embedding_bag(index, table, per_sample_weights=weight, mode='sum')
    return out.view(n, s.h_out, s.w_out, group * s.group_channels)
