"""PSANet's point-wise spatial attention mask, pure PyTorch, as mmcv 2.1.0 lays it out.

Zhao et al., "PSANet: Point-wise Spatial Attention Network for Scene
Parsing", ECCV 2018 (https://hszhao.github.io/papers/eccv18_psanet.pdf).

PSANet predicts, at every feature position q = (h, w), a window of
``mask_size`` = (h_mask, w_mask) attention weights centred on q (centre
index ((h_mask - 1) // 2, (w_mask - 1) // 2)). ``PSAMask`` places each window
over the whole (H, W) map, with zeros outside it, so that the attention is a
plain (H*W, H*W) matrix:

    input  (N, h_mask*w_mask, H, W), channel k = i*w_mask + j: window entry (i, j)
    output (N, H*W, H, W)

    collect:    output[n, p, q] = input[n, k, q]
    distribute: output[n, q, p] = input[n, k, q]

where p = q + (i, j) - centre must fall inside the map (p and q flattened
row-major over (H, W)). Distribute is collect with its two H*W axes swapped.
These are the semantics of mmcv's ``psamask_{collect,distribute}_forward``
kernels (CPU and CUDA, mmcv 2.1.0), themselves from hszhao/semseg.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['PSAMask', 'psa_mask']

PSA_TYPES = ('collect', 'distribute')


def _window_index(size: int, mask: int, device: torch.device) -> torch.Tensor:
    """(size, size) window index of feature index p for centre q.

    ``p - q + (mask - 1) // 2`` where it lies in [0, mask), ``mask`` (the
    zero padding) where p is outside q's window.
    """
    pos = torch.arange(size, device=device)
    index = pos.view(-1, 1) - pos.view(1, -1) + (mask - 1) // 2
    return index.masked_fill((index < 0) | (index >= mask), mask)


def psa_mask(input: torch.Tensor, psa_type: str,
             mask_size: int | tuple[int, int]) -> torch.Tensor:
    """Spreads per-position attention windows over the whole map.

    Args:
        input: (N, h_mask*w_mask, H, W) window weights.
        psa_type: ``'collect'`` or ``'distribute'`` (see the module docstring).
        mask_size: (h_mask, w_mask), or one int for both.

    Returns:
        (N, H*W, H, W).
    """
    if psa_type not in PSA_TYPES:
        raise ValueError(f'psa_type must be one of {PSA_TYPES}, got {psa_type!r}')
    h_mask, w_mask = (mask_size, mask_size) if isinstance(mask_size, int) else mask_size
    n, channels, height, width = input.shape
    if channels != h_mask * w_mask:
        raise ValueError(f'input has {channels} channels, mask_size {(h_mask, w_mask)} '
                         f'needs h_mask * w_mask = {h_mask * w_mask}')
    rows = _window_index(height, h_mask, input.device)  # (p_h, q_h)
    cols = _window_index(width, w_mask, input.device)  # (p_w, q_w)
    # one zero window row and column for the positions outside the window
    x = F.pad(input.reshape(n, h_mask, w_mask, height, width), (0, 0, 0, 0, 0, 1, 0, 1))
    # NOTE: the row and column look-ups are separate gathers with expanded
    # (stride-0) indices, so no (H*W, H*W) index is ever materialised; the
    # output is the only tensor of that size.
    if psa_type == 'collect':
        # (n, i, j, q_h, q_w) -> (n, p_h, j, q_h, q_w) -> (n, p_h, p_w, q_h, q_w)
        x = x.gather(1, rows.view(1, height, 1, height, 1).expand(
            n, height, w_mask + 1, height, width))
        x = x.gather(2, cols.view(1, 1, width, 1, width).expand(
            n, height, width, height, width))
    else:
        # (n, q_h, q_w, i, j) -> (n, q_h, q_w, p_h, j) -> (n, q_h, q_w, p_h, p_w)
        x = x.permute(0, 3, 4, 1, 2)
        x = x.gather(3, rows.t().view(1, height, 1, height, 1).expand(
            n, height, width, height, w_mask + 1))
        x = x.gather(4, cols.t().view(1, 1, width, 1, width).expand(
            n, height, width, height, width))
    return x.reshape(n, height * width, height, width)


class PSAMask(nn.Module):
    """``mmcv.ops.PSAMask``: window weights to a full (H*W, H*W) attention map.

    Args:
        psa_type: ``'collect'`` or ``'distribute'``.
        mask_size: (h_mask, w_mask) of the predicted windows, or one int for
            both. (mmcv's default, None, fails at the first forward; here
            the argument is required.)

    Example:
        >>> mask = PSAMask('collect', (7, 9))
        >>> mask(torch.randn(2, 63, 5, 6)).shape
        torch.Size([2, 30, 5, 6])
    """

    def __init__(self, psa_type: str, mask_size: int | tuple[int, int]) -> None:
        super().__init__()
        if psa_type not in PSA_TYPES:
            raise ValueError(f'psa_type must be one of {PSA_TYPES}, got {psa_type!r}')
        self.psa_type = psa_type
        self.psa_type_enum = PSA_TYPES.index(psa_type)  # mmcv's 0 / 1
        self.mask_size = mask_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """Places the windows.

        Args:
            input: (N, h_mask*w_mask, H, W).

        Returns:
            (N, H*W, H, W).
        """
        return psa_mask(input, self.psa_type, self.mask_size)

    def extra_repr(self) -> str:
        return f'psa_type={self.psa_type}, mask_size={self.mask_size}'
