"""DCNv3: grouped deformable convolution with softmax-normalised modulation.

Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models with
Deformable Convolutions", CVPR 2023, arXiv 2211.05778.

Maps are channels-last, (N, H, W, C). For output pixel (h, w), group g and
kernel point p = i * kernel_h + j (i walks x, the outer loop), the sample sits
at (pixel centres at integers, unpadded input):

    x = (dil_w*(k_w-1))//2 - pad_w + w*stride_w + (i*dil_w - (dil_w*(k_w-1))//2 + dx) * offset_scale
    y = (dil_h*(k_h-1))//2 - pad_h + h*stride_h + (j*dil_h - (dil_h*(k_h-1))//2 + dy) * offset_scale

and ``out[..., g*C' + c] = sum_p mask[..., g*K + p] * bilinear(input[..., g*C' + c], x, y)``
with zeros outside the image. Offsets are (dx, dy) pairs per point, group
major. This order and layout match the original, so its weights load.

Four implementations compute the same function:

* ``'reference'``: one ``grid_sample`` over all points, then the masked sum,
  as the original pure-PyTorch path does; it keeps the (N*G, C', H*W*K)
  sampled tensor for backward. The testing reference.
* ``'cpu'``: a compiled C++ kernel (``csrc/dcnv3_cpu.cpp``, built on first
  use by :func:`segkit.utils.native.load_native`) in a custom autograd
  function: the mask is folded into the four bilinear corner weights, the
  forward is one weighted gather-sum per output pixel and the backward
  recomputes the corners, so nothing larger than the offsets is saved.
* ``'triton'``: the same scheme as Triton kernels for the GPU
  (``dcnv3_triton.py``; backward scatters with atomic adds).
* ``'gather'``: the same gather-sum in pure PyTorch, one ``embedding_bag``
  (mode 'sum', per-sample weights) over the channels-last value table. It
  runs wherever ``embedding_bag`` does; its autograd backward is correct but
  slower than grid_sample's.

``'auto'`` takes ``'reference'`` under ``torch.jit.trace`` (and so for ONNX
export and FLOP counting), ``'cpu'`` for CPU tensors when the kernel builds and
``'triton'`` for CUDA tensors when its kernels compile and run (tried once
per configuration on a tiny probe; if not, segkit warns once and goes on);
otherwise ``'gather'`` for inference and ``'reference'`` for training.
"""
from __future__ import annotations

import ctypes
import os
import warnings
from pathlib import Path
from typing import Literal, get_args

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ..utils.native import load_native
from .equivalent_stride import phase_merge, phase_split

__all__ = ['dcnv3_core', 'dcnv3_core_reference', 'dcnv3_core_cpu', 'dcnv3_core_triton',
           'dcnv3_core_gather', 'dcnv3_cpu_kernel_available', 'DCNv3']

Impl = Literal['auto', 'reference', 'cpu', 'triton', 'gather']
IMPLS = get_args(Impl)
_CPU_SOURCE = Path(__file__).with_name('csrc') / 'dcnv3_cpu.cpp'


def _check(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
           kernel_h: int, kernel_w: int, stride_h: int, stride_w: int, pad_h: int,
           pad_w: int, dilation_h: int, dilation_w: int, group: int,
           group_channels: int) -> tuple[int, int]:
    if input.dim() != 4:
        raise ValueError(f'input must be (N, H, W, C), got {tuple(input.shape)}')
    n, h, w, c = input.shape
    if c != group * group_channels:
        raise ValueError(f'input has {c} channels, expected group * group_channels = '
                         f'{group} * {group_channels}')
    h_out = (h + 2 * pad_h - (dilation_h * (kernel_h - 1) + 1)) // stride_h + 1
    w_out = (w + 2 * pad_w - (dilation_w * (kernel_w - 1) + 1)) // stride_w + 1
    k = kernel_h * kernel_w
    if tuple(offset.shape) != (n, h_out, w_out, group * k * 2):
        raise ValueError(f'offset must be {(n, h_out, w_out, group * k * 2)}, '
                         f'got {tuple(offset.shape)}')
    if tuple(mask.shape) != (n, h_out, w_out, group * k):
        raise ValueError(f'mask must be {(n, h_out, w_out, group * k)}, got {tuple(mask.shape)}')
    return h_out, w_out


def _sampling_points(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                     kernel_h: int, kernel_w: int, stride_h: int, stride_w: int, pad_h: int,
                     pad_w: int, dilation_h: int, dilation_w: int, group: int,
                     group_channels: int, offset_scale: float
                     ) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """Checks the shapes; returns x and y of every sample, (N, H_out, W_out, G,
    K), in input pixel coordinates, and the sizes (N, H, W, H_out, W_out, G, C', K).

    NOTE: the original builds the sampling grid in float32, normalised by the
    padded size, whatever the input's dtype; the float32 rounding of that grid
    moves samples by up to ~1e-7 pixels. It is reproduced here so that even
    float64 results match the original to 1e-10.
    """
    h_out, w_out = _check(input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                          pad_w, dilation_h, dilation_w, group, group_channels)
    n, h, w, _ = input.shape
    k = kernel_h * kernel_w
    device, f32 = offset.device, torch.float32
    hp, wp = h + 2 * pad_h, w + 2 * pad_w
    half_h, half_w = (dilation_h * (kernel_h - 1)) // 2, (dilation_w * (kernel_w - 1)) // 2
    ref_x = torch.linspace(half_w + 0.5, half_w + 0.5 + (w_out - 1) * stride_w, w_out,
                           dtype=f32, device=device) / wp
    ref_y = torch.linspace(half_h + 0.5, half_h + 0.5 + (h_out - 1) * stride_h, h_out,
                           dtype=f32, device=device) / hp
    grid_x = torch.linspace(-half_w, -half_w + (kernel_w - 1) * dilation_w, kernel_w,
                            dtype=f32, device=device) / wp
    grid_y = torch.linspace(-half_h, -half_h + (kernel_h - 1) * dilation_h, kernel_h,
                            dtype=f32, device=device) / hp
    # point p = i * kernel_h + j: the x index i is the outer loop
    grid_x = grid_x.repeat_interleave(kernel_h)
    grid_y = grid_y.repeat(kernel_w)
    base_x = ref_x.view(1, 1, w_out, 1, 1) + grid_x * offset_scale
    base_y = ref_y.view(1, h_out, 1, 1, 1) + grid_y * offset_scale
    off = offset.view(n, h_out, w_out, group, k, 2)
    dtype = torch.promote_types(offset.dtype, f32)  # half offsets: positions in float32
    loc_x = base_x.to(dtype) + off[..., 0].to(dtype) * offset_scale / wp
    loc_y = base_y.to(dtype) + off[..., 1].to(dtype) * offset_scale / hp
    # normalised [0, 1] over the padded map -> pixels of the unpadded input
    return (loc_x * wp - 0.5 - pad_w, loc_y * hp - 0.5 - pad_h,
            (n, h, w, h_out, w_out, group, group_channels, k))


def dcnv3_core_reference(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                         kernel_h: int, kernel_w: int, stride_h: int, stride_w: int,
                         pad_h: int, pad_w: int, dilation_h: int, dilation_w: int,
                         group: int, group_channels: int,
                         offset_scale: float) -> torch.Tensor:
    """DCNv3 core by ``grid_sample`` (the testing reference); see :func:`dcnv3_core`."""
    x, y, (n, h, w, h_out, w_out, _, _, k) = _sampling_points(
        input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
        dilation_w, group, group_channels, offset_scale)
    # grid_sample, align_corners=False: pixel centre i sits at (2i + 1) / size - 1
    grid = torch.stack(((2 * x + 1) / w - 1, (2 * y + 1) / h - 1), dim=-1)
    grid = grid.permute(0, 3, 1, 2, 4, 5).reshape(n * group, h_out, w_out * k, 2)
    grid = grid.to(input.dtype)
    value = input.view(n, h, w, group, group_channels).permute(0, 3, 4, 1, 2)
    value = value.reshape(n * group, group_channels, h, w)
    sampled = F.grid_sample(value, grid, mode='bilinear', padding_mode='zeros',
                            align_corners=False)
    sampled = sampled.view(n, group, group_channels, h_out, w_out, k)
    weight = mask.view(n, h_out, w_out, group, k).permute(0, 3, 1, 2, 4).unsqueeze(2)
    out = (sampled * weight).sum(-1)  # (N, G, C', H_out, W_out)
    return out.permute(0, 3, 4, 1, 2).reshape(n, h_out, w_out, group * group_channels)


def dcnv3_core_gather(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                      kernel_h: int, kernel_w: int, stride_h: int, stride_w: int,
                      pad_h: int, pad_w: int, dilation_h: int, dilation_w: int,
                      group: int, group_channels: int, offset_scale: float) -> torch.Tensor:
    """DCNv3 core as one weighted gather-sum (``embedding_bag``); see :func:`dcnv3_core`."""
    x, y, (n, h, w, h_out, w_out, _, _, k) = _sampling_points(
        input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
        dilation_w, group, group_channels, offset_scale)
    x0, y0 = x.detach().floor(), y.detach().floor()
    fx, fy = x - x0, y - y0  # differentiable: gradients reach the offsets
    x0, y0 = x0.long(), y0.long()
    m = mask.view(n, h_out, w_out, group, k)
    # rows of the (N*H*W*G, C') value table: ((n*H + y)*W + x)*G + g
    base = (torch.arange(n, device=input.device).view(n, 1, 1, 1, 1) * h * w * group
            + torch.arange(group, device=input.device).view(1, 1, 1, group, 1))
    indices, weights = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        cx, cy = x0 + dx, y0 + dy
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        corner = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        weights.append(corner * m * inside)
        row = base + (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)) * group
        indices.append(row)
    # bags: one per (n, h_out, w_out, g), holding its 4*K weighted corners
    index = torch.stack(indices, -1).view(-1, k * 4)
    weight = torch.stack(weights, -1).view(-1, k * 4).to(input.dtype)
    table = input.reshape(n * h * w * group, group_channels)
    out = F.embedding_bag(index, table, per_sample_weights=weight, mode='sum')
    return out.view(n, h_out, w_out, group * group_channels)


def _cpu_kernel() -> ctypes.CDLL | None:
    lib = load_native(_CPU_SOURCE)
    if lib is not None and not getattr(lib, 'segkit_ready', False):
        ptr, i64 = ctypes.c_void_p, ctypes.c_int64
        dims = [i64] * 8 + [ctypes.c_int]
        for suffix in ('f32', 'f64'):
            getattr(lib, f'dcnv3_forward_{suffix}').argtypes = [ptr] * 5 + dims
            getattr(lib, f'dcnv3_backward_{suffix}').argtypes = [ptr] * 9 + dims
        lib.segkit_ready = True
    return lib


def dcnv3_cpu_kernel_available() -> bool:
    """Whether the C++ CPU kernel is built (building it on the first call)."""
    return _cpu_kernel() is not None


_SUFFIX = {torch.float32: 'f32', torch.float64: 'f64'}


def _ptr(t: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(t.data_ptr())


class _CPUCore(torch.autograd.Function):
    """Sampling of ``value`` at (x, y) weighted by ``mask``: see csrc/dcnv3_cpu.cpp."""

    @staticmethod
    def forward(ctx, value: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                mask: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
        n, h, w, h_out, w_out, group, channels, k = dims
        out = value.new_empty(n, h_out, w_out, group * channels)
        fn = getattr(_cpu_kernel(), f'dcnv3_forward_{_SUFFIX[value.dtype]}')
        fn(*map(_ptr, (value, x, y, mask, out)), *dims, torch.get_num_threads())
        ctx.save_for_backward(value, x, y, mask)
        ctx.dims = dims
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor) -> tuple:
        value, x, y, mask = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_value = torch.zeros_like(value)
        grad_x, grad_y, grad_mask = (torch.empty_like(t) for t in (x, y, mask))
        fn = getattr(_cpu_kernel(), f'dcnv3_backward_{_SUFFIX[value.dtype]}')
        fn(*map(_ptr, (value, x, y, mask, grad_out, grad_value, grad_x, grad_y, grad_mask)),
           *ctx.dims, torch.get_num_threads())
        return grad_value, grad_x, grad_y, grad_mask, None


def dcnv3_core_cpu(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
                   kernel_h: int, kernel_w: int, stride_h: int, stride_w: int,
                   pad_h: int, pad_w: int, dilation_h: int, dilation_w: int,
                   group: int, group_channels: int, offset_scale: float) -> torch.Tensor:
    """DCNv3 core by the compiled CPU kernel; see :func:`dcnv3_core`."""
    tensors = (input, offset, mask)
    if any(t.device.type != 'cpu' or t.dtype not in _SUFFIX for t in tensors) or len(
            {t.dtype for t in tensors}) > 1:
        raise ValueError('the DCNv3 CPU kernel takes CPU tensors of one dtype, float32 or '
                         f'float64; got {[(t.device.type, t.dtype) for t in tensors]}')
    if _cpu_kernel() is None:
        raise RuntimeError("the DCNv3 CPU kernel could not be built (see the warning); "
                           "use impl='gather' or 'reference'")
    x, y, dims = _sampling_points(input, offset, mask, kernel_h, kernel_w, stride_h, stride_w,
                                  pad_h, pad_w, dilation_h, dilation_w, group, group_channels,
                                  offset_scale)
    return _CPUCore.apply(input.contiguous(), x.contiguous(), y.contiguous(),
                          mask.contiguous(), dims)


def dcnv3_core_triton(*args) -> torch.Tensor:
    """DCNv3 core by the Triton kernels (CUDA tensors, or CPU ones under
    ``TRITON_INTERPRET=1``); see :func:`dcnv3_core`."""
    from .dcnv3_triton import dcnv3_core_triton as core  # imports triton: only when used
    return core(*args)


# Whether the Triton kernels compiled and ran, per configuration they are
# specialised for (device, dtypes, groups, channels per group, points)
_triton_works: dict[tuple, bool] = {}


def _probe_triton(args: tuple) -> None:
    """Forward and backward of the Triton kernels on a tiny map with the
    configuration of ``args``, so that both compile (or fail) now."""
    input, offset, mask, kh, kw, sh, sw, ph, pw, dh, dw = args[:11]
    h, w = dh * (kh - 1) + 1 + sh, dw * (kw - 1) + 1 + sw
    h_out = (h + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    w_out = (w + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    x = input.new_zeros(1, h, w, input.shape[-1]).requires_grad_()
    off = offset.new_zeros(1, h_out, w_out, offset.shape[-1]).requires_grad_()
    m = mask.new_zeros(1, h_out, w_out, mask.shape[-1]).requires_grad_()
    with torch.enable_grad():
        dcnv3_core_triton(x, off, m, *args[3:]).float().sum().backward()


def _try_triton(args: tuple) -> torch.Tensor | None:
    """``dcnv3_core_triton(*args)``, or None where Triton does not work.

    The first call of each configuration runs both kernels on a tiny probe;
    a failure there (no Triton, a GPU it cannot compile for) is warned about
    once and that configuration then takes the PyTorch paths. Running out of
    memory is not a failure of the kernel and propagates.
    """
    input, offset, mask = args[:3]
    key = (input.device, input.dtype, offset.dtype, mask.dtype, args[11], args[12],
           args[3] * args[4])
    if key not in _triton_works:
        try:
            import triton  # noqa: F401
            _probe_triton(args)
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:  # no triton, compiler or driver failure
            _triton_works[key] = False
            first = (str(exc).strip().splitlines() or [''])[0]
            warnings.warn(f'segkit: the DCNv3 Triton kernels do not work here '
                          f'({type(exc).__name__}: {first}); using the PyTorch path',
                          stacklevel=3)
        else:
            _triton_works[key] = True
    return dcnv3_core_triton(*args) if _triton_works[key] else None


def dcnv3_core(input: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
               kernel_h: int, kernel_w: int, stride_h: int, stride_w: int, pad_h: int,
               pad_w: int, dilation_h: int, dilation_w: int, group: int,
               group_channels: int, offset_scale: float,
               impl: Impl = 'auto') -> torch.Tensor:
    """The DCNv3 operator (channels-last), as in the original's ``dcnv3_core_pytorch``.

    Args:
        input: (N, H, W, group * group_channels).
        offset: (N, H_out, W_out, group * K * 2), (dx, dy) per point, group major.
        mask: (N, H_out, W_out, group * K), normalised per group by the caller.
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
        dilation_w: Sampling grid, as for a convolution.
        group, group_channels: Groups and channels per group.
        offset_scale: Scales the offsets and, as in the original, the
            dilation grid too.
        impl: ``'auto'``, ``'cpu'``, ``'triton'``, ``'gather'`` or ``'reference'`` (see
            the module docstring); the environment variable
            ``SEGKIT_DCNV3_IMPL`` overrides ``'auto'``.

    Returns:
        (N, H_out, W_out, group * group_channels).

    Example:
        >>> x = torch.randn(1, 8, 8, 16)
        >>> offset, mask = torch.zeros(1, 8, 8, 4 * 9 * 2), torch.full((1, 8, 8, 36), 1 / 9)
        >>> dcnv3_core(x, offset, mask, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, 1.0).shape
        torch.Size([1, 8, 8, 16])
    """
    if impl == 'auto':
        impl = os.environ.get('SEGKIT_DCNV3_IMPL', 'auto')  # type: ignore[assignment]
    args = (input, offset, mask, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
            dilation_h, dilation_w, group, group_channels, offset_scale)
    if impl == 'auto':
        tensors = (input, offset, mask)
        if torch.jit.is_tracing():
            # tracers (torch.jit.trace, ONNX export, FLOP counters) record
            # PyTorch ops; the compiled kernels are opaque to them
            impl = 'reference'
        elif (all(t.device.type == 'cpu' and t.dtype == input.dtype for t in tensors)
                and input.dtype in _SUFFIX and _cpu_kernel() is not None):
            impl = 'cpu'
        elif all(t.device.type == 'cuda' for t in tensors):
            out = _try_triton(args)
            if out is not None:
                return out
        if impl == 'auto':
            # NOTE: measured on CPU (benchmarks/dcnv3.py): autograd through
            # embedding_bag is slower than grid_sample's fused backward.
            needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
            impl = 'reference' if needs_grad else 'gather'
    fns = {'reference': dcnv3_core_reference, 'cpu': dcnv3_core_cpu,
           'triton': dcnv3_core_triton, 'gather': dcnv3_core_gather}
    if impl not in fns:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
    return fns[impl](*args)


def _act(name: str) -> nn.Module:
    acts = {'GELU': nn.GELU, 'ReLU': nn.ReLU, 'SiLU': nn.SiLU}
    if name not in acts:
        raise ValueError(f'act_layer must be one of {sorted(acts)}, got {name!r}')
    return acts[name]()


class _ToChannelsLast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


class DCNv3(nn.Module):
    """The DCNv3 module of InternImage (channels-last in and out).

    ``input_proj`` projects the input; a depthwise conv -> LayerNorm -> GELU
    on the raw input predicts per-group offsets (``offset``) and a mask
    (``mask``, softmax over each group's K points); the core samples the
    projected input; ``output_proj`` mixes the groups. Parameter names are
    the original's, so InternImage checkpoints load.

    Args:
        channels: Input and output channels.
        kernel_size: Sampling grid size.
        dw_kernel_size: Kernel of the depthwise conv that sees the input
            (defaults to ``kernel_size``).
        stride: Stride of the sampling grid (and of the depthwise conv, so
            offsets match the output grid).
        pad: Padding of the sampling grid.
        dilation: Dilation of the sampling grid.
        group: Groups, each with its own offsets and mask.
        offset_scale: Scale of the offsets (and of the dilation grid).
        act_layer: ``'GELU'`` (or ``'ReLU'``, ``'SiLU'``).
        norm_layer: ``'LN'``.
        center_feature_scale: Blend the output with the projected input by
            a learned per-group sigmoid gate.
        impl: Core implementation (see :func:`dcnv3_core`).

    Example:
        >>> m = DCNv3(32, group=4)
        >>> m(torch.randn(2, 14, 14, 32)).shape
        torch.Size([2, 14, 14, 32])
    """

    def __init__(self, channels: int = 64, kernel_size: int = 3,
                 dw_kernel_size: int | None = None, stride: int = 1, pad: int = 1,
                 dilation: int = 1, group: int = 4, offset_scale: float = 1.0,
                 act_layer: str = 'GELU', norm_layer: str = 'LN',
                 center_feature_scale: bool = False, impl: Impl = 'auto') -> None:
        super().__init__()
        if channels % group:
            raise ValueError(f'channels ({channels}) must be divisible by group ({group})')
        if norm_layer != 'LN':
            raise ValueError(f"norm_layer must be 'LN', got {norm_layer!r}")
        dw_kernel_size = dw_kernel_size or kernel_size
        self.channels, self.group, self.group_channels = channels, group, channels // group
        self.kernel_size, self.stride, self.pad, self.dilation = kernel_size, stride, pad, dilation
        self.offset_scale, self.center_feature_scale = offset_scale, center_feature_scale
        self.impl = impl
        self.equivalent_stride = 1
        k = kernel_size * kernel_size
        self.dw_conv = nn.Sequential(
            nn.Conv2d(channels, channels, dw_kernel_size, stride, (dw_kernel_size - 1) // 2,
                      groups=channels),
            nn.Sequential(_ToChannelsLast(), nn.LayerNorm(channels, eps=1e-6)),
            _act(act_layer))
        self.offset = nn.Linear(channels, group * k * 2)
        self.mask = nn.Linear(channels, group * k)
        self.input_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = nn.Parameter(torch.zeros(group, channels))
            self.center_feature_scale_proj_bias = nn.Parameter(torch.zeros(group))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Offsets and mask start at zero (a plain average grid); projections xavier."""
        for layer in (self.offset, self.mask):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        for layer in (self.input_proj, self.output_proj):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        if self.center_feature_scale:
            nn.init.zeros_(self.center_feature_scale_proj_weight)
            nn.init.zeros_(self.center_feature_scale_proj_bias)

    def set_equivalent_stride(self, e: int) -> None:
        """Runs on maps ``e`` times denser than the weights were made for.

        Bilinear sampling would have to interpolate between pixels ``e``
        apart, so the whole module runs on each of the ``e*e`` phase
        sub-maps instead: exact, since every part of it is translation
        equivariant with zeros outside the map.
        """
        if e > 1 and self.stride != 1:
            raise ValueError('equivalent stride needs a stride-1 DCNv3')
        self.equivalent_stride = int(e)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        e = self.equivalent_stride
        if e == 1:
            return self._forward(input)
        n, h, w, c = input.shape
        phases = phase_split(input.permute(0, 3, 1, 2), e).permute(0, 2, 3, 1)
        out = self._forward(phases.contiguous())
        return phase_merge(out.permute(0, 3, 1, 2), e, n, h, w).permute(0, 2, 3, 1)

    def _forward(self, input: torch.Tensor) -> torch.Tensor:
        n = input.shape[0]
        x = self.input_proj(input)
        x_proj = x
        x1 = self.dw_conv(input.permute(0, 3, 1, 2))
        h, w = x1.shape[1:3]
        offset = self.offset(x1)
        mask = F.softmax(self.mask(x1).view(n, h, w, self.group, -1), -1).view(n, h, w, -1)
        k = self.kernel_size
        x = dcnv3_core(x, offset, mask, k, k, self.stride, self.stride, self.pad, self.pad,
                       self.dilation, self.dilation, self.group, self.group_channels,
                       self.offset_scale, self.impl)
        if self.center_feature_scale:
            scale = torch.sigmoid(F.linear(x1, self.center_feature_scale_proj_weight,
                                           self.center_feature_scale_proj_bias))
            scale = scale.repeat_interleave(self.group_channels, dim=-1)
            x = x * (1 - scale) + x_proj * scale
        return self.output_proj(x)
