"""``densify``: the exact dense version of a whole strided network.

Wu, Xie, Luo, "Dense CNN Learning with Equivalent Mappings", arXiv 1605.07251.

The per-layer rules live in :mod:`segkit.ops.equivalent_stride`; this module
traces a network to find each layer's input stride, applies the rule of
every layer that comes after a removed stride, and checks the copy layer by
layer against the original.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn

from segkit.errors import DensifyError
from segkit.utils.pair import pair

from .equivalent_stride import SampledGlobalPool, dense_layer, dense_rule, takes_channels_last

__all__ = ['DenseInfo', 'densify', 'verify_dense']

_GLOBAL_POOLS = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
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


def _inside_ruled(model: nn.Module) -> set[str]:
    """Names of the modules inside a layer that has its own rule (a DCN
    Pack's offset conv): the rule covers them, so they are neither traced nor
    compared on their own (they may run on the phases of the dense map)."""
    inner: set[str] = set()
    for name, module in model.named_modules():
        if name not in inner and list(module.children()) and dense_rule(module) is not None:
            inner.update(f'{name}.{child}' if name else child
                         for child, _ in module.named_modules() if child)
    return inner


def _trace(model: nn.Module, x: torch.Tensor) -> list[_Call]:
    """Runs ``model`` once and records the strided layers with their input stride."""
    calls: list[_Call] = []
    handles = []
    image = tuple(x.shape[-2:])

    def hook(name: str) -> Callable[[nn.Module, tuple, object], None]:
        def fn(module: nn.Module, inputs: tuple, output: object) -> None:
            inp = inputs[0] if inputs else None
            if not (torch.is_tensor(inp) and torch.is_tensor(output)) or inp.dim() != 4:
                if dense_rule(module) is not None and torch.is_tensor(inp):
                    raise DensifyError(f'{name} ({type(module).__name__}) is called on a '
                                       f'{tuple(inp.shape)} tensor; densify follows 4-d maps')
                return
            if dense_rule(module) is not None or isinstance(module, _GLOBAL_POOLS + _NO_RULE):
                # (N, H, W, C) for the channels-last operators (DCNv3, DCNv4)
                spatial = ((lambda t: tuple(t.shape[1:3])) if takes_channels_last(module)
                           else (lambda t: tuple(t.shape[-2:])))
                f_in = _factor(image, spatial(inp), name)
                if isinstance(module, _GLOBAL_POOLS) or output.dim() != 4:
                    stride = 1
                else:
                    stride = _factor(image, spatial(output), name) // f_in
                calls.append(_Call(name, module, f_in, stride, spatial(inp)))
            elif not _per_position(inp, output):
                raise DensifyError(
                    f'{name} ({type(module).__name__}) changes the map from '
                    f'{tuple(inp.shape)} to {tuple(output.shape)} and has no dense form; '
                    'supported: layers with an equivalent-stride rule (Conv2d, MaxPool2d, '
                    'AvgPool2d, DCN, DCNv2, DCNv3, DCNv4, DCLS, shaped convs) and '
                    'per-position layers')
        return fn

    inner = _inside_ruled(model)
    for name, module in model.named_modules():
        if name in inner:
            continue
        if not list(module.children()) or dense_rule(module) is not None:
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
    statistics of the dense map). ``verify`` runs :func:`verify_dense`:
    copies of both networks with the same randomised parameters, so that a
    zero-initialised offset or mask predictor cannot hide an inexact rule,
    compared layer by layer on the probe in eval mode; a layer that is not
    exact (a global operation, a stride done by a functional call inside
    ``forward``, a wrong rule) raises :class:`DensifyError` naming it. Call
    :func:`verify_dense` again after loading weights to check those too.

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
        else:
            new = dense_layer(module, e, keep)
            if new is not module:
                _set_module(dense, name, new)
    dense.dense_info = info
    if verify:
        verify_dense(model, dense, probe_size, atol)
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


def _randomise_(model: nn.Module, seed: int) -> None:
    """Adds seeded noise to every floating-point parameter, in order: its own
    spread, or for a constant one (zero-initialised offset and mask
    predictors, norm scales) 0.1 times its size (at least 0.1), so every
    layer computes something that depends on where it samples."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if not p.dtype.is_floating_point:
                continue
            values = p.detach().double()
            spread = values.std().item() if p.numel() > 1 else 0.0
            scale = 0.5 * spread if spread > 0 else 0.1 * max(values.abs().mean().item(), 1.0)
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            p.add_((noise * scale).to(p.dtype))


def verify_dense(original: nn.Module, dense: nn.Module, probe_size: int = 128,
                 atol: float = 1e-4, randomise: bool = True, seed: int = 0) -> None:
    """Checks that ``dense`` (from :func:`densify`) computes what ``original``
    computes, every layer's output sampled at its equivalent stride.

    Both networks run in eval mode on one random probe image. With
    ``randomise`` (what :func:`densify` does) they run as copies holding the
    same seeded random parameters (each parameter perturbed by its own spread,
    constant ones by 0.1 times their size): a zero-initialised offset or
    mask predictor would make a deformable layer's output constant, and an
    inexact rule for it pass. With ``randomise=False`` they run with the
    weights they hold, e.g. after a checkpoint was loaded into both.

    Raises:
        DensifyError: naming the first layer whose dense output differs by
            more than ``atol`` relative to its largest value, or whose shape
            does not sample to the original's.
    """
    info = getattr(dense, 'dense_info', None)
    if info is None:
        raise DensifyError('verify_dense takes the network densify returned (dense_info)')
    if randomise:
        original, dense = copy.deepcopy(original), copy.deepcopy(dense)
        ours, theirs = list(original.parameters()), list(dense.parameters())
        if [p.shape for p in ours] != [p.shape for p in theirs]:
            raise DensifyError('the dense network does not hold the parameters of the original')
        _randomise_(original, seed)
        with torch.no_grad():
            for mine, other in zip(ours, theirs):
                other.copy_(mine)
    param = next(original.parameters(), None)
    probe = torch.randn(1, _in_channels(original), probe_size, probe_size,
                        generator=torch.Generator().manual_seed(seed),
                        dtype=param.dtype if param is not None else torch.float32)
    if param is not None:
        probe = probe.to(param.device)
    _compare_layers(original, dense, probe, info, atol)


def _compare_layers(original: nn.Module, dense: nn.Module, probe: torch.Tensor,
                    info: DenseInfo, atol: float) -> None:
    """Compares every module's output, sampled at its eST, with the original's,
    in the order the original computes them (the first that differs is named)."""
    calls: tuple[list, list] = ([], [])
    handles = []
    inner = _inside_ruled(original)
    for root, sequence in zip((original, dense), calls):
        for name, module in root.named_modules():
            if name in inner:
                continue
            def fn(module: nn.Module, inputs: tuple, output: object,
                   sequence: list = sequence, name: str = name) -> None:
                sequence.append((name, [t.detach() for t in _tensors(output)]))
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
    dense_outputs: dict[str, list] = {}
    for name, outputs in calls[1]:
        dense_outputs.setdefault(name, []).append(outputs)
    seen: dict[str, int] = {}
    image = tuple(probe.shape[-2:])
    for name, refs in calls[0]:
        k = seen[name] = seen.get(name, -1) + 1  # the k-th call of this module
        gots = dense_outputs.get(name, [])
        for ref, got in zip(refs, gots[k] if k < len(gots) else []):
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
                        'cannot make exact, or its equivalent-stride rule is wrong')
