"""Official checkpoints reproduce the original models exactly.

Reference: ``tests/data/official/*.pt`` (see ``tests/data/README.md``), small
models built with the *original* InternImage (OpenGVLab/InternImage@31c962d)
and ConvNeXt / ConvNeXt-dcls (K-H-Ismail/ConvNeXt-dcls@aad45f3) classes, their
checkpoints in the released layouts, an input and the four stage outputs the
original computes, in float64. Each file goes through both loading routes
(``tools/convert_checkpoint.py`` then ``init_cfg``, and ``init_cfg`` on the
original file) and must give the same stage outputs to 1e-10.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from segkit.models import ConvNeXt, InternImage, convert_convnext
from segkit.models.checkpoint_utils import CheckpointMismatchError
from tests.helpers import REPO, run_tool_in_process

DATA = REPO / 'tests' / 'data' / 'official'
FILES = ['internimage_prenorm', 'internimage_postnorm', 'convnext', 'convnext_dcls']


def _golden(name: str) -> dict:
    return torch.load(DATA / f'{name}.pt', weights_only=True)


def _build(name: str, args: dict, **overrides) -> tuple[torch.nn.Module, str]:
    """A segkit backbone with the original's constructor arguments, and the
    converter's name for it."""
    if name.startswith('internimage'):
        arch = {k: args[k] for k in ('channels', 'depths', 'groups', 'layer_scale', 'post_norm')}
        return InternImage(arch, mlp_ratio=args['mlp_ratio'], offset_scale=args['offset_scale'],
                           **overrides), 'internimage'
    mixer = dict(token_mixer=dict(type='dcls', kernel_count=args['dcls_kernel_count'],
                                  dilated_kernel_size=args['dcls_kernel_size'])
                 ) if 'dcls_kernel_size' in args else dict(token_mixer='dw')
    # the original's dims and layer_scale_init_value are segkit's channels and layer_scale
    return ConvNeXt(dict(depths=args['depths'], channels=args['dims']),
                    layer_scale=args['layer_scale_init_value'],
                    **{**mixer, **overrides}), 'convnext'


def _stages(net: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The four stage outputs as the golden files define them: InternImage's
    level outputs (what the backbone returns); ConvNeXt's ``stages[i]``
    outputs, before segkit's output norms."""
    net = net.double().eval()
    with torch.no_grad():
        if isinstance(net, InternImage):
            return list(net(x))
        outs = []
        hooks = [stage.register_forward_hook(lambda m, i, o: outs.append(o))
                 for stage in net.stages]
        net(x)
        for hook in hooks:
            hook.remove()
        return outs


def _assert_reproduces(outs: list[torch.Tensor], golden: dict) -> None:
    for i, (out, ref) in enumerate(zip(outs, golden['stages'], strict=True)):
        assert out.shape == ref.shape, f'stage {i}'
        err = ((out - ref).abs().max() / ref.abs().max()).item()
        assert err <= 1e-10, f'stage {i}: relative error {err:.2e}'


def _pretrained(path: Path, **extra) -> dict:
    return dict(init_cfg=dict(type='Pretrained', checkpoint=str(path), **extra))


@pytest.mark.parametrize('name', FILES)
def test_official_file_through_init_cfg(name: str, tmp_path: Path) -> None:
    golden = _golden(name)
    path = tmp_path / 'official.pth'
    torch.save(golden['checkpoint'], path)
    net, _ = _build(name, golden['args'], **_pretrained(path))
    net.init_weights()  # strict: any missing or unexpected key is an error
    _assert_reproduces(_stages(net, golden['input']), golden)


@pytest.mark.slow
@pytest.mark.parametrize('name', FILES)
def test_official_file_through_the_convert_tool(name: str, tmp_path: Path) -> None:
    golden = _golden(name)
    src, dst, again = tmp_path / 'official.pth', tmp_path / 'converted.pth', tmp_path / 'twice.pth'
    torch.save(golden['checkpoint'], src)
    _, arch = _build(name, golden['args'])
    run_tool_in_process('tools/convert_checkpoint.py', arch, src, dst)
    net, _ = _build(name, golden['args'], **_pretrained(dst))
    net.init_weights()
    _assert_reproduces(_stages(net, golden['input']), golden)
    # a converted file converted again, and loaded again, is unchanged
    run_tool_in_process('tools/convert_checkpoint.py', arch, dst, again)
    first = torch.load(dst, weights_only=True)
    second = torch.load(again, weights_only=True)
    assert first['meta'].get('dcls_version') == second['meta'].get('dcls_version')
    for key, value in first['state_dict'].items():
        assert torch.equal(second['state_dict'][key], value), key
    net, _ = _build(name, golden['args'], **_pretrained(again))
    net.init_weights()
    _assert_reproduces(_stages(net, golden['input']), golden)


def test_internimage_t_imagenet_file_into_a_segmentation_model(tmp_path: Path) -> None:
    """The original's ADE20K/Cityscapes configs build T with layer_scale=1.0 and
    load the ImageNet file (no gammas) non-strictly: gammas start at 1.0, so
    the model computes what the file's model computes; said in one line."""
    from mmengine.logging import MMLogger

    golden = _golden('internimage_prenorm')
    path = tmp_path / 'internimage_t_1k_224.pth'
    torch.save(golden['checkpoint'], path)
    net, _ = _build('internimage_prenorm', golden['args'], layer_scale=1.0, **_pretrained(path))
    logger = MMLogger.get_current_instance()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        net.init_weights()
    finally:
        logger.removeHandler(handler)
    said = [r.getMessage() for r in records if 'has no layer scale' in r.getMessage()]
    gammas = [p for n, p in net.named_parameters() if n.endswith(('gamma1', 'gamma2'))]
    assert len(gammas) == 2 * sum(golden['args']['depths'])
    assert all(torch.equal(g, torch.ones_like(g)) for g in gammas)
    assert len(said) == 1 and str(path) in said[0]
    _assert_reproduces(_stages(net, golden['input']), golden)


def test_layer_scale_and_norm_mismatches_are_one_line_errors(tmp_path: Path) -> None:
    post = _golden('internimage_postnorm')
    path = tmp_path / 'post.pth'
    torch.save(post['checkpoint'], path)
    # a file with layer scales into a model without: the gammas are unexpected
    net, _ = _build('internimage_postnorm', {**post['args'], 'layer_scale': None},
                    **_pretrained(path))
    with pytest.raises(CheckpointMismatchError,
                       match=r'10 unexpected \[levels\.0\.blocks\.0\.gamma1, '):
        net.init_weights()
    # a post-norm file into a pre-norm model: the level norms are missing
    net, _ = _build('internimage_postnorm', {**post['args'], 'post_norm': False},
                    **_pretrained(path))
    with pytest.raises(CheckpointMismatchError, match=r'missing \[levels\.0\.norm\.0\.weight'):
        net.init_weights()


@pytest.mark.parametrize('version', ['v1', 'gauss'])
def test_dcls_file_into_another_version_is_refused(version: str, tmp_path: Path) -> None:
    golden = _golden('convnext_dcls')
    path = tmp_path / 'convnext_dcls_tiny_1k_224_ema.pth'
    torch.save(golden['checkpoint'], path)
    args = golden['args']
    net = ConvNeXt(dict(depths=args['depths'], channels=args['dims']),
                   token_mixer=dict(type='dcls', kernel_count=34, dilated_kernel_size=17,
                                    version=version), **_pretrained(path))
    with pytest.raises(CheckpointMismatchError,
                       match=f"version 'v0' but this ConvNeXt uses '{version}'"):
        net.init_weights()
    plain = ConvNeXt(dict(depths=args['depths'], channels=args['dims']), token_mixer='dw',
                     **_pretrained(path))
    with pytest.raises(CheckpointMismatchError, match="uses no DCLS"):
        plain.init_weights()


def test_a_file_may_declare_its_dcls_version(tmp_path: Path) -> None:
    """A segkit-trained v1 backbone loads into a v1 model when the file (or the
    init_cfg) says it is v1, and not into the default v0 model."""
    arch = dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64])
    dcls = dict(type='dcls', kernel_count=4, dilated_kernel_size=5)
    source = ConvNeXt(arch, token_mixer=dict(dcls, version='v1'))
    state = {k: v for k, v in source.state_dict().items() if not k.startswith('norm')}
    plain, declared = tmp_path / 'plain.pth', tmp_path / 'declared.pth'
    torch.save({'state_dict': state}, plain)
    torch.save({'state_dict': state, 'meta': {'dcls_version': 'v1'}}, declared)
    for path, extra in ((declared, {}), (plain, {'dcls_version': 'v1'})):
        net = ConvNeXt(arch, token_mixer=dict(dcls, version='v1'), **_pretrained(path, **extra))
        net.init_weights()
        assert torch.equal(net.stages[0][0].dwconv.P, state['stages.0.0.dwconv.P'])
    net = ConvNeXt(arch, token_mixer=dcls, **_pretrained(declared))
    with pytest.raises(CheckpointMismatchError, match="version 'v1' but this ConvNeXt uses 'v0'"):
        net.init_weights()
    assert convert_convnext({'state_dict': state}).keys() == state.keys()
