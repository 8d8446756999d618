"""segkit's parameter groups equal the original constructors', parameter by
parameter, on the full T models of the recipes (built, never run)."""
from __future__ import annotations

import functools

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

from tests.helpers import REPO
from tests.helpers.original_constructors import (original_convnext, original_convnext_dcls,
                                                 original_flash_internimage, original_internimage)

CONFIGS = {
    'internimage-t': 'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512.py',
    'flashinternimage-s': ('flash_internimage/'
                           'upernet_flashinternimage-s_8xb2-160k_ade20k-512x512.py'),
    'convnext-t': 'convnext/upernet_convnext-t_8xb2-160k_ade20k-512x512.py',
    'convnext-t-dcls': 'convnext/upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py',
}
# The originals' paramwise_cfg, from the leaf configs that trained the T models:
#   OpenGVLab/InternImage @ 31c962dc: segmentation/configs/ade20k/
#       upernet_internimage_t_512_160k_ade20k.py L53-54
#   OpenGVLab/DCNv4 @ 4b848f7d: segmentation/configs/ade20k/
#       upernet_flash_internimage_s_512_160k_ade20k.py L54-55 (S: it has the
#       depthwise conv in DCNv4's offset branch, offset_mask_dw, that T lacks)
#   facebookresearch/ConvNeXt @ 048efcea: semantic_segmentation/configs/convnext/
#       upernet_convnext_tiny_512_160k_ade20k_ss.py L38-40
#   K-H-Ismail/ConvNeXt-dcls @ aad45f38: semantic_segmentation/configs/convnext_dcls/
#       upernet_convnext_dcls_tiny_512_160k_ade20k_ss.py L41-43
ORIGINALS = {
    'internimage-t': (original_internimage,
                      dict(num_layers=30, layer_decay_rate=1.0, depths=[4, 4, 18, 4])),
    'flashinternimage-s': (original_flash_internimage,
                           dict(num_layers=33, layer_decay_rate=1.0, depths=[4, 4, 21, 4])),
    'convnext-t': (original_convnext, dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6)),
    'convnext-t-dcls': (original_convnext_dcls,
                        dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6)),
}


@functools.lru_cache(maxsize=None)
def _recipe(key: str) -> tuple[Config, object]:
    cfg = Config.fromfile(str(REPO / 'configs' / CONFIGS[key]))
    return cfg, MODELS.build(cfg.model)


def _segkit_groups(key: str, paramwise: dict) -> dict[str, tuple[float, float]]:
    cfg, model = _recipe(key)
    wrapper_cfg = cfg.optim_wrapper.to_dict()
    # the parameter groups only (AmpOptimWrapper itself needs CUDA)
    wrapper_cfg = dict(type='OptimWrapper', optimizer=wrapper_cfg['optimizer'],
                       constructor=wrapper_cfg['constructor'],
                       paramwise_cfg={**wrapper_cfg['paramwise_cfg'], **paramwise})
    base_lr = wrapper_cfg['optimizer']['lr']
    names = {id(p): n for n, p in model.named_parameters()}
    groups = {}
    for group in build_optim_wrapper(model, wrapper_cfg).optimizer.param_groups:
        for p in group['params']:
            groups[names[id(p)]] = (group['lr'] / base_lr, group['weight_decay'])
    return groups


def _compare(key: str, segkit_paramwise: dict, original_paramwise: dict) -> None:
    cfg, model = _recipe(key)
    rule, _ = ORIGINALS[key]
    base_wd = cfg.optim_wrapper.optimizer.weight_decay
    groups = _segkit_groups(key, segkit_paramwise)
    params = dict(model.named_parameters())
    assert set(groups) == set(params), 'every parameter is in exactly one group'
    wrong = []
    for name, param in params.items():
        expected = rule(name, tuple(param.shape), original_paramwise, base_wd)
        got = groups[name]
        if got[0] != pytest.approx(expected[0], rel=1e-12) or got[1] != expected[1]:
            wrong.append((name, expected, got))
    assert not wrong, f'{len(wrong)} of {len(params)} differ (name, original, segkit): {wrong[:5]}'


@pytest.mark.parametrize('key', list(CONFIGS))
def test_recipe_param_groups_equal_the_original(key: str) -> None:
    _compare(key, {}, ORIGINALS[key][1])


@pytest.mark.parametrize('key', ['internimage-t', 'flashinternimage-s'])
@pytest.mark.parametrize('rate', [0.9, 0.75])
def test_internimage_layer_ids_equal_the_original(key: str, rate: float) -> None:
    """At a decay rate below 1 the layer ids decide the lr (the released
    configs use 1.0): the original's ids, quirks included."""
    _compare(key, dict(layer_decay_rate=rate), dict(ORIGINALS[key][1], layer_decay_rate=rate))


@pytest.mark.parametrize('key', ['convnext-t', 'convnext-t-dcls'])
@pytest.mark.parametrize('decay_type,rate', [('stage_wise', 0.7), ('layer_wise', 0.8)])
def test_convnext_decay_equals_the_original(key: str, decay_type: str, rate: float) -> None:
    _compare(key, dict(decay_type=decay_type, decay_rate=rate),
             dict(ORIGINALS[key][1], decay_type=decay_type, decay_rate=rate))


def test_dcls_positions_train_at_their_stage_lr() -> None:
    """The original's ``scale = 5`` for DCLS positions is a dead store: they
    train at their stage's lr with no weight decay (checked above for every
    parameter; spelled out here for the four position tensors)."""
    groups = _segkit_groups('convnext-t-dcls', {})
    positions = {n: g for n, g in groups.items() if n.endswith('.P')}
    assert sorted(positions) == [f'backbone.stages.{i}.0.dwconv.P' for i in range(4)]
    for i in range(4):
        stage_lr = groups[f'backbone.stages.{i}.0.pwconv1.weight'][0]
        assert positions[f'backbone.stages.{i}.0.dwconv.P'] == (pytest.approx(stage_lr), 0.0)
        assert stage_lr == pytest.approx(0.9 ** (6 - i))


def test_internimage_constructor_rejects_options_it_does_not_implement() -> None:
    cfg, model = _recipe('internimage-t')
    wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0),
                   constructor='InternImageLayerDecayOptimizerConstructor')
    with pytest.raises(ValueError, match=r"\['offset_lr_scale'\] are not used"):
        build_optim_wrapper(model, dict(wrapper, paramwise_cfg=dict(offset_lr_scale=0.1)))
    with pytest.raises(ValueError, match='num_layers 33 differs'):
        build_optim_wrapper(model, dict(wrapper, paramwise_cfg=dict(num_layers=33)))
    # the original's own spelling (num_layers = the backbone's 30 blocks) is accepted
    build_optim_wrapper(model, dict(wrapper, paramwise_cfg=dict(
        num_layers=30, layer_decay_rate=1.0, depths=[4, 4, 18, 4])))


def test_internimage_rules_on_names_the_recipes_lack() -> None:
    """The original's branches that InternImage + UPerNet never reach (other
    heads, Swin-style names, >= 2-D tensors named 'norm' ...) give what the
    original gives too."""
    import torch

    from segkit.engine import internimage_layer_id, internimage_no_weight_decay

    depths = [2, 3, 4, 5]
    paramwise = dict(num_layers=sum(depths), layer_decay_rate=0.8, depths=depths)
    names = {
        'backbone.patch_embed.proj.weight': (8, 3, 4, 4),
        'decode_head.query_embed.weight': (100, 256),
        'decode_head.level_embed.weight': (3, 256),
        'backbone.cb_modules.0.patch_embed.proj.weight': (8, 3, 4, 4),
        'neck.level_embeds': (4, 256),
        'backbone.layers.1.blocks.2.attn.relative_position_bias_table': (169, 4),
        'backbone.layers.2.downsample.reduction.weight': (16, 32),
        'backbone.levels.3.norm.0.weight': (512,),
        'backbone.levels.1.blocks.0.norm_proj.weight': (64, 64),
        'backbone.levels.2.blocks.3.attn.sampling_offsets.weight': (64, 64),
        'backbone.levels.0.blocks.1.dcn.input_proj.weight': (64, 64),
        'decode_head.conv_seg.weight': (150, 512, 1, 1),
    }
    for name, shape in names.items():
        scale, weight_decay = original_internimage(name, shape, paramwise, 0.05)
        layer_id = internimage_layer_id(name, depths)
        assert 0.8 ** (sum(depths) + 1 - layer_id) == pytest.approx(scale), name
        no_decay = internimage_no_weight_decay(name, torch.nn.Parameter(torch.zeros(shape)))
        assert (0.0 if no_decay else 0.05) == weight_decay, name
