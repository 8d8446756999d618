"""Layer-wise learning-rate decay for InternImage backbones.

Clark et al., "ELECTRA", ICLR 2020 (layer-wise decay); applied to InternImage
segmentation in Wang et al., arXiv 2211.05778.
"""
from __future__ import annotations

import re

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor
from mmseg.engine.optimizers import LearningRateDecayOptimizerConstructor
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'InternImageLayerDecayOptimizerConstructor',
           'internimage_layer_id']


def internimage_layer_id(name: str, depths: list[int]) -> int:
    """Depth index of a parameter: 0 for the stem, 1.. for blocks in order, and
    ``sum(depths) + 1`` for everything after the backbone (heads)."""
    if name.startswith('backbone.patch_embed'):
        return 0
    match = re.match(r'backbone\.levels\.(\d+)\.blocks\.(\d+)\.', name)
    if match:
        stage, block = int(match.group(1)), int(match.group(2))
        return sum(depths[:stage]) + block + 1
    match = re.match(r'backbone\.levels\.(\d+)\.', name)  # a stage's norm / downsample
    if match:
        return sum(depths[:int(match.group(1)) + 1])
    return sum(depths) + 1


def _backbone_depths(model: nn.Module, configured: list[int] | None) -> list[int]:
    backbone = getattr(model, 'backbone', None)
    depths = getattr(backbone, 'depths', None)
    if depths is None:
        if configured is None:
            raise ValueError('the layer-decay constructor needs the backbone\'s depths: the '
                             'backbone has no .depths, so give paramwise_cfg.depths')
        return list(configured)
    if configured is not None and list(configured) != list(depths):
        raise ValueError(f'paramwise_cfg.depths {list(configured)} differ from the backbone\'s '
                         f'{list(depths)}; remove them (the backbone\'s are used)')
    return list(depths)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class InternImageLayerDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """Scales each parameter's lr by ``decay ** (num_layers - 1 - layer_id)``
    and gives norms, biases and layer scales no weight decay.

    ``paramwise_cfg``: ``layer_decay_rate``. The depths are the backbone's
    (``model.backbone.depths``); a ``depths`` entry, needed only for a
    backbone that does not say, must agree with them (a second hand-written
    copy that differs would silently give wrong layer ids).
    """

    def add_params(self, params: list[dict], module: nn.Module, **kwargs) -> None:
        depths = _backbone_depths(module, self.paramwise_cfg.get('depths'))
        decay = float(self.paramwise_cfg.get('layer_decay_rate', 1.0))
        num_layers = sum(depths) + 2
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = param.ndim == 1 or name.endswith('.bias') or 'gamma' in name
            layer_id = internimage_layer_id(name, depths)
            params.append({
                'params': [param],
                'lr': self.base_lr * decay ** (num_layers - 1 - layer_id),
                'weight_decay': 0.0 if no_decay else self.base_wd,
            })


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ConvNeXtDCLSOptimizerConstructor(LearningRateDecayOptimizerConstructor):
    """mmseg's layer/stage-wise lr decay for ConvNeXt, plus the ConvNeXt-dcls
    rule for positions: DCLS ``P`` gets no weight decay and ``dcls_lr_mult``
    (default 5, as in the ConvNeXt-dcls training) times its group's lr.

    ``paramwise_cfg``: ``decay_rate``, ``decay_type``, ``num_layers`` (as
    mmseg's constructor) and ``dcls_lr_mult``.
    """

    def add_params(self, params: list[dict], module: nn.Module, **kwargs) -> None:
        cfg = dict(self.paramwise_cfg)
        mult = float(cfg.get('dcls_lr_mult', 5.0))
        super().add_params(params, module, **kwargs)
        extra = []
        for group in params:
            names = group.get('param_names', [])
            positions = [i for i, n in enumerate(names) if n.endswith('.P')]
            if not positions:
                continue
            moved = set(positions)
            extra.append(dict(group, params=[group['params'][i] for i in positions],
                              param_names=[names[i] for i in positions], weight_decay=0.0,
                              lr=group['lr'] * mult, lr_scale=group['lr_scale'] * mult,
                              group_name=group['group_name'] + '_dcls_positions'))
            group['params'] = [p for i, p in enumerate(group['params']) if i not in moved]
            group['param_names'] = [n for i, n in enumerate(names) if i not in moved]
        params[:] = [g for g in params if g['params']] + extra
