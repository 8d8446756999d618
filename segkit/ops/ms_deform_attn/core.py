"""The multi-scale deformable attention core, on the shared sampling core.

Zhu et al., "Deformable DETR: Deformable Transformers for End-to-End Object
Detection", ICLR 2021, arXiv 2010.04159; Cheng et al., "Masked-attention
Mask Transformer for Universal Image Segmentation" (Mask2Former), CVPR 2022,
arXiv 2112.01527 (its pixel decoder).

For query q and head h, P points on each of L feature levels::

    out[b, q, h*D + d] = sum_{l, p} w[b, q, h, l, p] * bilinear(value_l[b, :, :, h, d], x, y)

with ``(x, y) = loc[b, q, h, l, p] * (W_l, H_l) - 0.5``: locations are
normalised over each level, (0, 0) its top-left corner and (1, 1) its
bottom-right one, so pixel centres sit at ``(i + 0.5) / W`` (``grid_sample``
with ``align_corners=False``, not DCNv3's convention); zeros outside the map.
The weights are used as they are (the modules softmax them first).

It is the shared core's gather-sum: per level, the queries are the output
pixels of a 1 x num_queries map, the heads its groups and the points its
kernel points, at precomputed positions (as DCNv3's); the levels' outputs
are summed. So the reference (``grid_sample``), gather, C++ and Triton
samplers, their dispatch, dtype rules and custom ops serve it unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from ..deform_sampling import (Impl, Implementations, Samples, run, sample_cpu, sample_gather,
                               sample_reference, sample_triton)

__all__ = ['MSDA', 'LevelShapes', 'multi_scale_deformable_attn']


@dataclass(frozen=True)
class LevelShapes:
    """The (H, W) of each feature level, in the order the keys are flattened."""

    shapes: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, spatial_shapes: torch.Tensor | list) -> 'LevelShapes':
        rows = spatial_shapes.tolist() if torch.is_tensor(spatial_shapes) else spatial_shapes
        return cls(tuple((int(h), int(w)) for h, w in rows))

    @property
    def keys(self) -> int:
        return sum(h * w for h, w in self.shapes)

    def probe(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Zero tensors like ``(value, locations, weights)`` with one image and one query."""
        value, locations, weights = tensors
        return (value.new_zeros(1, *value.shape[1:]),
                locations.new_zeros(1, 1, *locations.shape[2:]),
                weights.new_zeros(1, 1, *weights.shape[2:]))

    def check(self, value: torch.Tensor, locations: torch.Tensor,
              weights: torch.Tensor) -> None:
        """Raises ValueError unless the shapes fit these levels."""
        if value.dim() != 4:
            raise ValueError(f'value must be (bs, num_keys, num_heads, head_dims), '
                             f'got {tuple(value.shape)}')
        bs, keys, heads = value.shape[:3]
        if keys != self.keys:
            raise ValueError(f'value has {keys} keys; the levels {list(self.shapes)} hold '
                             f'{self.keys}')
        if locations.dim() != 6 or locations.shape[-1] != 2 or (
                locations.shape[0], locations.shape[2], locations.shape[3]) != (
                bs, heads, len(self.shapes)):
            raise ValueError('sampling_locations must be (bs, num_queries, num_heads, '
                             f'num_levels, num_points, 2) = ({bs}, nq, {heads}, '
                             f'{len(self.shapes)}, P, 2), got {tuple(locations.shape)}')
        if tuple(weights.shape) != tuple(locations.shape[:-1]):
            raise ValueError(f'attention_weights must be {tuple(locations.shape[:-1])}, got '
                             f'{tuple(weights.shape)}')


def _levels(value: torch.Tensor, locations: torch.Tensor, weights: torch.Tensor,
            g: LevelShapes) -> Iterator[tuple[torch.Tensor, Samples]]:
    """Each level's channels-last value map and its samples, as the shared
    samplers take them: (N, 1, num_queries, heads, points)."""
    g.check(value, locations, weights)
    bs, _, heads, channels = value.shape
    queries, points = locations.shape[1], locations.shape[4]
    # NOTE: split / unbind, not one slice per level: their backward assembles
    # each gradient once instead of adding a zero-padded full-size copy per level
    values = value.split([h * w for h, w in g.shapes], dim=1)
    for (h, w), value_l, loc, weight in zip(g.shapes, values, locations.unbind(3),
                                            weights.unbind(3)):
        x, y = (loc * loc.new_tensor([w, h]) - 0.5).unsqueeze(1).unbind(-1)
        # pixel centres at (i + 0.5) / size -> pixels with centres at integers
        yield value_l.reshape(bs, h, w, heads * channels), Samples(
            x, y, weight.unsqueeze(1), bs, h, w, 1, queries, heads, channels, points)


def _summed(sampler: Callable[[torch.Tensor, Samples], torch.Tensor]
            ) -> Callable[..., torch.Tensor]:
    def fn(value: torch.Tensor, locations: torch.Tensor, weights: torch.Tensor,
           g: LevelShapes) -> torch.Tensor:
        out = None
        for value_l, samples in _levels(value, locations, weights, g):
            level = sampler(value_l, samples)
            out = level if out is None else out + level
        return out.view(value.shape[0], locations.shape[1], -1)
    return fn


# the implementations 'auto' chooses from (tests replace some of them)
MSDA = Implementations('MultiScaleDeformableAttention', reference=_summed(sample_reference),
                       cpu=_summed(sample_cpu), triton=_summed(sample_triton),
                       gather=_summed(sample_gather))


def multi_scale_deformable_attn(value: torch.Tensor, spatial_shapes: torch.Tensor | list,
                                level_start_index: torch.Tensor | None,
                                sampling_locations: torch.Tensor,
                                attention_weights: torch.Tensor,
                                impl: Impl = 'auto') -> torch.Tensor:
    """Multi-scale deformable attention (the module docstring's formula).

    Args:
        value: (bs, num_keys, num_heads, head_dims), the levels' maps
            flattened row-major, level after level.
        spatial_shapes: (num_levels, 2), each level's (H, W).
        level_start_index: (num_levels,), where each level's keys start;
            implied by ``spatial_shapes`` and accepted for the originals'
            signature.
        sampling_locations: (bs, num_queries, num_heads, num_levels,
            num_points, 2), normalised (x, y).
        attention_weights: (bs, num_queries, num_heads, num_levels, num_points).
        impl: ``'auto'``, ``'cpu'``, ``'triton'``, ``'gather'`` or
            ``'reference'`` (:mod:`segkit.ops.deform_sampling.dispatch`;
            ``SEGKIT_DEFORM_IMPL`` overrides ``'auto'``). Every implementation
            samples in float32 (float64 for float64 inputs) and returns
            ``value``'s dtype.

    Returns:
        (bs, num_queries, num_heads * head_dims).

    Example:
        >>> value = torch.randn(2, 6 * 6 + 3 * 3, 4, 8)
        >>> loc = torch.rand(2, 5, 4, 2, 3, 2)
        >>> weights = torch.rand(2, 5, 4, 2, 3)
        >>> multi_scale_deformable_attn(value, [[6, 6], [3, 3]], None, loc, weights).shape
        torch.Size([2, 5, 32])
    """
    return run(MSDA, (value, sampling_locations, attention_weights),
               LevelShapes.of(spatial_shapes), impl)
