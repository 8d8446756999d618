"""Distributed training on CPU processes with mmengine 0.10.7.

mmengine's Runner passes ``device_ids=[LOCAL_RANK]`` to DDP, which torch only
accepts for CUDA modules; :func:`register_cpu_ddp` registers a wrapper that
drops them, which ``segkit.apis.train`` uses with the gloo backend when
there is no GPU.
"""
from __future__ import annotations

from typing import Any

import torch.nn as nn

__all__ = ['register_cpu_ddp']


def register_cpu_ddp() -> type:
    """Registers ``CPUDistributedDataParallel`` in mmengine's MODEL_WRAPPERS."""
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import MODEL_WRAPPERS

    @MODEL_WRAPPERS.register_module(force=True)
    class CPUDistributedDataParallel(MMDistributedDataParallel):
        """``MMDistributedDataParallel`` for models that live on the CPU."""

        def __init__(self, module: nn.Module, device_ids: Any = None, **kwargs: Any) -> None:
            super().__init__(module=module, device_ids=None, **kwargs)

    return CPUDistributedDataParallel
