"""Version quirks of the mmcv / mmengine / torch stack, one module per concern.

Needed to run mmsegmentation 1.2.2 (mmengine 0.10.7, mmcv-lite 2.1.0) on
torch 2.14; each module's docstring says which versions it exists for:

- :mod:`.mmcv_ops`: mmcv-lite's ``mmcv.ops`` on segkit's kernels
  (:mod:`.mmcv_kernels`) and operators, where mmcv's compiled ops cannot be
  built;
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
    # mmcv 2.1.0's transformer.py warns on import that its deformable attention
    # moved to mmcv.ops (or, without mmcv.ops, that it failed to import it):
    # about mmcv's own import, not the user's code
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    warnings.filterwarnings('ignore', message='``MultiScaleDeformableAttention`` has been moved')
    # mmdet 3.3.0 imports imagecorruptions 1.1.2 (if installed), which imports
    # pkg_resources, deprecated by setuptools 80: every process would say so
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API')
    install_mmcv_ops_standin()
    allow_mmengine_checkpoints()
    register_checkpoint_loader()
    make_local_writes_atomic()
    register_cpu_ddp()
    _applied = True


apply()
