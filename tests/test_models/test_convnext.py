"""ConvNeXt with its registered mixers (dw / dcls / dcnv3), DCLS layers and training support."""
from __future__ import annotations

import pytest
import torch
from mmcv.cnn import build_conv_layer
from mmseg.registry import MODELS

from segkit.models import ConvNeXt, DCLSConv2d
from segkit.models.checkpoint_utils import CheckpointMismatchError
from tests.helpers.backbones import check_output_stride, check_shapes_and_gradients
from segkit.ops import Dcls2d

TINY = dict(depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
SMALL_DCLS = dict(type='dcls', kernel_count=6, dilated_kernel_size=7)
MIXERS = {'dw': 'dw', 'dcls': SMALL_DCLS, 'dcnv3': dict(type='dcnv3', groups=(2, 4, 8, 8)),
          'dcnv4': dict(type='dcnv4', groups=(1, 1, 2, 4))}


def _head_params(dim: int) -> int:
    return dim * 1000 + 1000 + 2 * dim  # classifier + final norm


@pytest.mark.parametrize('arch,mixer,expected', [('tiny', 'dw', 28.6e6), ('tiny', 'dcls', 28.6e6)])
def test_published_parameter_counts(arch: str, mixer: str, expected: float) -> None:
    """ConvNeXt-T 28.6M and ConvNeXt-T-dcls about the same (papers: 28M)."""
    net = ConvNeXt(arch, token_mixer=mixer)
    norms = sum(p.numel() for n, p in net.named_parameters() if n.startswith('norm'))
    total = sum(p.numel() for p in net.parameters()) - norms + _head_params(768)
    assert abs(total - expected) < 0.05e6


@pytest.mark.parametrize('mixer', MIXERS)
def test_shapes_gradients_no_nan(mixer: str) -> None:
    net = ConvNeXt(TINY, token_mixer=MIXERS[mixer], drop_path_rate=0.1)
    net.init_weights()
    # kernel == stride downsampling floors: 12 -> 6 -> 3 -> 1
    check_shapes_and_gradients(net, torch.randn(2, 3, 64, 48),
                               [(2, 8, 16, 12), (2, 16, 8, 6), (2, 32, 4, 3), (2, 64, 2, 1)])


def test_dcls_positions_shared_per_stage() -> None:
    net = ConvNeXt(TINY, token_mixer=SMALL_DCLS)
    stage = net.stages[2]
    assert stage[0].dwconv.P is stage[1].dwconv.P
    names = [n for n, _ in net.named_parameters() if n.endswith('dwconv.P')]
    assert names == [f'stages.{i}.0.dwconv.P' for i in range(4)]  # one per stage
    assert 'stages.2.1.dwconv.P' in net.state_dict()  # saved per block, as the official


@pytest.mark.parametrize('mixer', MIXERS)
@pytest.mark.parametrize('output_stride', [16, 8])
def test_output_stride_is_exact(mixer: str, output_stride: int) -> None:
    torch.manual_seed(0)
    kwargs = dict(token_mixer=MIXERS[mixer])
    plain = ConvNeXt(TINY, **kwargs)
    for name, p in plain.named_parameters():  # deform for real
        if '.offset.' in name or '.mask.' in name or '.offset_mask.' in name:
            p.data.normal_(0, 0.2)
    dense = ConvNeXt(TINY, output_stride=output_stride, **kwargs)
    check_output_stride(plain, dense, output_stride, torch.randn(1, 3, 70, 64))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="token_mixer must be"):
        ConvNeXt('tiny', token_mixer='attention')
    with pytest.raises(ValueError, match='arch must be one of'):
        ConvNeXt('giant')
    with pytest.raises(ValueError, match='output_stride'):
        ConvNeXt(TINY, output_stride=2)


def test_checkpoint_of_another_arch_is_refused(tmp_path) -> None:
    """(Official files reproduce the original: test_official_checkpoints.py.)"""
    source = ConvNeXt(TINY, token_mixer='dw')
    path = tmp_path / 'convnext.pth'
    torch.save({'model': source.state_dict()}, path)
    wrong = ConvNeXt(dict(TINY, depths=[1, 1, 1, 1]), token_mixer='dw',
                     init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(CheckpointMismatchError,
                       match=r"does not fit this ConvNeXt: 9 unexpected \[stages\.2\.1\."):
        wrong.init_weights()


def test_dcls_conv_layer_and_clamp_hook() -> None:
    from segkit.engine import DCLSClampHook

    conv = build_conv_layer(dict(type='DCLS', kernel_count=5, version='v1'), 4, 6, 7, padding=3)
    assert isinstance(conv, DCLSConv2d) and conv.kernel_size == (7, 7)
    assert conv(torch.randn(1, 4, 12, 12)).shape == (1, 6, 12, 12)
    with torch.no_grad():
        conv.P.fill_(9.0)

    class Runner:
        model = torch.nn.Sequential(conv)

    DCLSClampHook().after_train_iter(Runner(), 0)
    assert conv.P.max().item() == 3.0


@pytest.mark.parametrize('version', ['v1', 'v0'])
def test_dcls_aspp_head_starts_as_plain_aspp(version: str) -> None:
    torch.manual_seed(0)
    common = dict(in_channels=8, channels=8, dilations=(1, 2, 3), num_classes=3,
                  norm_cfg=dict(type='BN'))
    ours = MODELS.build(dict(type='DCLSASPPHead', dcls_cfg=dict(version=version), **common)).eval()
    plain = MODELS.build(dict(type='ASPPHead', **common)).eval()
    # copy everything, with each atrous 3x3 kernel laid out as DCLS elements
    state = plain.state_dict()
    for index in (1, 2):
        w = state.pop(f'aspp_modules.{index}.conv.weight')
        state[f'aspp_modules.{index}.conv.weight'] = w.flatten(2)
        state[f'aspp_modules.{index}.conv.P'] = ours.state_dict()[f'aspp_modules.{index}.conv.P']
        state[f'aspp_modules.{index}.conv.bias'] = torch.zeros(8)
    ours.load_state_dict(state, strict=False)
    x = [torch.randn(1, 8, 16, 16)]
    with torch.no_grad():
        torch.testing.assert_close(ours(x), plain(x), rtol=1e-5, atol=1e-5)
    assert isinstance(ours.aspp_modules[1].conv, Dcls2d)


@pytest.mark.slow
def test_tiny_convnext_dcls_trains_positions_move_and_stay_clamped(sample_root, tmp_path) -> None:
    from mmengine.config import Config
    from mmengine.runner import Runner

    from tests.helpers import REPO

    cfg = Config.fromfile(str(REPO / 'configs/sample/upernet_convnext-c16-dcls_sample-128x128.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(sample_root / 'ade')
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=8, val_interval=100)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.work_dir = str(tmp_path)
    cfg.optim_wrapper.optimizer.lr = 0.05  # positions: 0.25 px per Adam step
    runner = Runner.from_cfg(cfg)
    backbone = runner.model.backbone
    with torch.no_grad():  # near the border (not on integers, where bilinear has no gradient)
        for stage in backbone.stages:
            stage[0].dwconv.P.copy_(torch.where(torch.rand_like(stage[0].dwconv.P) < 0.5,
                                                3.9, -3.9))
    before = {i: stage[0].dwconv.P.detach().clone() for i, stage in enumerate(backbone.stages)}
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    groups = runner.optim_wrapper.optimizer.param_groups
    position_groups = [g for g in groups if g.get('group_name', '').endswith('_dcls_positions')]
    assert len(position_groups) >= 1 and all(g['weight_decay'] == 0 for g in position_groups)
    assert {id(p) for g in position_groups for p in g['params']} == {
        id(stage[0].dwconv.P) for stage in backbone.stages}
    runner.train()
    for i, stage in enumerate(backbone.stages):
        P = stage[0].dwconv.P.detach()
        assert not torch.equal(P, before[i]), f'stage {i} positions did not move'
        assert P.abs().max() <= 9 // 2, 'DCLSClampHook keeps positions in the 9x9 kernel'


@pytest.mark.slow
def test_plot_dcls_positions(tmp_path) -> None:
    from mmengine.config import Config

    from segkit.apis.dcls_positions import collect_dcls_positions
    from tests.helpers import REPO, run_tool_in_process

    config = REPO / 'configs/sample/upernet_convnext-c16-dcls_sample-128x128.py'
    model = MODELS.build(Config.fromfile(str(config)).model)
    positions = collect_dcls_positions(model)
    assert list(positions) == [f'backbone.stages.{i}.0.dwconv' for i in range(4)]
    first = positions['backbone.stages.0.0.dwconv']
    assert first['layers'] == 1 and first['size'] == (9, 9)
    P = model.backbone.stages[0][0].dwconv.P  # 'v0': P[0] is the row, P[1] the column
    torch.testing.assert_close(first['x'], P[1].flatten() + 4)
    torch.testing.assert_close(first['y'], P[0].flatten() + 4)
    ckpt, png = tmp_path / 'model.pth', tmp_path / 'taps.png'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    result = run_tool_in_process('tools/plot_dcls_positions.py', config, ckpt, '--out', png)
    assert '4 position sets plotted' in result.stdout
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 5000


def test_repulsion_loss_in_training() -> None:
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    model = MODELS.build(dict(
        type='DCLSEncoderDecoder', repulsion_weight=0.5,
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32)),
        backbone=dict(type='ConvNeXt', arch=TINY, token_mixer=SMALL_DCLS),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=8, num_classes=3)))
    sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 3, (1, 32, 32))))
    sample.set_metainfo(dict(img_shape=(32, 32), ori_shape=(32, 32), pad_shape=(32, 32)))
    data = model.data_preprocessor(dict(inputs=[torch.rand(3, 32, 32) * 255],
                                        data_samples=[sample]), True)
    losses = model(**data, mode='loss')
    assert losses['loss_repulsion'] > 0
    losses['loss_repulsion'].backward()
    assert model.backbone.stages[0][0].dwconv.P.grad.abs().sum() > 0


def test_a_new_mixer_is_one_registration() -> None:
    """A mixer registered from outside builds into ConvNeXt, with its own
    stage-wise layers and whole-network step, without touching convnext.py."""
    from segkit.models.token_mixers import TOKEN_MIXERS, TokenMixer

    class Shift(torch.nn.Module):  # a parameter-free mixer: roll the map by one pixel
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.roll(x, 1, dims=-1)

    @TOKEN_MIXERS.register_module('toy_shift')
    class ShiftMixer(TokenMixer):
        def __init__(self, every: int = 1, **kwargs) -> None:
            super().__init__(**kwargs)
            self.every, self.stages_seen = every, []

        def build_stage(self, channels, depth, stage):
            self.stages_seen.append((channels, depth, stage))
            return [Shift() for _ in range(depth)]

    try:
        net = ConvNeXt(TINY, token_mixer=dict(type='toy_shift', every=2))
        assert net.mixer.every == 2 and net.mixer.arch == 'custom'
        assert net.mixer.stages_seen == [(8, 1, 0), (16, 1, 1), (32, 2, 2), (64, 1, 3)]
        assert all(isinstance(block.dwconv, Shift) for stage in net.stages for block in stage)
        outs = net(torch.randn(1, 3, 32, 32))
        assert [o.shape[1] for o in outs] == [8, 16, 32, 64]
    finally:
        TOKEN_MIXERS.module_dict.pop('toy_shift')
