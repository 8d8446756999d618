"""The ORIGINAL optimizer constructors' rules, as pure functions, for tests.

Each ``original_*(name, shape, paramwise_cfg, base_wd) -> (lr_scale, weight_decay)``
returns what the original constructor puts in the parameter's group: the
group's initial ``lr == lr_scale * base_lr`` (the lr schedule then scales
every group alike: mmcv 1.x ``LrUpdaterHook.before_run`` keeps each group's
``initial_lr``) and its absolute weight decay. ``name`` is the parameter's
name on the unwrapped segmentor (``backbone.``, ``decode_head.``,
``auxiliary_head.``), as ``named_parameters()`` yields it (a shared tensor,
such as ConvNeXt-dcls's per-stage positions, once, under its first name).

The logic is copied branch by branch from the code that ran (quirks kept),
not from its comments or from segkit; sources:

  InternImage   OpenGVLab/InternImage @ 31c962dc6c1ceb23e580772f7daaa6944694fbe6
                segmentation/mmcv_custom/custom_layer_decay_optimizer_constructor.py
  FlashInternImage  OpenGVLab/DCNv4 @ 4b848f7dd7da74ff03f7d278f902c6fd05b391b5
                segmentation/mmcv_custom/custom_layer_decay_optimizer_constructor.py
                (InternImage's with one more branch, L112-114, for DCNv4's
                ``offset_mask``)
  ConvNeXt-dcls K-H-Ismail/ConvNeXt-dcls @ aad45f38c94eb3aca6cb4e2ca740ecfdb8605129
                semantic_segmentation/mmcv_custom/layer_decay_optimizer_constructor.py
  ConvNeXt      facebookresearch/ConvNeXt @ 048efcea897d999aed302f2639b6270aedf8d4c8
                semantic_segmentation/mmcv_custom/layer_decay_optimizer_constructor.py
                (= the ConvNeXt-dcls file without its '.P' branch)
  mmcv / mmseg  mmcv 1.x DefaultOptimizerConstructor, mmengine 0.10
                DefaultOptimWrapperConstructor (no paramwise_cfg: one group)

Line citations (``L<n>``) refer to the original files above, at those commits.
"""
from __future__ import annotations

Result = tuple[float, float]


# --- InternImage: CustomLayerDecayOptimizerConstructor ---------------------
def _internimage_layer_id(name: str, num_max_layer: int, depths: list[int]) -> int:
    """``get_num_layer_for_swin``, InternImage file L18-60, as written."""
    if name.startswith('backbone.patch_embed'):
        return 0
    elif name.startswith('decode_head.mask_embed'):
        return 0
    elif name.startswith('decode_head.cls_embed'):
        return 0
    elif name.startswith('decode_head.level_embed'):
        return 0
    elif name.startswith('decode_head.query_embed'):
        return 0
    elif name.startswith('decode_head.query_feat'):
        return 0
    if name.startswith('backbone.cb_modules.0.patch_embed'):
        return 0
    elif 'level_embeds' in name:
        return 0
    elif name.startswith('backbone.layers') or name.startswith('backbone.levels'):
        if name.split('.')[3] not in ['downsample', 'norm']:
            stage_id = int(name.split('.')[2])
            layer_id = int(name.split('.')[4])
            if stage_id == 0:
                return layer_id + 1
            elif stage_id == 1:
                return layer_id + 1 + depths[0]
            elif stage_id == 2:
                return layer_id + 1 + depths[0] + depths[1]
            else:
                return layer_id + 1 + depths[0] + depths[1] + depths[2]
        else:
            stage_id = int(name.split('.')[2])
            if stage_id == 0:
                return 1 + depths[0]
            elif stage_id == 1:
                return 1 + depths[0] + depths[1]
            elif stage_id == 2:
                return 1 + depths[0] + depths[1] + depths[2]
            else:
                return 1 + depths[0] + depths[1] + depths[2]  # NOTE: level 2's id
    else:
        return num_max_layer - 1


def original_internimage(name: str, shape: tuple, paramwise_cfg: dict, base_wd: float,
                         dcnv4: bool = False) -> Result:
    """InternImage ``CustomLayerDecayOptimizerConstructor.add_params``, file
    L63-154. Reads ``num_layers`` (+2 inside, L84), ``layer_decay_rate``,
    ``depths``, ``offset_lr_scale`` (1.0), ``backbone_small_lr`` and
    ``dino_head`` (False). The scale is computed when a group is created
    (L116-123) from the layer id and the group name only, so per parameter:
    """
    backbone_small_lr = paramwise_cfg.get('backbone_small_lr', False)
    dino_head = paramwise_cfg.get('dino_head', False)
    num_layers = paramwise_cfg.get('num_layers') + 2
    layer_decay_rate = paramwise_cfg.get('layer_decay_rate')
    depths = paramwise_cfg.get('depths')
    offset_lr_scale = paramwise_cfg.get('offset_lr_scale', 1.0)
    # L96-104
    if len(shape) == 1 or name.endswith('.bias') or 'relative_position' in name or \
            'norm' in name or 'sampling_offsets' in name:
        group_name, this_weight_decay = 'no_decay', 0.
    else:
        group_name, this_weight_decay = 'decay', base_wd
    layer_id = _internimage_layer_id(name, num_layers, depths)  # L106
    if layer_id == num_layers - 1 and dino_head and \
            ('sampling_offsets' in name or 'reference_points' in name):
        group_name = 'layer_%d_%s_0.1x' % (layer_id, group_name)
    elif ('sampling_offsets' in name or 'reference_points' in name) and 'backbone' in name:
        group_name = 'layer_%d_%s_offset_lr_scale' % (layer_id, group_name)
    elif dcnv4 and 'offset_mask' in name and 'offset_mask_dw' not in name:
        group_name = 'layer_%d_%s_offset_lr_scale' % (layer_id, group_name)
    else:
        group_name = 'layer_%d_%s' % (layer_id, group_name)
    scale = layer_decay_rate ** (num_layers - layer_id - 1)  # L117
    if scale < 1 and backbone_small_lr:
        scale = scale * 0.1
    if '0.1x' in group_name:
        scale = scale * 0.1
    if 'offset_lr_scale' in group_name:
        scale = scale * offset_lr_scale
    return scale, this_weight_decay


def original_flash_internimage(name: str, shape: tuple, paramwise_cfg: dict,
                               base_wd: float) -> Result:
    """DCNv4's ``CustomLayerDecayOptimizerConstructor.add_params``: the
    InternImage rule plus the ``offset_mask`` branch (DCNv4 file L112-114),
    whose group takes ``offset_lr_scale``; its weight decay follows the
    general rule (``offset_mask.weight`` decays: the no-decay names still
    say ``sampling_offsets``)."""
    return original_internimage(name, shape, paramwise_cfg, base_wd, dcnv4=True)


# --- ConvNeXt / ConvNeXt-dcls: LearningRateDecayOptimizerConstructor --------
def _convnext_layer_id_layer_wise(name: str, num_max_layer: int) -> int:
    """``get_num_layer_layer_wise``, ConvNeXt-dcls file L14-42."""
    if name in ('backbone.cls_token', 'backbone.mask_token', 'backbone.pos_embed'):
        return 0
    elif name.startswith('backbone.downsample_layers'):
        stage_id = int(name.split('.')[2])
        return {0: 0, 1: 2, 2: 3, 3: num_max_layer}[stage_id]
    elif name.startswith('backbone.stages'):
        stage_id = int(name.split('.')[2])
        block_id = int(name.split('.')[3])
        return {0: 1, 1: 2, 2: 3 + block_id // 3, 3: num_max_layer}[stage_id]
    else:
        return num_max_layer + 1


def _convnext_layer_id_stage_wise(name: str, num_max_layer: int) -> int:
    """``get_num_layer_stage_wise``, ConvNeXt-dcls file L45-54: every
    downsampling layer (the stem too) is 0, stage i is i + 1, everything else
    (the heads and the backbone's output norms norm0..3) num_max_layer - 1."""
    if name in ('backbone.cls_token', 'backbone.mask_token', 'backbone.pos_embed'):
        return 0
    elif name.startswith('backbone.downsample_layers'):
        return 0
    elif name.startswith('backbone.stages'):
        return int(name.split('.')[2]) + 1
    else:
        return num_max_layer - 1


def _convnext(name: str, shape: tuple, paramwise_cfg: dict, base_wd: float,
              dcls_branch: bool) -> Result:
    num_layers = paramwise_cfg.get('num_layers') + 2  # L74
    decay_rate = paramwise_cfg.get('decay_rate')
    decay_type = paramwise_cfg.get('decay_type', 'layer_wise')
    # L83-92; 'pos_embed'/'cls_token' compare the full name (never match)
    if len(shape) == 1 or name.endswith('.bias') or name in ('pos_embed', 'cls_token'):
        this_weight_decay = 0.
    elif dcls_branch and name.endswith('.P'):
        # L86-89: no weight decay; its `scale = 5` is overwritten at L102
        # before any use (a dead store), so no lr multiplier survives
        this_weight_decay = 0.
    else:
        this_weight_decay = base_wd
    if decay_type == 'layer_wise':  # L94-97
        layer_id = _convnext_layer_id_layer_wise(name, paramwise_cfg.get('num_layers'))
    elif decay_type == 'stage_wise':
        layer_id = _convnext_layer_id_stage_wise(name, num_layers)
    else:
        raise UnboundLocalError('the original leaves layer_id unset')
    return decay_rate ** (num_layers - layer_id - 1), this_weight_decay  # L102


def original_convnext_dcls(name: str, shape: tuple, paramwise_cfg: dict,
                           base_wd: float) -> Result:
    """ConvNeXt-dcls ``LearningRateDecayOptimizerConstructor.add_params``
    (L57-127): DCLS positions ``*.P`` get weight decay 0 and their stage's lr."""
    return _convnext(name, shape, paramwise_cfg, base_wd, dcls_branch=True)


def original_convnext(name: str, shape: tuple, paramwise_cfg: dict, base_wd: float) -> Result:
    """facebookresearch/ConvNeXt's constructor: the same without the '.P' branch."""
    return _convnext(name, shape, paramwise_cfg, base_wd, dcls_branch=False)


def original_default(name: str, shape: tuple, paramwise_cfg: dict, base_wd: float) -> Result:
    """mmcv/mmengine's default constructor with no paramwise_cfg (the mmseg
    ResNet configs' SGD): one group, every parameter lr x1 and base_wd."""
    return 1.0, base_wd
