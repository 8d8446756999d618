"""Multi-scale deformable attention modules: mmcv 2.1.0's
``MultiScaleDeformableAttention`` (what mmdet 3.x and mmseg 1.x configs
build: Mask2Former's pixel decoder), Deformable DETR's ``MSDeformAttn`` and
DCNv4's ``FlashDeformAttn``, over one core (:mod:`.core`).

Zhu et al., "Deformable DETR", ICLR 2021, arXiv 2010.04159; Cheng et al.,
"Mask2Former", CVPR 2022, arXiv 2112.01527; Xiong et al., "Efficient
Deformable ConvNets" (DCNv4, FlashInternImage), CVPR 2024, arXiv 2401.06197.

Each predicts, per query, head, level and point, an offset from the query's
reference point and an attention weight (softmax over levels x points
jointly), samples the projected value there and projects the result back.
Parameter names are the originals' (``sampling_offsets``,
``attention_weights``, ``value_proj``, ``output_proj``), so their state
dicts load unchanged.
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn as nn

from ..deform_sampling import Impl
from .core import multi_scale_deformable_attn

__all__ = ['FlashDeformAttn', 'MSDeformAttn', 'MultiScaleDeformableAttention']


def _sampling_grid(heads: int, levels: int, points: int) -> torch.Tensor:
    """The originals' initial offsets, (heads, levels, points, 2) as (x, y):
    head h looks along (cos, sin)(2 pi h / heads), scaled so the larger
    component is 1, point p at (p + 1) times that. Computed in float32, as
    the originals do (-4.37e-8 where 0 is meant)."""
    thetas = torch.arange(heads, dtype=torch.float32) * (2.0 * math.pi / heads)
    grid = torch.stack([thetas.cos(), thetas.sin()], -1)
    grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(heads, 1, 1, 2)
    grid = grid.repeat(1, levels, points, 1)
    for p in range(points):
        grid[:, :, p, :] *= p + 1
    return grid


class _Attention(nn.Module):
    """What the three modules share: the layers, their initialisation and
    the sampling (locations from reference points, the weights' softmax)."""

    def _build(self, embed_dims: int, num_heads: int, num_levels: int, num_points: int,
               value_dims: int, impl: Impl) -> None:
        if embed_dims % num_heads or value_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) and the value dims ({value_dims}) '
                             f'must be divisible by num_heads ({num_heads})')
        self.embed_dims, self.num_heads = embed_dims, num_heads
        self.num_levels, self.num_points, self.impl = num_levels, num_points, impl
        self.sampling_offsets = nn.Linear(embed_dims, num_heads * num_levels * num_points * 2)
        self.attention_weights = nn.Linear(embed_dims, num_heads * num_levels * num_points)
        self.value_proj = nn.Linear(embed_dims, value_dims)
        self.output_proj = nn.Linear(value_dims, embed_dims)
        self._reset()

    def _reset(self) -> None:
        """The originals' initialisation: zero offset weights and the
        sampling grid as their bias, zero attention weights (uniform after
        the softmax), xavier-uniform projections with zero bias."""
        with torch.no_grad():
            nn.init.zeros_(self.sampling_offsets.weight)
            self.sampling_offsets.bias.copy_(
                _sampling_grid(self.num_heads, self.num_levels, self.num_points).view(-1))
            nn.init.zeros_(self.attention_weights.weight)
            nn.init.zeros_(self.attention_weights.bias)
            for layer in (self.value_proj, self.output_proj):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)

    def _locations(self, query: torch.Tensor, reference_points: torch.Tensor,
                   spatial_shapes: torch.Tensor) -> torch.Tensor:
        """(bs, nq, heads, levels, points, 2): the reference point plus the
        offset, in pixels of each level (2-d references) or relative to the
        reference box (4-d: cx, cy, w, h)."""
        bs, nq, _ = query.shape
        offsets = self.sampling_offsets(query).view(bs, nq, self.num_heads, self.num_levels,
                                                    self.num_points, 2)
        if reference_points.shape[-1] == 2:
            normaliser = torch.stack([spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)
            return (reference_points[:, :, None, :, None, :]
                    + offsets / normaliser[None, None, None, :, None, :])
        if reference_points.shape[-1] == 4:
            return (reference_points[:, :, None, :, None, :2]
                    + offsets / self.num_points * reference_points[:, :, None, :, None, 2:] * 0.5)
        raise ValueError('Last dim of reference_points must be 2 or 4, but get '
                         f'{reference_points.shape[-1]} instead.')

    def _weights(self, query: torch.Tensor) -> torch.Tensor:
        """(bs, nq, heads, levels, points), softmax over levels x points."""
        bs, nq, _ = query.shape
        logits = self.attention_weights(query).view(bs, nq, self.num_heads, -1)
        return logits.softmax(-1).view(bs, nq, self.num_heads, self.num_levels, self.num_points)

    def _attend(self, query: torch.Tensor, value: torch.Tensor,
                reference_points: torch.Tensor, spatial_shapes: torch.Tensor,
                level_start_index: torch.Tensor | None,
                padding_mask: torch.Tensor | None) -> torch.Tensor:
        """Batch-first query (bs, nq, E) and value (bs, S, E) -> (bs, nq, E)."""
        bs, keys, _ = value.shape
        value = self.value_proj(value)
        if padding_mask is not None:
            value = value.masked_fill(padding_mask[..., None], 0.0)
        value = value.view(bs, keys, self.num_heads, -1)
        locations = self._rounded(self._locations(query, reference_points, spatial_shapes))
        out = multi_scale_deformable_attn(value, spatial_shapes, level_start_index, locations,
                                          self._weights(query), self.impl)
        return self.output_proj(out)

    def _rounded(self, locations: torch.Tensor) -> torch.Tensor:
        return locations


class MultiScaleDeformableAttention(_Attention):
    """mmcv 2.1.0's ``MultiScaleDeformableAttention`` (mmdet 3.x's and mmseg
    1.x's Mask2Former pixel decoder), on segkit's core: the same
    constructor, submodules, initialisation, forward and state dict.

    Args:
        embed_dims: Query and output channels.
        num_heads: Attention heads.
        num_levels: Feature levels.
        num_points: Sampling points per head and level.
        im2col_step: Accepted for mmcv's signature (how its CUDA kernel
            batches); no effect.
        dropout: Dropout on the output before the residual.
        batch_first: Query, value and identity are (bs, n, E); else (n, bs, E).
        norm_cfg: Accepted for mmcv's signature; unused, as in mmcv.
        init_cfg: Kept for mmengine (``mmcv.ops``'s class, which segkit's
            mmcv stand-in serves, is an mmengine ``BaseModule``).
        value_proj_ratio: ``value_proj``'s width relative to ``embed_dims``.
        impl: Core implementation (see :func:`multi_scale_deformable_attn`).

    Example:
        >>> attn = MultiScaleDeformableAttention(32, num_heads=4, num_levels=2,
        ...                                      batch_first=True)
        >>> shapes = torch.tensor([[8, 8], [4, 4]])
        >>> query = torch.randn(2, 80, 32)
        >>> attn(query, reference_points=torch.rand(2, 80, 2, 2),
        ...      spatial_shapes=shapes).shape
        torch.Size([2, 80, 32])
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8, num_levels: int = 4,
                 num_points: int = 4, im2col_step: int = 64, dropout: float = 0.1,
                 batch_first: bool = False, norm_cfg: dict | None = None,
                 init_cfg: dict | None = None, value_proj_ratio: float = 1.0,
                 impl: Impl = 'auto') -> None:
        super().__init__()
        self.init_cfg = init_cfg
        self.norm_cfg, self.im2col_step, self.batch_first = norm_cfg, im2col_step, batch_first
        self.dropout = nn.Dropout(dropout)
        self._build(embed_dims, num_heads, num_levels, num_points,
                    int(embed_dims * value_proj_ratio), impl)

    def init_weights(self) -> None:
        """mmcv's initialisation (what mmdet's pixel decoder calls again)."""
        self._reset()
        self._is_init = True

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, identity: torch.Tensor | None = None,
                query_pos: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None,
                reference_points: torch.Tensor | None = None,
                spatial_shapes: torch.Tensor | None = None,
                level_start_index: torch.Tensor | None = None,
                **kwargs: object) -> torch.Tensor:
        """mmcv's forward.

        Args:
            query: (nq, bs, E), or (bs, nq, E) with ``batch_first``.
            key: Ignored (as in mmcv).
            value: (num_keys, bs, E) or batch first; defaults to ``query``
                (before ``query_pos`` is added).
            identity: Added to the output; defaults to ``query`` (before
                ``query_pos``).
            query_pos: Added to the query before the offsets and weights.
            key_padding_mask: (bs, num_keys), True where a key is padding
                (its projected value becomes 0); always batch first.
            reference_points: (bs, nq, num_levels, 2) normalised (x, y), or
                (..., 4) boxes (cx, cy, w, h); always batch first.
            spatial_shapes: (num_levels, 2), each level's (H, W).
            level_start_index: (num_levels,); implied by ``spatial_shapes``.

        Returns:
            ``dropout(output_proj(attention)) + identity``, in the query's layout.
        """
        if 'residual' in kwargs:  # mmcv's deprecated name (deprecated_api_warning)
            warnings.warn('"residual" is deprecated in `MultiScaleDeformableAttention.forward`, '
                          'please use "identity" instead', DeprecationWarning, stacklevel=2)
            identity = kwargs.pop('residual')
        if value is None:
            value = query
        if identity is None:
            identity = query
        if query_pos is not None:
            query = query + query_pos
        if not self.batch_first:
            query, value = query.permute(1, 0, 2), value.permute(1, 0, 2)
        out = self._attend(query, value, reference_points, spatial_shapes, level_start_index,
                           key_padding_mask)
        if not self.batch_first:
            out = out.permute(1, 0, 2)
        return self.dropout(out) + identity


class MSDeformAttn(_Attention):
    """Deformable DETR's ``MSDeformAttn(d_model, n_levels, n_heads, n_points)``
    (also Mask2Former's copy), on segkit's core: batch first, no residual.

    Example:
        >>> attn = MSDeformAttn(32, n_levels=2, n_heads=4, n_points=4)
        >>> shapes = torch.tensor([[8, 8], [4, 4]])
        >>> attn(torch.randn(2, 5, 32), torch.rand(2, 5, 2, 2), torch.randn(2, 80, 32),
        ...      shapes, torch.tensor([0, 64])).shape
        torch.Size([2, 5, 32])
    """

    def __init__(self, d_model: int = 256, n_levels: int = 4, n_heads: int = 8,
                 n_points: int = 4, impl: Impl = 'auto') -> None:
        super().__init__()
        self.d_model, self.n_levels, self.n_heads, self.n_points = (d_model, n_levels, n_heads,
                                                                    n_points)
        self._build(d_model, n_heads, n_levels, n_points, d_model, impl)

    def _reset_parameters(self) -> None:
        """The original's name for the initialisation."""
        self._reset()

    def forward(self, query: torch.Tensor, reference_points: torch.Tensor,
                input_flatten: torch.Tensor, input_spatial_shapes: torch.Tensor,
                input_level_start_index: torch.Tensor,
                input_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """(bs, nq, C) queries, (bs, nq, L, 2|4) reference points, (bs, S, C)
        flattened levels, their (L, 2) shapes and start indices, (bs, S)
        padding mask (True = padding) -> (bs, nq, C)."""
        return self._attend(query, input_flatten, reference_points, input_spatial_shapes,
                            input_level_start_index, input_padding_mask)


class FlashDeformAttn(MSDeformAttn):
    """DCNv4's ``FlashDeformAttn`` (FlashInternImage's detection and
    Mask2Former heads): ``MSDeformAttn`` whose kernel receives the sampling
    locations rounded to float16 (the original's ``.half()`` before packing
    them with the attention logits; autograd rounds their gradient the same
    way), reproduced here; the softmax over levels x points that its kernel
    does is the shared one. Same arguments and state dict as
    :class:`MSDeformAttn`.
    """

    def _rounded(self, locations: torch.Tensor) -> torch.Tensor:
        # NOTE: the original casts to float16 whatever the input's dtype
        return locations.half().to(locations.dtype)
