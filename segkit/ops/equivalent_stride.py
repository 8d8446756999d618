"""Equivalent stride: exact dense versions of strided networks.

Wu, Xie, Luo, "Dense CNN Learning with Equivalent Mappings", arXiv 1605.07251.

Removing a stride ``s`` from a layer (setting it to 1) makes everything after
it see a map ``s`` times denser. A later layer whose input has equivalent
stride ``e`` (its input pixels ``e`` apart in the original map sit ``e``
pixels apart in the dense one) computes exactly the original values at the
positions ``0, e, 2e, ...`` when its kernel taps are also spaced by ``e``:

* convolution: dilation ``d*e``, padding ``p*e`` (eConv);
* max pooling: the same, with -inf padding;
* average pooling: a window spaced by ``e`` with the divisor of the original
  (``count_include_pad``, ``ceil_mode``) (ePool, :class:`EAvgPool2d`);
* kernel == stride "patchify" convs: the conv rule with no padding, the map
  shrinks by ``e*(k-1)``, which only moves in-between positions;
* per-position layers (activations, 1x1 convs, eval-mode BatchNorm,
  LayerNorm over channels) need nothing;
* any translation-equivariant stride-1 layer: split the dense map into its
  ``e*e`` phases, run the layer on each, interleave (:class:`PhaseDecomposed`).

Then ``dense(x)[..., ::E, ::E] == original(x)`` in eval mode, where ``E`` is
the equivalent stride of the output. Batch statistics (train-mode BatchNorm)
and global operations are the limits: a global pooling whose result feeds
back into the spatial map cannot be made exact; one at the very end can, by
pooling only the positions that exist in the original (``::E``).

This module holds the per-layer rules, and :func:`dense_layer` applies the
rule registered for a layer's type (:func:`register_dense_rule`); the
whole-network converter is :func:`segkit.ops.densify.densify`.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.errors import DensifyError
from segkit.utils.pair import pair

__all__ = ['DenseRule', 'EAvgPool2d', 'EMaxPool2d', 'PhaseDecomposed', 'SampledGlobalPool',
           'dense_layer', 'dense_rule', 'econv2d_', 'phase_merge', 'phase_split',
           'register_dense_rule', 'run_phased', 'takes_channels_last']



def _window_counts(size: int, kernel: int, dilation: int, pad_lo: int, pad_hi: int,
                   lo: int, hi: int, stride: int, device: torch.device) -> torch.Tensor:
    """How many taps of each output window fall in ``[lo, hi]`` (1D, input coordinates)."""
    out = (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1
    start = torch.arange(out, device=device) * stride - pad_lo
    taps = start[:, None] + dilation * torch.arange(kernel, device=device)[None, :]
    return ((taps >= lo) & (taps <= hi)).sum(1)


def _ceil_extra(size: int, kernel: int, e: int, pad: int, orig_stride: int,
                stride: int, dilation: int = 1) -> int:
    """Padding after the end that ceil_mode needs on a map ``e`` times denser.

    The last original window may hang over the end (ceil_mode); its taps must
    exist in the dense map. When the stride is removed, the map is also padded
    so its size matches a same-padded sibling branch (e.g. ResNetV1d's
    ``AvgPool2d(2, 2, ceil_mode=True)`` shortcut next to a 3x3 stride-2 conv),
    without adding a sampled position that the original does not have.
    """
    orig = -(-size // e)  # the original map's size
    span = dilation * (kernel - 1) + 1
    floor_out = (orig + 2 * pad - span) // orig_stride + 1
    ceil_out = -(-(orig + 2 * pad - span) // orig_stride) + 1
    if (ceil_out - 1) * orig_stride >= orig + pad:
        ceil_out -= 1
    need = 0
    if ceil_out > floor_out:
        need = ((ceil_out - 1) * orig_stride - pad + span - 1) * e + 1 - (size + pad * e)
    if stride == 1 and orig_stride > 1:
        natural = size + 2 * pad * e - e * (span - 1)
        target = min(natural + e * (orig_stride - 1), ceil_out * e * orig_stride)
        need = max(need, target - natural)
    return max(need, 0)


class _EPool(nn.Module):
    """What both ePools share: the window on the dense map and the padding
    that ``ceil_mode``'s last window needs there."""

    def __init__(self, kernel_size: int | tuple[int, int], e: int | tuple[int, int],
                 stride: int | tuple[int, int], padding: int | tuple[int, int],
                 dilation: int | tuple[int, int], ceil_mode: bool,
                 orig_stride: int | tuple[int, int] | None) -> None:
        super().__init__()
        self.kernel_size, self.e = pair(kernel_size), pair(e)
        self.stride, self.padding = pair(stride), pair(padding)
        self.dilation = pair(dilation)
        self.orig_stride = pair(orig_stride if orig_stride is not None else stride)
        self.ceil_mode = ceil_mode

    def _extra(self, size: int, axis: int) -> int:
        if not self.ceil_mode:
            return 0
        return _ceil_extra(size, self.kernel_size[axis], self.e[axis], self.padding[axis],
                           self.orig_stride[axis], self.stride[axis], self.dilation[axis])


class EAvgPool2d(_EPool):
    """Average pooling with taps ``e`` pixels apart (ePool).

    Computes what ``nn.AvgPool2d(kernel_size, stride, padding, ceil_mode,
    count_include_pad)`` computes on the original map, at every position of a
    map that is ``e`` times denser, with output stride ``stride`` (the part of
    the original stride that is kept). The divisor reproduces PyTorch's rule:
    with ``count_include_pad`` it counts taps inside the padded input, without
    it only taps inside the input; with ``ceil_mode`` the extra last window
    counts only taps up to the padded border.

    Example:
        >>> pool = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        >>> dense = EAvgPool2d.from_pool(pool, e=2, stride=1)
        >>> x = torch.randn(1, 4, 32, 32)
        >>> torch.allclose(dense(x)[..., ::4, ::4], pool(x[..., ::2, ::2]), atol=1e-6)
        True
    """

    def __init__(self, kernel_size: int | tuple[int, int], e: int | tuple[int, int] = 1,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 orig_stride: int | tuple[int, int] | None = None) -> None:
        super().__init__(kernel_size, e, stride, padding, 1, ceil_mode, orig_stride)
        self.count_include_pad = count_include_pad

    @classmethod
    def from_pool(cls, pool: nn.AvgPool2d, e: int, stride: int) -> 'EAvgPool2d':
        if pool.divisor_override:
            raise DensifyError('AvgPool2d with divisor_override is not supported')
        return cls(pool.kernel_size, e, stride, pool.padding, pool.ceil_mode,
                   pool.count_include_pad, orig_stride=pool.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (eh, ew), (ph, pw) = self.kernel_size, self.e, self.padding
        h, w = x.shape[-2:]
        xh, xw = self._extra(h, 0), self._extra(w, 1)
        x = F.pad(x, (pw * ew, pw * ew + xw, ph * eh, ph * eh + xh))
        c = x.shape[1]
        ones = x.new_ones(c, 1, kh, kw)
        total = F.conv2d(x, ones, stride=self.stride, dilation=(eh, ew), groups=c)
        # divisor per output row / column: taps inside the (padded) input
        lo_h, lo_w = (-ph * eh, -pw * ew) if self.count_include_pad else (0, 0)
        hi_h = h - 1 + (ph * eh if self.count_include_pad else 0)
        hi_w = w - 1 + (pw * ew if self.count_include_pad else 0)
        count_h = _window_counts(h, kh, eh, ph * eh, ph * eh + xh, lo_h, hi_h,
                                 self.stride[0], x.device)
        count_w = _window_counts(w, kw, ew, pw * ew, pw * ew + xw, lo_w, hi_w,
                                 self.stride[1], x.device)
        # in-between positions past the end may see no input at all
        divisor = (count_h[:, None] * count_w[None, :]).clamp_min(1).to(x.dtype)
        return total / divisor

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, e={self.e}, stride={self.stride}, '
                f'padding={self.padding}, ceil_mode={self.ceil_mode}, '
                f'count_include_pad={self.count_include_pad}')


class EMaxPool2d(_EPool):
    """Max pooling with taps ``e`` pixels apart (-inf padding, ceil_mode kept).

    ``nn.MaxPool2d`` has a dilation but only accepts padding up to half its
    (dilated) window, and ceil_mode's extra window needs padding on one side
    only; this pads explicitly instead.
    """

    def __init__(self, kernel_size: int | tuple[int, int], e: int | tuple[int, int] = 1,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, ceil_mode: bool = False,
                 orig_stride: int | tuple[int, int] | None = None) -> None:
        super().__init__(kernel_size, e, stride, padding, dilation, ceil_mode, orig_stride)

    @classmethod
    def from_pool(cls, pool: nn.MaxPool2d, e: int, stride: int) -> 'EMaxPool2d':
        if pool.return_indices:
            raise DensifyError('MaxPool2d with return_indices is not supported')
        return cls(pool.kernel_size, e, stride, pool.padding, pool.dilation,
                   pool.ceil_mode, orig_stride=pool.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (eh, ew), (ph, pw) = self.e, self.padding
        xh, xw = self._extra(x.shape[-2], 0), self._extra(x.shape[-1], 1)
        x = F.pad(x, (pw * ew, pw * ew + xw, ph * eh, ph * eh + xh), value=float('-inf'))
        return F.max_pool2d(x, self.kernel_size, self.stride, 0,
                            (self.dilation[0] * eh, self.dilation[1] * ew))

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, e={self.e}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}')


def econv2d_(conv: nn.Conv2d, e: int, stride: int) -> nn.Conv2d:
    """Turns ``conv`` (in place) into its eConv: stride ``stride``, dilation and
    padding multiplied by ``e``. Parameters and their names are unchanged, so
    pretrained weights still load.
    """
    if conv.padding_mode != 'zeros':
        raise DensifyError(f'padding_mode={conv.padding_mode!r} has no exact dense form')
    padding = conv.padding
    if isinstance(padding, str):
        if padding == 'valid':
            padding = (0, 0)
        elif any(s != 1 for s in conv.stride) or any(
                (d * (k - 1)) % 2 for d, k in zip(conv.dilation, conv.kernel_size)):
            raise DensifyError("padding='same' with an even window has no exact dense form")
        else:
            padding = tuple(d * (k - 1) // 2 for d, k in zip(conv.dilation, conv.kernel_size))
    conv.padding = tuple(p * e for p in padding)
    # a 1-tap axis has nothing to space out; a dilated 1x1 conv would only
    # send oneDNN down a slower path
    conv.dilation = tuple(d * e if k > 1 else d for d, k in zip(conv.dilation, conv.kernel_size))
    conv.stride = (stride, stride)
    # NOTE: nn.Conv2d caches the reversed padding for non-'zeros' modes only.
    conv._reversed_padding_repeated_twice = [p for p in reversed(conv.padding) for _ in range(2)]
    return conv


class PhaseDecomposed(nn.Module):
    """Runs a stride-1 layer on a map ``e`` times denser than the one it was made for.

    The dense map is split into its ``e*e`` phase sub-maps (``pixel_unshuffle``),
    folded into the batch, passed through the unchanged layer and interleaved
    back (``pixel_shuffle``): :func:`run_phased`. Exact for any
    translation-equivariant stride-1 layer that treats what lies outside the
    map as zeros (convolutions, deformable convolutions, DCLS): phase (0, 0)
    is the original map itself.

    Example:
        >>> conv = nn.Conv2d(4, 4, 3, padding=1)
        >>> dense = PhaseDecomposed(conv, e=4)
        >>> x = torch.randn(1, 4, 30, 30)
        >>> torch.allclose(dense(x)[..., ::4, ::4], conv(x[..., ::4, ::4]), atol=1e-6)
        True
    """

    def __init__(self, layer: nn.Module, e: int) -> None:
        super().__init__()
        self.layer, self.e = layer, int(e)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_phased(lambda x, stride: self.layer(x), self.e, (1, 1), x)


def run_phased(run: Callable[..., torch.Tensor], e: int, stride: tuple[int, int],
               *maps: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """``run(*maps, stride)`` computed on maps ``e`` times denser than the
    layer's weights were made for, exactly.

    With ``e == 1`` that is the call itself. Otherwise bilinear sampling or
    a kernel would have to reach pixels ``e`` apart, so the layer runs at
    stride 1 on each of the ``e*e`` phase sub-maps of every map
    (:func:`phase_split`, folded into the batch), the phases are interleaved
    back (:func:`phase_merge`) and every ``stride``-th position is kept: a
    stride-``s`` layer's output ``j`` is its stride-1 output at ``s*j``. Exact
    for any translation-equivariant layer with zeros outside the map; the
    deformable operators (DCN, DCNv2, DCNv3, DCNv4) all run on denser maps
    this way.

    Args:
        run: ``run(*maps, stride)``, the layer at a given stride.
        e: The equivalent stride of the maps.
        stride: The layer's stride on the dense map.
        maps: (N, C, H, W) maps, or (N, H, W, C) with ``channels_last``; the
            first one sets the size of the result.
        channels_last: The maps and the result are (N, H, W, C).
    """
    if e == 1:
        return run(*maps, stride)
    if channels_last:
        maps = tuple(m.permute(0, 3, 1, 2) for m in maps)
    n, _, h, w = maps[0].shape
    phases = [phase_split(m, e) for m in maps]
    if channels_last:
        phases = [p.permute(0, 2, 3, 1).contiguous() for p in phases]
    out = run(*phases, (1, 1))
    if channels_last:
        out = out.permute(0, 3, 1, 2)
    out = phase_merge(out, e, n, h, w)
    if tuple(stride) != (1, 1):
        out = out[..., ::stride[0], ::stride[1]]
    return out.permute(0, 2, 3, 1) if channels_last else out


def phase_split(x: torch.Tensor, e: int) -> torch.Tensor:
    """(N, C, H, W) -> (N*e*e, C, ceil(H/e), ceil(W/e)): the phase sub-maps in the batch.

    Phase (a, b) holds ``x[..., a::e, b::e]``, zero-padded at the end to the
    common size; batch index ``n*e*e + a*e + b``.
    """
    n, c, h, w = x.shape
    hp, wp = -(-h // e) * e, -(-w // e) * e
    x = F.pad(x, (0, wp - w, 0, hp - h))
    phases = F.pixel_unshuffle(x, e).view(n, c, e * e, hp // e, wp // e)
    return phases.transpose(1, 2).reshape(n * e * e, c, hp // e, wp // e)


def phase_merge(y: torch.Tensor, e: int, n: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`phase_split` for a stride-1 layer's output.

    A layer that shrinks its map by ``m`` per phase (a valid conv) shrinks the
    dense map by ``m*e``; the result is cropped accordingly.
    """
    c, h2, w2 = y.shape[1:]
    hp, wp = -(-h // e), -(-w // e)
    y = y.view(n, e * e, c, h2, w2).transpose(1, 2).reshape(n, c * e * e, h2, w2)
    return F.pixel_shuffle(y, e)[..., :h - (hp - h2) * e, :w - (wp - w2) * e]


class SampledGlobalPool(nn.Module):
    """A final global pooling that only sees the positions of the original map."""

    def __init__(self, pool: nn.Module, e: int) -> None:
        super().__init__()
        self.pool, self.e = pool, int(e)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x[..., ::self.e, ::self.e])


# ---------------------------------------------------------------------------
# the rule of each layer type
# ---------------------------------------------------------------------------

# (layer, e, stride kept) -> the layer that computes the same on the dense
# map: the module itself changed in place, or a replacement
DenseRule = Callable[[nn.Module, int, int], nn.Module]
# type -> (its rule, whether its maps are channels-last (N, H, W, C))
_RULES: dict[type, tuple[DenseRule, bool]] = {}


def register_dense_rule(*types: type, channels_last: bool = False
                        ) -> Callable[[DenseRule], DenseRule]:
    """Registers the equivalent-stride rule of layers of ``types`` (and their
    subclasses, unless a subclass has its own), for :func:`dense_layer`;
    ``channels_last``: the layers take and return (N, H, W, C) maps (DCNv3,
    DCNv4), which :func:`~segkit.ops.densify.densify` must know to read their
    strides."""
    def add(rule: DenseRule) -> DenseRule:
        for t in types:
            _RULES[t] = (rule, channels_last)
        return rule
    return add


def _registered(module: nn.Module) -> tuple[DenseRule, bool] | None:
    for cls in type(module).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    return None


def dense_rule(module: nn.Module) -> DenseRule | None:
    """The rule registered for ``module``'s type or its nearest base class."""
    found = _registered(module)
    return found[0] if found else None


def takes_channels_last(module: nn.Module) -> bool:
    """Whether ``module``'s rule was registered for (N, H, W, C) maps."""
    found = _registered(module)
    return bool(found and found[1])


def dense_layer(module: nn.Module, e: int, stride: int) -> nn.Module:
    """``module`` made exact on a map ``e`` times denser, keeping ``stride``
    of its own stride.

    Raises:
        DensifyError: no rule is registered for its type.
    """
    rule = dense_rule(module)
    if rule is None:
        raise DensifyError(f'{type(module).__name__} has no equivalent-stride rule')
    return rule(module, e, stride)


register_dense_rule(nn.Conv2d)(econv2d_)
register_dense_rule(nn.MaxPool2d)(EMaxPool2d.from_pool)
register_dense_rule(nn.AvgPool2d)(EAvgPool2d.from_pool)
