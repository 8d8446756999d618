"""Criss-cross attention (CCNet), pure PyTorch, with mmcv 2.1.0's semantics.

Huang et al., "CCNet: Criss-Cross Attention for Semantic Segmentation",
ICCV 2019, arXiv 1811.11721.

Every position (h, w) attends to the H + W - 1 positions of its row and its
column, itself once. ``mmcv.ops.CrissCrossAttention`` (mmcv >= 1.3.13) does
this with einsums and a -inf diagonal on the column energies so that the
position itself is counted in the row branch only; this module computes the
same thing with the same parameter names (``query_conv``, ``key_conv``,
``value_conv``, ``gamma.scale``), so mmcv-layout state dicts load unchanged.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['CrissCrossAttention', 'criss_cross_attention']


def criss_cross_attention(query: torch.Tensor, key: torch.Tensor,
                          value: torch.Tensor) -> torch.Tensor:
    """Attention of every position over its row and column (itself once).

    Args:
        query: (B, C', H, W).
        key: (B, C', H, W).
        value: (B, C, H, W).

    Returns:
        (B, C, H, W): for each (h, w), the values of the H + W - 1 positions
        in row h and column w, weighted by a softmax of their
        ``query[:, :, h, w] . key`` energies.
    """
    height = query.shape[2]
    energy_col = torch.einsum('bchw,bciw->bhwi', query, key)  # keys (i, w)
    # NOTE: (h, w) itself is in both branches; as in mmcv, its column copy is
    # masked out so that it enters the softmax once.
    self_in_col = torch.eye(height, dtype=torch.bool, device=query.device).unsqueeze(1)
    energy_col = energy_col.masked_fill(self_in_col, float('-inf'))
    energy_row = torch.einsum('bchw,bchj->bhwj', query, key)  # keys (h, j)
    attn = F.softmax(torch.cat([energy_col, energy_row], dim=-1), dim=-1)
    out = torch.einsum('bciw,bhwi->bchw', value, attn[..., :height])
    return out + torch.einsum('bchj,bhwj->bchw', value, attn[..., height:])


class _Scale(nn.Module):
    """A learnable scalar factor (``mmcv.cnn.Scale``: a 0-dim ``scale``)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class CrissCrossAttention(nn.Module):
    """Criss-cross attention block: ``x + gamma * attention(x)``.

    Queries and keys are 1x1 projections to ``in_channels // 8`` channels,
    values a 1x1 projection to ``in_channels``; ``gamma`` starts at 0, so a
    fresh block is the identity. CCNet applies it twice (``recurrence=2``) so
    that every position reaches every other one.

    Args:
        in_channels: Channels of the input (at least 8).

    Example:
        >>> cca = CrissCrossAttention(64)
        >>> cca(torch.randn(2, 64, 17, 23)).shape
        torch.Size([2, 64, 17, 23])
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        if in_channels < 8:
            raise ValueError(f'in_channels must be at least 8 (queries and keys have '
                             f'in_channels // 8 channels), got {in_channels}')
        self.query_conv = nn.Conv2d(in_channels, in_channels // 8, 1)
        self.key_conv = nn.Conv2d(in_channels, in_channels // 8, 1)
        self.value_conv = nn.Conv2d(in_channels, in_channels, 1)
        self.gamma = _Scale(0.0)
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attends over rows and columns.

        Args:
            x: (B, in_channels, H, W).

        Returns:
            (B, in_channels, H, W).
        """
        out = criss_cross_attention(self.query_conv(x), self.key_conv(x), self.value_conv(x))
        return self.gamma(out) + x

    def extra_repr(self) -> str:
        return f'in_channels={self.in_channels}'
