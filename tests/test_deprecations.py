"""Old spellings of segkit 0.1 keep working for one release: each warns once,
naming the new word, and builds what the new word builds."""
from __future__ import annotations

import warnings

import pytest
import torch
from mmseg.registry import MODELS

from segkit.models import ConvNeXt, DCNv3Conv2d
from segkit.ops import ShapedConv2d
from segkit.utils.configs import resolve_config

TINY = dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64])


def _one_warning(fn, new_word: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = fn()
    messages = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)]
    assert len(messages) == 1, messages
    assert 'deprecated' in messages[0] and new_word in messages[0]
    return result


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(sa[k].shape == sb[k].shape for k in sa)


@pytest.mark.parametrize('old,new,word', [
    (dict(token_mixer='hex'), dict(token_mixer='shaped'), "'shaped'"),
    (dict(token_mixer='hex', hex_shape='qh-mixed'),
     dict(token_mixer=dict(type='shaped', shape='qh-mixed')), 'shape'),
    (dict(token_mixer='dcls', dcls_cfg=dict(kernel_count=5, dilated_kernel_size=7)),
     dict(token_mixer=dict(type='dcls', kernel_count=5, dilated_kernel_size=7)), 'dcls'),
    (dict(token_mixer='dcnv3', dcnv3_groups=(2, 4, 8, 8)),
     dict(token_mixer=dict(type='dcnv3', groups=(2, 4, 8, 8))), 'groups'),
    (dict(layer_scale_init_value=0.5), dict(layer_scale=0.5), 'layer_scale'),
    (dict(arch=dict(depths=[1, 1, 1, 1], dims=[8, 16, 32, 64])), dict(arch=TINY), 'channels'),
])
def test_convnext_old_arguments(old: dict, new: dict, word: str) -> None:
    torch.manual_seed(0)
    if 'hex_shape' in old:  # two old words: two warnings
        with pytest.warns(FutureWarning):
            built = ConvNeXt(TINY, **old)
    else:
        old = {'arch': TINY, **old}
        built = _one_warning(lambda: ConvNeXt(**old), word)
    expected = ConvNeXt(**{'arch': TINY, **new})
    _same_state(built, expected)
    assert built.token_mixer == expected.token_mixer
    if 'layer_scale' in new:
        assert torch.all(built.stages[0][0].gamma == 0.5)


def test_dcnv3_conv_layer_group() -> None:
    old = _one_warning(lambda: DCNv3Conv2d(16, 16, 3, group=2), 'deform_groups')
    assert old.dcn.group == 2 == DCNv3Conv2d(16, 16, 3, deform_groups=2).dcn.group


def test_heads_old_arguments() -> None:
    common = dict(in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3], channels=16,
                  num_classes=3)
    head = _one_warning(lambda: MODELS.build(dict(type='DCNv3UPerHead', dcn_group=2, **common)),
                        'deform_groups')
    assert head.fpn_bottleneck.conv.dcn.group == 2
    aspp = _one_warning(lambda: MODELS.build(dict(
        type='DCLSASPPHead', in_channels=8, channels=8, dilations=(1, 2), num_classes=3,
        dcls_version='gauss')), 'dcls_cfg')
    assert aspp.aspp_modules[1].conv.version == 'gauss'


def test_shaped_conv_dense_weight() -> None:
    conv = ShapedConv2d(4, 4, 3, 'qh-left')
    kernel = _one_warning(conv.dense_weight, 'construct_kernel()')
    assert torch.equal(kernel, conv.construct_kernel())


def test_renamed_config_names() -> None:
    path = _one_warning(lambda: resolve_config('upernet_convnext-c16-hex_sample-128x128'),
                        'upernet_convnext-c16-qh_sample-128x128')
    assert path == resolve_config('sample/upernet_convnext-c16-qh_sample-128x128')


@pytest.mark.parametrize('module,old,new', [
    ('segkit.ops', 'DCNv3Geometry', 'DeformGeometry'),
    ('segkit.ops', 'dcnv3_cpu_kernel_available', 'cpu_kernel_available'),
    ('segkit.ops', 'construct_kernel', 'interpolate_kernel'),
    ('segkit.ops', 'run_core', 'segkit.ops.dcnv3.run_dcnv3_core'),
    ('segkit.ops', 'dcnv3_core_cpu', 'segkit.ops.dcnv3.dcnv3_core_cpu'),
    ('segkit.ops', 'dcnv4_core_gather', 'segkit.ops.dcnv4.dcnv4_core_gather'),
    ('segkit.ops.dcnv3', 'DCNv3Geometry', 'DeformGeometry'),
    ('segkit.ops.dcnv3', 'sampling_points', 'segkit.ops.deform_sampling.dcnv3_positions'),
    ('segkit.ops.dcls', 'construct_kernel', 'interpolate_kernel'),
    ('segkit.ops.deform_conv', 'ModulatedDeformConv2dPack',
     'segkit.ops.dcn.ModulatedDeformConv2dPack'),
    ('segkit.models.dcnv3_layers', 'DCNv4Conv2d', 'segkit.models.conv_layers.DCNv4Conv2d'),
    ('segkit.models.dcls_layers', 'DCLSASPPHead', 'segkit.models.dcls_aspp_head.DCLSASPPHead'),
    ('segkit.models.shaped_layers', 'ShapedBackbone',
     'segkit.models.shaped_backbone.ShapedBackbone'),
])
def test_moved_names(module: str, old: str, new: str) -> None:
    """Names that left segkit.ops's public surface (aliases, per-implementation
    functions that live in their packages) and model modules renamed by what
    they hold still import, with one warning."""
    import importlib

    found = _one_warning(lambda: getattr(importlib.import_module(module), old), new)
    path, _, name = new.rpartition('.')
    assert found is getattr(importlib.import_module(path or 'segkit.ops'), name)
    with pytest.raises(AttributeError):
        importlib.import_module(module).no_such_name  # noqa: B018


def test_old_dcn_environment_variable(monkeypatch) -> None:
    from segkit.ops.dcn import DCN
    from segkit.ops.deform_sampling import dispatch

    calls = []
    monkeypatch.setattr(DCN, 'reference', lambda *a, fn=DCN.reference: calls.append(1) or fn(*a))
    monkeypatch.setattr(dispatch, '_warned', set())
    monkeypatch.setenv('SEGKIT_DCN_IMPL', 'grid_sample')
    from segkit.ops import DeformConv2dPack

    _one_warning(lambda: DeformConv2dPack(2, 2, 3, padding=1)(torch.randn(1, 2, 5, 5)),
                 'SEGKIT_DEFORM_IMPL')
    assert calls == [1]
