"""Choosing a sampling implementation, for every deformable version alike.

Each version (DCN and DCNv2, DCNv3, DCNv4) gives its four implementations of one function
``(input, *tensors, geometry) -> output`` as :class:`Implementations`;
:func:`run` picks one. ``'auto'`` takes ``'reference'`` under
``torch.jit.trace`` and ``torch.export`` (and so for ONNX export and FLOP
counting), ``'cpu'`` for CPU tensors when the C++ kernel builds, and
``'triton'`` for CUDA tensors when its kernels compile and run (tried once
per configuration on a tiny probe; if not, segkit warns once and goes on);
otherwise ``'gather'`` for inference and ``'reference'`` for training. The
environment variable ``SEGKIT_DEFORM_IMPL`` overrides ``'auto'`` for all
of them.

Every implementation computes in float32 (float64 when an input is float64)
and returns the input's dtype, so under autocast the sampling positions keep
float32 precision (bfloat16 resolves only every second pixel beyond 256):
the PyTorch and C++ paths widen half and bfloat16 inputs; the Triton kernels
read them as they are and compute in float32 (half maps stay half in memory).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import torch

from . import cpu
from .gather import sample_gather
from .positions import Samples
from .reference import sample_reference

__all__ = ['Geometry', 'IMPLS', 'Impl', 'Implementations', 'run', 'sample_triton']

Impl = Literal['auto', 'reference', 'cpu', 'triton', 'gather']
IMPLS = get_args(Impl)
Fn = Callable[..., torch.Tensor]


class Geometry(Protocol):
    """What a version's implementations take besides tensors: hashable (the
    Triton probe is cached per geometry) and able to make a tiny probe of
    its tensors (:class:`DeformGeometry`, the multi-scale attention's levels)."""

    def probe(self, tensors: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]: ...


@dataclass
class Implementations:
    """One deformable version's implementations of its core, each
    ``fn(input, *tensors, geometry)``; the first tensor is at input
    resolution, the others at output resolution."""

    name: str
    reference: Fn
    cpu: Fn
    triton: Fn
    gather: Fn

    @classmethod
    def of_rule(cls, name: str, rule: Callable[..., Samples]) -> 'Implementations':
        """The four implementations of a version whose position rule
        ``rule(input, *tensors, geometry)`` gives every sample's position
        (:class:`~.positions.Samples`): each shared sampler on them."""
        def on(sampler: Callable[[torch.Tensor, Samples], torch.Tensor]) -> Fn:
            return lambda input, *tensors: sampler(input, rule(input, *tensors))
        return cls(name, reference=on(sample_reference), cpu=on(cpu.sample_cpu),
                   triton=on(sample_triton), gather=on(sample_gather))


def sample_triton(input: torch.Tensor, s: Samples) -> torch.Tensor:
    """Precomputed positions by the Triton kernels, importing Triton only
    when called (:func:`.triton_kernels.sample_triton`)."""
    from . import triton_kernels  # imports triton: only when used

    return triton_kernels.sample_triton(input, s)


# Whether the Triton kernels compiled and ran, per configuration they are
# specialised for (version, device, dtypes, geometry)
_triton_works: dict[tuple, bool] = {}


def _probe_triton(impls: Implementations, tensors: tuple[torch.Tensor, ...],
                  g: Geometry) -> None:
    """Forward and backward of the Triton kernels on a tiny probe with the
    configuration of these tensors (:meth:`DeformGeometry.probe`), so that
    both compile (or fail) now."""
    probe = [t.requires_grad_() for t in g.probe(tensors)]
    with torch.enable_grad():
        impls.triton(*probe, g).float().sum().backward()


def _try_triton(impls: Implementations, tensors: tuple[torch.Tensor, ...],
                g: Geometry) -> torch.Tensor | None:
    """``impls.triton``, or None where Triton does not work.

    The first call of each configuration runs both kernels on a tiny probe;
    a failure there (no Triton, a GPU it cannot compile for) is warned about
    once and that configuration then takes the PyTorch paths. Running out of
    memory is not a failure of the kernel and propagates.
    """
    key = (impls.name, tensors[0].device, *(t.dtype for t in tensors), g)
    if key not in _triton_works:
        try:
            import triton  # noqa: F401
            _probe_triton(impls, tensors, g)
        except torch.OutOfMemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - no triton, compiler or driver failure
            _triton_works[key] = False
            first = (str(exc).strip().splitlines() or [''])[0]
            warnings.warn(f'segkit: the {impls.name} Triton kernels do not work here '
                          f'({type(exc).__name__}: {first}); using the PyTorch path',
                          stacklevel=5)
        else:
            _triton_works[key] = True
    return impls.triton(*tensors, g) if _triton_works[key] else None


def _auto(impls: Implementations, tensors: tuple[torch.Tensor, ...],
          g: Geometry) -> torch.Tensor:
    if torch.jit.is_tracing() or torch.compiler.is_exporting():
        # tracers and exporters (torch.jit.trace, torch.export, ONNX, FLOP
        # counters) record PyTorch ops; the compiled kernels are opaque to them
        fn = impls.reference
    elif all(t.device.type == 'cpu' for t in tensors) and cpu.cpu_kernel_available():
        fn = impls.cpu
    else:
        if all(t.device.type == 'cuda' for t in tensors):
            out = _try_triton(impls, tensors, g)  # Triton takes mixed dtypes as they are
            if out is not None:
                return out
        # NOTE: measured on CPU (benchmarks/dcnv3.py): autograd through
        # embedding_bag is slower than grid_sample's fused backward.
        training = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
        fn = impls.reference if training else impls.gather
    return _widened(fn, tensors, g)


# deprecated variables: SEGKIT_DCNV3_IMPL (DCNv3 and DCNv4, segkit 0.1) and
# SEGKIT_DCN_IMPL (DCN and DCNv2, whose two paths were torchvision's kernel,
# now the shared core's, and 'grid_sample', now 'reference'), each warned once
_OLD_VARIABLES = {'SEGKIT_DCNV3_IMPL': ('DCNv3', 'DCNv4'), 'SEGKIT_DCN_IMPL': ('DCN',)}
_OLD_VALUES = {'grid_sample': 'reference', 'torchvision': 'auto'}
_warned: set[str] = set()


def _impl_from_environment(version: str) -> str:
    if 'SEGKIT_DEFORM_IMPL' in os.environ:
        return os.environ['SEGKIT_DEFORM_IMPL']
    for variable, versions in _OLD_VARIABLES.items():
        if variable in os.environ and version in versions:
            if variable not in _warned:
                _warned.add(variable)
                warnings.warn(f"segkit: {variable} is deprecated and will be removed in the "
                              "next release; use 'SEGKIT_DEFORM_IMPL'", FutureWarning,
                              stacklevel=4)
            value = os.environ[variable]
            return _OLD_VALUES.get(value, value)
    return 'auto'


def run(impls: Implementations, tensors: tuple[torch.Tensor, ...], g: Geometry,
        impl: Impl = 'auto') -> torch.Tensor:
    """The version's core by ``impl`` (see the module docstring)."""
    if impl == 'auto':
        impl = _impl_from_environment(impls.name)  # type: ignore[assignment]
    if impl not in IMPLS:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
    if impl == 'auto':  # widens per path
        return _auto(impls, tensors, g)
    if impl == 'triton':  # takes mixed dtypes as they are
        return impls.triton(*tensors, g)
    return _widened(getattr(impls, impl), tensors, g)


def _widened(fn: Fn, tensors: tuple[torch.Tensor, ...], g: Geometry) -> torch.Tensor:
    """``fn`` computed in float32, or float64 if any input is float64, and
    returned in the input's dtype: for reduced precision or mixed dtypes (as
    autocast gives), with autocast off so it does not narrow the operator's
    own products again."""
    dtypes = {t.dtype for t in tensors}
    wide = torch.float64 if torch.float64 in dtypes else torch.float32
    if dtypes == {wide}:
        return fn(*tensors, g)
    with torch.autocast(tensors[0].device.type, enabled=False):
        out = fn(*(t.to(wide) for t in tensors), g)
    return out.to(tensors[0].dtype)
