"""segkit's Mask2Former heads: mmseg's head with a tensor output, and the
inference of InternImage's / DCNv4's Mask2Former; the operation orders of
mmdet 3.x's Mask2Former layers against the originals' mmcv 1.x ones."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from segkit.models import InternImageMask2FormerHead, SemanticMask2FormerHead, semantic_map
from tests.helpers import REPO

SAMPLE = REPO / 'configs' / 'sample' / 'mask2former_flashinternimage-c16_sample-128x128.py'
CHANNELS = [16, 32, 64, 128]


@pytest.fixture(scope='module')
def head_cfg() -> ConfigDict:
    return Config.fromfile(str(SAMPLE)).model.decode_head


def _head(cfg: ConfigDict, head_type: str) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = copy.deepcopy(cfg)
    cfg.type = head_type
    head = MODELS.build(cfg)
    head.init_weights()
    return head.eval()


def _feats(size: tuple[int, int] = (64, 96), batch: int = 1) -> list[torch.Tensor]:
    torch.manual_seed(1)
    return [torch.randn(batch, c, size[0] // s, size[1] // s)
            for c, s in zip(CHANNELS, (4, 8, 16, 32))]


def test_semantic_map_is_mask2formers_sum() -> None:
    """The einsum of mmdet / mmseg / the originals (DCNv4 mask2former_head.py
    L576-578), in float64."""
    torch.manual_seed(0)
    cls_scores = torch.randn(2, 5, 4, dtype=torch.float64)
    mask_preds = torch.randn(2, 5, 6, 7, dtype=torch.float64)
    expected = torch.einsum('bqc,bqhw->bchw', F.softmax(cls_scores, dim=-1)[..., :-1],
                            mask_preds.sigmoid())
    out = semantic_map(cls_scores, mask_preds)
    assert out.shape == (2, 3, 6, 7)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)


def test_forward_without_samples_is_the_last_layers_semantic_map(head_cfg: ConfigDict) -> None:
    """mmseg's mode='tensor' calls decode_head.forward(x): the semantic map at
    1/4 of the input; with data samples the forward is mmdet's."""
    head = _head(head_cfg, 'SemanticMask2FormerHead')
    feats = _feats()
    with torch.no_grad():
        out = head(feats)
        cls_scores, mask_preds = head(feats, [SegDataSample()])
    assert out.shape == (1, 7, 16, 24)
    assert len(cls_scores) == len(mask_preds) == 3 + 1  # the queries, then each layer
    assert cls_scores[-1].shape == (1, 16, 8) and mask_preds[-1].shape == (1, 16, 16, 24)
    torch.testing.assert_close(out, semantic_map(cls_scores[-1], mask_preds[-1]))


def _metas(shape: tuple[int, int]) -> list[dict]:
    return [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)]


def test_semantic_head_predicts_as_mmseg(head_cfg: ConfigDict) -> None:
    mmseg_head = _head(head_cfg, 'Mask2FormerHead')
    head = _head(head_cfg, 'SemanticMask2FormerHead')
    head.load_state_dict(mmseg_head.state_dict())
    feats = _feats()
    with torch.no_grad():
        torch.testing.assert_close(head.predict(feats, _metas((64, 96)), {}),
                                   mmseg_head.predict(feats, _metas((64, 96)), {}))


def test_internimage_head_predicts_as_the_original(head_cfg: ConfigDict) -> None:
    """The original's forward_test (DCNv4 mask2former_head.py L571-579: the
    last layer's class probabilities times sigmoid masks at the masks'
    resolution) resized bilinearly to the input by its segmentor
    (encoder_decoder_mask2former.py L75-79, align_corners False); mmseg 1.x
    upsamples the mask logits first, which differs near boundaries."""
    head = _head(head_cfg, 'InternImageMask2FormerHead')
    mmseg_head = _head(head_cfg, 'Mask2FormerHead')
    mmseg_head.load_state_dict(head.state_dict())
    feats = _feats(batch=2)
    metas = _metas((64, 96)) * 2
    with torch.no_grad():
        cls_scores, mask_preds = head(feats, [SegDataSample()] * 2)
        cls_score = F.softmax(cls_scores[-1], dim=-1)[..., :-1]
        seg_mask = torch.einsum('bqc,bqhw->bchw', cls_score, mask_preds[-1].sigmoid())
        original = F.interpolate(seg_mask, size=(64, 96), mode='bilinear', align_corners=False)
        out = head.predict(feats, metas, {})
        upsampled_first = mmseg_head.predict(feats, metas, {})
    assert out.shape == (2, 7, 64, 96)
    torch.testing.assert_close(out, original)
    assert (out - upsampled_first).abs().max() > 1e-3


def test_training_gives_every_parameter_a_finite_gradient(head_cfg: ConfigDict) -> None:
    head = _head(head_cfg, 'InternImageMask2FormerHead').train()
    samples = []
    for i in range(2):
        label = torch.full((1, 64, 96), 255, dtype=torch.long)
        label[:, :32] = i
        label[:, 32:, :48] = 3
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(img_shape=(64, 96), pad_shape=(64, 96)))
        samples.append(sample)
    losses = head.loss(_feats(batch=2), samples, None)
    assert len(losses) == 3 * 4  # cls, mask, dice of each of the 4 predictions
    sum(losses.values()).backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.isfinite().all(), name
    assert any(p.grad.abs().sum() > 0 for p in head.parameters())


def test_heads_are_registered_mmseg_heads() -> None:
    from mmseg.models.decode_heads import Mask2FormerHead

    assert MODELS.get('SemanticMask2FormerHead') is SemanticMask2FormerHead
    assert MODELS.get('InternImageMask2FormerHead') is InternImageMask2FormerHead
    assert issubclass(InternImageMask2FormerHead, Mask2FormerHead)


# --- operation orders: mmdet 3.x layers vs the originals' mmcv 1.x ones ------
def test_decoder_layer_order_is_the_originals(head_cfg: ConfigDict) -> None:
    """The original's DetrTransformerDecoderLayer runs operation_order
    ('cross_attn', 'norm', 'self_attn', 'norm', 'ffn', 'norm') (leaf L95-96;
    mmcv 1.x BaseTransformerLayer: post-norm, each attention and FFN adding
    its input back, the queries' positions on both self-attention sides):
    mmdet's Mask2FormerTransformerDecoderLayer computes that composition."""
    layer = _head(head_cfg, 'SemanticMask2FormerHead').transformer_decoder.layers[0]
    torch.manual_seed(2)
    query, query_pos = torch.randn(2, 16, 32), torch.randn(2, 16, 32)
    key, key_pos = torch.randn(2, 40, 32), torch.randn(2, 40, 32)
    mask = torch.rand(2 * 4, 16, 40) > 0.7
    with torch.no_grad():
        out = layer(query=query, key=key, value=key, query_pos=query_pos, key_pos=key_pos,
                    cross_attn_mask=mask, query_key_padding_mask=None, key_padding_mask=None)
        x = layer.cross_attn(query, key, key, query_pos=query_pos, key_pos=key_pos,
                             attn_mask=mask)
        x = layer.norms[0](x)
        x = layer.self_attn(x, x, x, query_pos=query_pos, key_pos=query_pos)
        x = layer.norms[2](layer.ffn(layer.norms[1](x)))
    torch.testing.assert_close(out, x)
    swapped = layer.norms[0](layer.self_attn(query, query, query, query_pos=query_pos,
                                             key_pos=query_pos))
    assert not torch.allclose(out, layer.norms[2](layer.ffn(layer.norms[1](
        layer.cross_attn(swapped, key, key, query_pos=query_pos, key_pos=key_pos,
                         attn_mask=mask)))))


def test_encoder_layer_order_is_the_originals(head_cfg: ConfigDict) -> None:
    """The pixel decoder's BaseTransformerLayer runs ('self_attn', 'norm',
    'ffn', 'norm') (leaf L64) with no final norm (DetrTransformerEncoder's
    post_norm exists only for pre-norm layers: mmseg_custom/models/utils/
    transformer.py L388-397): mmdet's encoder layer computes that, and
    mmdet's encoder adds no norm."""
    decoder = _head(head_cfg, 'SemanticMask2FormerHead').pixel_decoder
    layer = decoder.encoder.layers[0]
    assert not hasattr(decoder.encoder, 'post_norm') or decoder.encoder.post_norm is None
    torch.manual_seed(3)
    shapes = torch.tensor([[2, 3], [4, 6], [8, 12]])
    num = int(shapes.prod(1).sum())
    starts = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
    query, pos = torch.randn(2, num, 32), torch.randn(2, num, 32)
    reference = torch.rand(2, num, 3, 2)
    kwargs = dict(spatial_shapes=shapes, level_start_index=starts, reference_points=reference)
    with torch.no_grad():
        out = layer(query=query, query_pos=pos, key_padding_mask=None, **kwargs)
        x = layer.self_attn(query=query, key=query, value=query, query_pos=pos,
                            key_pos=pos, key_padding_mask=None, **kwargs)
        expected = layer.norms[1](layer.ffn(layer.norms[0](x)))
    torch.testing.assert_close(out, expected)
