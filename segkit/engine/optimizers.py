"""Per-parameter learning rates and weight decay of the published recipes.

Layer-wise learning-rate decay: Clark et al., "ELECTRA", ICLR 2020; applied
to segmentation by BEiT (Bao et al., arXiv 2106.08254), whose constructor
InternImage (Wang et al., arXiv 2211.05778) and ConvNeXt(-dcls) copied. The
rules here are those of the code that trained the published models, quirks
included; ``tests/helpers/original_constructors.py`` holds the originals
and the tests compare every parameter of the T models with them.
"""
from __future__ import annotations

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor
from mmseg.engine.optimizers import LearningRateDecayOptimizerConstructor
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['ConvNeXtDCLSOptimizerConstructor', 'InternImageLayerDecayOptimizerConstructor',
           'internimage_layer_id', 'internimage_no_weight_decay']

# Names the original puts at layer 0 besides the stem: Mask2Former queries and
# embeddings, the first CBNet copy's stem (InternImage's other heads/backbones).
_LAYER_0 = ('backbone.patch_embed', 'decode_head.mask_embed', 'decode_head.cls_embed',
            'decode_head.level_embed', 'decode_head.query_embed', 'decode_head.query_feat',
            'backbone.cb_modules.0.patch_embed')


def internimage_layer_id(name: str, depths: list[int]) -> int:
    """Layer id of a parameter as InternImage's ``get_num_layer_for_swin``.

    OpenGVLab/InternImage @ 31c962dc, segmentation/mmcv_custom/
    custom_layer_decay_optimizer_constructor.py L18-60: 0 for the stem,
    ``j + 1 + sum(depths[:i])`` for block ``j`` of level ``i``,
    ``1 + sum(depths[:i + 1])`` for level ``i``'s norm and downsampler, and
    ``sum(depths) + 1`` (the original's ``num_layers + 2 - 1``) for
    everything else (the heads).
    """
    if name.startswith(_LAYER_0) or 'level_embeds' in name:
        return 0
    if name.startswith(('backbone.layers', 'backbone.levels')):
        parts = name.split('.')
        level = int(parts[2])
        if parts[3] not in ('downsample', 'norm'):
            # NOTE: written out for four levels: a fifth would count three
            return int(parts[4]) + 1 + sum(depths[:min(level, 3)])
        # NOTE: the original's quirk: the last level's norm gets level 2's id
        # (1 + d0 + d1 + d2), not 1 + sum(depths)
        return 1 + sum(depths[:min(level, 2) + 1])
    return sum(depths) + 1


def internimage_no_weight_decay(name: str, param: nn.Parameter) -> bool:
    """InternImage's no-decay rule (same file, L96-100): 1-D tensors, biases,
    and any name containing 'relative_position', 'norm' or 'sampling_offsets'
    (for InternImage with UPerNet this is exactly "1-D or a bias": no
    parameter of two or more dimensions has such a name)."""
    return (param.ndim == 1 or name.endswith('.bias') or 'relative_position' in name
            or 'norm' in name or 'sampling_offsets' in name)


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
    """InternImage's ``CustomLayerDecayOptimizerConstructor`` (the original's
    segmentation recipe): each parameter's lr is
    ``base_lr * layer_decay_rate ** (num_layers - 1 - layer_id)`` with
    ``num_layers = sum(depths) + 2`` and :func:`internimage_layer_id`; weight
    decay is 0 where :func:`internimage_no_weight_decay` says so.

    ``paramwise_cfg``: ``layer_decay_rate`` (default 1.0, as every InternImage
    UPerNet config). ``depths`` and ``num_layers`` (the original's configs
    write ``num_layers=sum(depths)``, plus 2 inside) are read from the
    backbone; given, they must agree with it (a second hand-written copy
    that differs would silently give wrong layer ids). The original's
    ``offset_lr_scale``, ``backbone_small_lr`` and ``dino_head`` options
    (unused by its UPerNet configs) are not implemented and raise.
    """

    KEYS = ('layer_decay_rate', 'depths', 'num_layers')

    def add_params(self, params: list[dict], module: nn.Module, **kwargs) -> None:
        unknown = sorted(set(self.paramwise_cfg) - set(self.KEYS))
        if unknown:
            raise ValueError(f'paramwise_cfg keys {unknown} are not used by '
                             f'InternImageLayerDecayOptimizerConstructor (it reads {self.KEYS})')
        depths = _backbone_depths(module, self.paramwise_cfg.get('depths'))
        configured = self.paramwise_cfg.get('num_layers')
        if configured is not None and configured != sum(depths):
            raise ValueError(f'paramwise_cfg.num_layers {configured} differs from the '
                             f'backbone\'s {sum(depths)} blocks; remove it')
        decay = float(self.paramwise_cfg.get('layer_decay_rate', 1.0))
        num_layers = sum(depths) + 2
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            layer_id = internimage_layer_id(name, depths)
            params.append({
                'params': [param],
                'lr': self.base_lr * decay ** (num_layers - 1 - layer_id),
                'weight_decay': 0.0 if internimage_no_weight_decay(name, param) else self.base_wd,
            })


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ConvNeXtDCLSOptimizerConstructor(LearningRateDecayOptimizerConstructor):
    """mmseg's layer/stage-wise lr decay for ConvNeXt (the rule of the
    ConvNeXt and ConvNeXt-dcls segmentation code), plus ConvNeXt-dcls's rule
    for DCLS positions: every ``P`` gets no weight decay and its own group
    with ``dcls_lr_mult`` times its stage's lr.

    ``dcls_lr_mult`` defaults to 1.0 because that is what trained the
    published ConvNeXt-dcls segmentation models: the original constructor
    (K-H-Ismail/ConvNeXt-dcls @ aad45f38, semantic_segmentation/mmcv_custom/
    layer_decay_optimizer_constructor.py L86-89) sets ``scale = 5`` for
    ``.P`` but overwrites it with the stage's decay scale (L101-102) before
    any use, and mmcv's lr hook keeps each group's initial lr. The 5x exists
    only in the ImageNet training loop (``engine.py``); the knob stays for
    such recipes (the sample configs use 5).

    ``paramwise_cfg``: ``decay_rate``, ``decay_type``, ``num_layers`` (as
    mmseg's constructor) and ``dcls_lr_mult``.
    """

    def add_params(self, params: list[dict], module: nn.Module, **kwargs) -> None:
        mult = float(self.paramwise_cfg.get('dcls_lr_mult', 1.0))
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
