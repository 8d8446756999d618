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
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from segkit.errors import DensifyError
from segkit.utils.pair import pair

__all__ = ['EAvgPool2d', 'EMaxPool2d', 'PhaseDecomposed', 'SampledGlobalPool', 'phase_split',
           'phase_merge',
           'econv2d_', 'DensifyError', 'DenseInfo', 'densify']



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
    back (``pixel_shuffle``). Exact for any translation-equivariant stride-1
    layer that treats what lies outside the map as zeros (convolutions,
    deformable convolutions, DCLS): phase (0, 0) is the original map itself.

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
        if self.e == 1:
            return self.layer(x)
        n, _, h, w = x.shape
        return phase_merge(self.layer(phase_split(x, self.e)), self.e, n, h, w)


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
# densify: convert a whole network
# ---------------------------------------------------------------------------

_GLOBAL_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
# Layers whose input and output are (N, C, H, W) maps and whose stride densify
# knows how to handle (or, for the global pools, to refuse).
_STRIDED = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, *_GLOBAL_POOLS)
# Known layers that mix neighbouring pixels but have no equivalent-stride rule.
_NO_RULE = (nn.ConvTranspose2d, nn.Upsample, nn.Unfold, nn.Fold, nn.LPPool2d,
            nn.FractionalMaxPool2d, nn.ReflectionPad2d, nn.ReplicationPad2d,
            nn.ZeroPad2d, nn.ConstantPad2d, nn.PixelShuffle, nn.PixelUnshuffle)


@dataclass
class _Call:
    name: str
    module: nn.Module
    f_in: int
    stride: int
    spatial_in: tuple[int, int]


@dataclass
class DenseInfo:
    """What :func:`densify` did: the output stride and, per layer, (eST in, stride kept)."""

    output_stride: int
    layers: dict[str, tuple[int, int]] = field(default_factory=dict)

    def est(self, f_orig: int) -> int:
        """Equivalent stride of a map at original stride ``f_orig``."""
        return f_orig // min(f_orig, self.output_stride)


def _factor(image: tuple[int, int], size: tuple[int, int], name: str) -> int:
    """The downsampling factor of a map of ``size`` from an image of ``image``."""
    ratio = image[-1] / size[-1]
    f = max(1, round(ratio))
    if abs(ratio - f) > 0.15 * f or abs(image[0] / size[0] - f) > 0.15 * f:
        raise DensifyError(f'{name}: cannot tell its input stride (image {image}, map {size})')
    return f


def _per_position(inp: torch.Tensor, out: torch.Tensor) -> bool:
    """Shapes of a layer that does not change the grid: same shape, a new
    channel count (channels first or last), a permutation, or a flattening."""
    a, b = tuple(inp.shape), tuple(out.shape)
    return (a == b or sorted(a) == sorted(b) or out.dim() < inp.dim()
            or (a[:1] + a[2:] == b[:1] + b[2:]) or a[:-1] == b[:-1])


def _trace(model: nn.Module, x: torch.Tensor) -> list[_Call]:
    """Runs ``model`` once and records the strided layers with their input stride."""
    calls: list[_Call] = []
    handles = []
    image = tuple(x.shape[-2:])

    def hook(name: str) -> Callable[[nn.Module, tuple, object], None]:
        def fn(module: nn.Module, inputs: tuple, output: object) -> None:
            inp = inputs[0] if inputs else None
            if not (torch.is_tensor(inp) and torch.is_tensor(output)) or inp.dim() != 4:
                return
            if isinstance(module, _STRIDED + _NO_RULE):
                f_in = _factor(image, tuple(inp.shape[-2:]), name)
                if isinstance(module, _GLOBAL_POOLS) or output.dim() != 4:
                    stride = 1
                else:
                    stride = _factor(image, tuple(output.shape[-2:]), name) // f_in
                calls.append(_Call(name, module, f_in, stride, tuple(inp.shape[-2:])))
            elif not _per_position(inp, output):
                raise DensifyError(
                    f'{name} ({type(module).__name__}) changes the map from '
                    f'{tuple(inp.shape)} to {tuple(output.shape)} and has no dense form; '
                    'supported: Conv2d, MaxPool2d, AvgPool2d and per-position layers')
        return fn

    for name, module in model.named_modules():
        if not list(module.children()):
            handles.append(module.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return calls


def _stride_split(f_in: int, s: int, output_stride: int, name: str) -> tuple[int, int]:
    """Returns (eST of the input, stride kept) for a layer of stride ``s``."""
    dense_in = min(f_in, output_stride)
    dense_out = min(f_in * s, output_stride)
    if dense_out % dense_in or f_in % dense_in or (f_in * s) % dense_out:
        raise DensifyError(f'{name}: stride {s} at input stride {f_in} does not '
                           f'fit output stride {output_stride}')
    return f_in // dense_in, dense_out // dense_in


def densify(model: nn.Module, output_stride: int, probe_size: int = 128,
            verify: bool = True, atol: float = 1e-4) -> nn.Module:
    """Returns a dense copy of ``model`` whose output stride is ``output_stride``.

    The input stride of every layer is traced by running the model once on a
    ``probe_size`` input, so shortcuts and parallel branches get the right
    equivalent stride whatever their registration order. Strides are kept
    until a map reaches ``output_stride`` and removed after; later layers get
    their taps spaced by the equivalent stride (see the module docstring).

    Parameter names do not change: pretrained weights load into the copy.
    The copy is exact in eval mode only (train-mode BatchNorm uses the
    statistics of the dense map). ``verify`` runs both networks on the probe
    in eval mode and compares every layer's output; a layer that is not exact
    (a global operation, a stride done by a functional call inside
    ``forward``) raises :class:`DensifyError` naming it.

    Args:
        model: A CNN taking (N, C, H, W) images.
        output_stride: 8, 16, ... (the stride of the densest output wanted).
        probe_size: Side of the probe image; a multiple of the total stride.
        verify: Check exactness layer by layer on the probe.
        atol: Tolerance of the check, relative to each layer's largest value.

    Returns:
        The dense copy, with a ``dense_info`` attribute (:class:`DenseInfo`).

    Raises:
        DensifyError: naming the layer that cannot be made exact.
    """
    if output_stride < 1:
        raise DensifyError(f'output_stride must be >= 1, got {output_stride}')
    was_training = model.training
    if was_training:
        warnings.warn('densify: the dense copy equals the original in eval mode only; '
                      'train-mode BatchNorm uses the statistics of the dense map',
                      stacklevel=2)
    model.eval()
    param = next(model.parameters(), None)
    probe = torch.randn(1, _in_channels(model), probe_size, probe_size,
                        device=param.device if param is not None else 'cpu',
                        dtype=param.dtype if param is not None else torch.float32)
    try:
        calls = _trace(model, probe)
    finally:
        model.train(was_training)
    dense = copy.deepcopy(model)
    info = DenseInfo(output_stride)
    last_spatial = max((i for i, c in enumerate(calls)
                        if not isinstance(c.module, _GLOBAL_POOLS) and c.spatial_in != (1, 1)),
                       default=-1)
    for index, call in enumerate(calls):
        name, module = call.name, dense.get_submodule(call.name)
        e, keep = _stride_split(call.f_in, call.stride, output_stride, name)
        if name in info.layers:
            if info.layers[name] != (e, keep):
                raise DensifyError(f'{name} is called at several strides; give each call '
                                   'its own module')
            continue
        info.layers[name] = (e, keep)
        if isinstance(module, _GLOBAL_POOLS):
            if pair(module.output_size or 0) != (1, 1) or index < last_spatial:
                raise DensifyError(
                    f'{name} ({type(module).__name__}) is a global pooling whose result '
                    'feeds later spatial layers: it depends on the whole dense map, so no '
                    'dense version equals the original')
            if e > 1:
                _set_module(dense, name, SampledGlobalPool(module, e))
        elif isinstance(module, _NO_RULE):
            if e > 1 or call.stride != 1:
                raise DensifyError(
                    f'{name} ({type(module).__name__}) has no equivalent-stride rule; '
                    'supported: Conv2d, MaxPool2d, AvgPool2d (wrap stride-1 layers in '
                    'PhaseDecomposed)')
        elif e == 1 and keep == call.stride:
            continue  # before the output stride is reached nothing changes
        elif isinstance(module, nn.Conv2d):
            econv2d_(module, e, keep)
        elif isinstance(module, nn.MaxPool2d):
            _set_module(dense, name, EMaxPool2d.from_pool(module, e, keep))
        else:
            _set_module(dense, name, EAvgPool2d.from_pool(module, e, keep))
    dense.dense_info = info
    if verify:
        _verify(model, dense, probe, info, atol)
    dense.train(was_training)
    return dense


def _in_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    raise DensifyError('densify needs a model with a Conv2d')


def _set_module(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition('.')
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


def _tensors(output: object) -> list[torch.Tensor]:
    if torch.is_tensor(output):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for o in output for t in _tensors(o)]
    return []


def _sample(ref: torch.Tensor, got: torch.Tensor, image: tuple[int, int],
            info: DenseInfo, name: str) -> torch.Tensor:
    """The positions of the dense ``got`` that correspond to ``ref``."""
    if ref.shape == got.shape or ref.dim() != 4:
        return got
    if ref.shape[:2] == got.shape[:2]:  # (N, C, H, W)
        e = info.est(_factor(image, tuple(ref.shape[-2:]), name))
        return got[..., ::e, ::e]
    e = info.est(_factor(image, tuple(ref.shape[1:3]), name))  # (N, H, W, C)
    return got[:, ::e, ::e]


def _verify(original: nn.Module, dense: nn.Module, probe: torch.Tensor,
            info: DenseInfo, atol: float) -> None:
    """Compares every module's output, sampled at its eST, with the original's."""
    stores: tuple[dict, dict] = ({}, {})
    handles = []
    for root, store in zip((original, dense), stores):
        for name, module in root.named_modules():
            def fn(module: nn.Module, inputs: tuple, output: object,
                   store: dict = store, name: str = name) -> None:
                store.setdefault(name, []).extend(t.detach() for t in _tensors(output))
            handles.append(module.register_forward_hook(fn))
    modes = original.training, dense.training
    original.eval()
    dense.eval()
    try:
        with torch.no_grad():
            original(probe)
            dense(probe)
    finally:
        for h in handles:
            h.remove()
        original.train(modes[0])
        dense.train(modes[1])
    image = tuple(probe.shape[-2:])
    for name, refs in stores[0].items():
        for ref, got in zip(refs, stores[1].get(name, [])):
            got = _sample(ref, got, image, info, name)
            what = f'{name or "the model"} ({type(original.get_submodule(name)).__name__})'
            if ref.shape != got.shape:
                raise DensifyError(f'{what}: dense output {tuple(got.shape)} does not '
                                   f'sample to the original {tuple(ref.shape)}')
            if ref.dtype.is_floating_point:
                err = ((ref - got).abs().max() / ref.abs().max().clamp_min(1.0)).item()
                if not err <= atol:
                    raise DensifyError(
                        f'{what}: dense output differs from the original by {err:.1e} '
                        '(relative); it holds a global or strided operation that densify '
                        'cannot make exact')
