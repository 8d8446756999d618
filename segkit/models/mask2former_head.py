"""mmseg 1.x's Mask2Former head with a tensor output, and with the inference
of InternImage's and DCNv4's Mask2Former.

Cheng et al., "Masked-attention Mask Transformer for Universal Image
Segmentation", CVPR 2022, arXiv 2112.01527. mmseg 1.2.2's
``Mask2FormerHead`` is mmdet 3.3.0's (``pip install 'segkit[mask2former]'``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads import Mask2FormerHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from segkit.utils.optional import require

__all__ = ['InternImageMask2FormerHead', 'SemanticMask2FormerHead', 'semantic_map']


def semantic_map(cls_scores: Tensor, mask_preds: Tensor) -> Tensor:
    """Mask2Former's semantic inference: each class's map is the sum over
    queries of the query's class probability (softmax over the classes and
    no-object, no-object dropped) times its sigmoid mask.

    Args:
        cls_scores: (N, Q, K + 1) class logits, no-object last.
        mask_preds: (N, Q, H, W) mask logits.

    Returns:
        (N, K, H, W) class maps (not normalised: they need not sum to 1).
    """
    probs = F.softmax(cls_scores, dim=-1)[..., :-1]
    masks = mask_preds.sigmoid()
    n, _, h, w = masks.shape
    # NOTE: mmdet writes einsum('bqc,bqhw->bchw'); one batched product is the
    # same sum and exports to ONNX as a MatMul
    return torch.bmm(probs.transpose(1, 2), masks.flatten(2)).view(n, -1, h, w)


@MODELS.register_module()
class SemanticMask2FormerHead(Mask2FormerHead):
    """mmseg 1.x's ``Mask2FormerHead`` whose forward also runs without data
    samples.

    mmseg's ``EncoderDecoder`` in ``mode='tensor'`` (and segkit's wiring
    check, export and precision tools) calls ``decode_head.forward(x)``,
    which mmdet's head refuses (it wants ``batch_data_samples``, though it
    reads nothing from them). Here that call returns the last decoder
    layer's :func:`semantic_map` at the masks' resolution (1/4 of the input),
    as the other decode heads return their logits; with data samples the
    forward is mmdet's (the per-layer class and mask logits that ``loss``
    and ``predict`` read). Arguments, training and ``predict`` are mmseg's.

    Example:
        >>> sample = 'configs/sample/mask2former_flashinternimage-c16_sample-128x128.py'
        >>> head_cfg = Config.fromfile(sample).model.decode_head
        >>> head = MODELS.build(dict(head_cfg, type='SemanticMask2FormerHead'))
        >>> feats = [torch.randn(1, c, 64 // s, 64 // s)
        ...          for c, s in zip([16, 32, 64, 128], [4, 8, 16, 32])]
        >>> head(feats).shape  # 7 classes at 1/4 of a 64x64 input
        torch.Size([1, 7, 16, 16])
    """

    def __init__(self, **kwargs) -> None:
        # without mmdet, mmseg's Mask2FormerHead is a bare BaseModule
        require('mmdet.models', 'mask2former')
        super().__init__(**kwargs)

    def forward(self, x: list[Tensor], batch_data_samples: SampleList | None = None
                ) -> Tensor | tuple[list[Tensor], list[Tensor]]:
        all_cls_scores, all_mask_preds = super().forward(x, batch_data_samples)
        if batch_data_samples is not None:
            return all_cls_scores, all_mask_preds
        return semantic_map(all_cls_scores[-1], all_mask_preds[-1])


@MODELS.register_module()
class InternImageMask2FormerHead(SemanticMask2FormerHead):
    """:class:`SemanticMask2FormerHead` that predicts as the Mask2Former of
    InternImage and DCNv4 (their mmseg 0.27 ``mmseg_custom``) does.

    The original (OpenGVLab/DCNv4 @ 4b848f7d, segmentation/mmseg_custom/
    models/decode_heads/mask2former_head.py L557-579, the same in
    OpenGVLab/InternImage) computes the :func:`semantic_map` at the masks'
    resolution, 1/4 of the input, and its segmentor then resizes that map
    bilinearly to the input (encoder_decoder_mask2former.py L70-80) and to
    the original image. mmseg 1.x (as Mask2Former's own code) upsamples the
    mask logits to the input first and then takes sigmoids and the sum:
    the two differ near mask boundaries. Training is mmseg's (mmdet's),
    which computes what the original did.
    """

    def predict(self, x: tuple[Tensor], batch_img_metas: list[dict],
                test_cfg: ConfigType) -> Tensor:
        meta = batch_img_metas[0]
        size = meta.get('pad_shape', meta['img_shape'])
        return F.interpolate(self.forward(list(x)), size=size, mode='bilinear',
                             align_corners=self.align_corners)
