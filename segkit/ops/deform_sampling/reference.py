"""Deformable sampling by ``grid_sample``: the originals' pure-PyTorch formulation.

One ``grid_sample`` over all points, then the masked sum over each group's
points; it keeps the (N*G, C', H*W*K) sampled tensor for backward. The
testing reference, and the path tracers (ONNX export, FLOP counters) see.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .positions import Samples

__all__ = ['sample_reference']


def sample_reference(input: torch.Tensor, s: Samples) -> torch.Tensor:
    """``out[..., g*C' + c] = sum_k mask * bilinear(input[..., g*C' + c], x, y)``,
    zeros outside the image; (N, H_out, W_out, G*C')."""
    n, h, w, group, k = s.n, s.h, s.w, s.group, s.points
    # grid_sample, align_corners=False: pixel centre i sits at (2i + 1) / size - 1
    grid = torch.stack(((2 * s.x + 1) / w - 1, (2 * s.y + 1) / h - 1), dim=-1)
    grid = grid.permute(0, 3, 1, 2, 4, 5).reshape(n * group, s.h_out, s.w_out * k, 2)
    grid = grid.to(input.dtype)
    value = input.view(n, h, w, group, s.group_channels).permute(0, 3, 4, 1, 2)
    value = value.reshape(n * group, s.group_channels, h, w)
    sampled = F.grid_sample(value, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False)
    sampled = sampled.view(n, group, s.group_channels, s.h_out, s.w_out, k)
    weight = s.mask.permute(0, 3, 1, 2, 4).unsqueeze(2)
    out = (sampled * weight).sum(-1)  # (N, G, C', H_out, W_out)
    return out.permute(0, 3, 4, 1, 2).reshape(n, s.h_out, s.w_out, group * s.group_channels)
