"""Version quirks of the mmcv / mmengine / torch stack, one module per concern.

Needed to run mmsegmentation 1.2.2 (mmengine 0.10.7, mmcv-lite 2.1.0) on
torch 2.14; each module's docstring says which versions it exists for:

- :mod:`.mmcv_ops`: a pure-PyTorch ``mmcv.ops`` where mmcv's compiled ops
  cannot be built;
- :mod:`.checkpoint`: ``weights_only=True`` loading that mmengine's
  checkpoints pass, and nothing more;
- :mod:`.mmengine_io`: atomic local writes (checkpoints, ``last_checkpoint``);
- :mod:`.ddp`: a DDP wrapper for CPU processes.

:func:`apply` applies them all, once; importing this package calls it.
segkit's mmseg-facing packages (``models``, ``datasets``, ``engine``,
``apis``) import it before anything from mmseg, and ``segkit.mmseg`` (what
configs name in ``custom_imports``) imports those; ``segkit.ops`` and
``segkit.utils`` never do: they need only torch.
"""
from __future__ import annotations

import warnings

from .checkpoint import (CheckpointError, allow_mmengine_checkpoints, load_checkpoint_file,
                         register_checkpoint_loader)
from .ddp import register_cpu_ddp
from .mmcv_ops import install_mmcv_ops_standin
from .mmengine_io import make_local_writes_atomic

__all__ = ['CheckpointError', 'allow_mmengine_checkpoints', 'apply', 'install_mmcv_ops_standin',
           'load_checkpoint_file']

_applied = False


def apply() -> None:
    """Applies every fix above, once."""
    global _applied
    if _applied:
        return
    # mmcv-lite 2.1.0 warns on every import that its deformable attention
    # needs the compiled ops; that is known and documented, not news.
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    install_mmcv_ops_standin()
    allow_mmengine_checkpoints()
    register_checkpoint_loader()
    make_local_writes_atomic()
    register_cpu_ddp()
    _applied = True


apply()
