"""Convolutions whose dense kernel is constructed from other parameters.

DCLS builds its kernel from element weights and learnable positions
(:class:`~segkit.ops.Dcls2d`); a designed kernel shape scatters the weights of
its kept taps into the k x k grid (:class:`~segkit.ops.ShapedConv2d`). Both
then run one plain ``conv2d``. :class:`ConstructedKernelConv` is what they
share: the kernel is cached while nothing can change it (eval mode, no
gradients), and :meth:`~ConstructedKernelConv.to_conv2d` gives the
``nn.Conv2d`` the layer computes, which is how export and deployment see it.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['ConstructedKernelConv']


class ConstructedKernelConv(nn.Module):
    """Base of convolutions that build their (out, in/groups, kh, kw) kernel.

    A subclass implements :meth:`construct_kernel` and
    :meth:`kernel_parameters`, and has the attributes of ``nn.Conv2d``
    (``in_channels``, ``out_channels``, ``kernel_size``, ``stride``,
    ``padding``, ``dilation``, ``groups``, ``bias``, ``padding_mode``).
    """

    _kernel_cache: tuple[tuple, torch.Tensor] | None = None

    def construct_kernel(self) -> torch.Tensor:
        """The dense (out, in/groups, kh, kw) kernel, differentiable."""
        raise NotImplementedError

    def kernel_parameters(self) -> list[torch.Tensor]:
        """The tensors :meth:`construct_kernel` reads (the cache's key)."""
        raise NotImplementedError

    def kernel(self) -> torch.Tensor:
        """The kernel; in eval mode without gradients it is built once and
        reused until a parameter changes (an optimiser step or
        ``load_state_dict`` bumps the tensors' versions)."""
        if self.training or torch.is_grad_enabled() or torch.compiler.is_compiling():
            # NOTE: compilers and exporters trace the construction; the cache
            # keys on data pointers, which traced tensors do not have
            self._kernel_cache = None
            return self.construct_kernel()
        key = tuple((p.data_ptr(), p._version, p.dtype, p.device)
                    for p in self.kernel_parameters())
        if self._kernel_cache is None or self._kernel_cache[0] != key:
            self._kernel_cache = (key, self.construct_kernel())
        return self._kernel_cache[1]

    def conv(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """``conv2d`` of ``x`` with ``kernel`` and this layer's settings."""
        padding = self.padding
        if self.padding_mode != 'zeros':
            pad = getattr(self, '_reversed_padding_repeated_twice', None) or [
                p for p in reversed(self.padding) for _ in range(2)]
            x, padding = F.pad(x, pad, mode=self.padding_mode), 0
        return F.conv2d(x, kernel, self.bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x, self.kernel())

    @torch.no_grad()
    def to_conv2d(self) -> nn.Conv2d:
        """The ``nn.Conv2d`` this layer computes now, its constructed kernel
        as a plain weight: for export and deployment."""
        kernel = self.construct_kernel()
        conv = nn.Conv2d(self.in_channels, self.out_channels, tuple(kernel.shape[2:]),
                         self.stride, self.padding, self.dilation, self.groups,
                         self.bias is not None, self.padding_mode).to(kernel)
        conv.weight.copy_(kernel)
        if self.bias is not None:
            conv.bias.copy_(self.bias)
        return conv
