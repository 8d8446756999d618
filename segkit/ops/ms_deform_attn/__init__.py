"""Multi-scale deformable attention: Deformable DETR's attention, Mask2Former's
pixel decoder.

Zhu et al., "Deformable DETR", ICLR 2021, arXiv 2010.04159; Cheng et al.,
"Mask2Former", CVPR 2022, arXiv 2112.01527.

It samples with the deformable-sampling core DCN, DCNv3 and DCNv4 share
(:mod:`segkit.ops.deform_sampling`); what is its own:

- :mod:`.core`: its levels over that core (:func:`multi_scale_deformable_attn`,
  the originals' functional signature);
- :mod:`.module`: mmcv 2.1.0's ``MultiScaleDeformableAttention``, Deformable
  DETR's ``MSDeformAttn``, DCNv4's ``FlashDeformAttn``.
"""
from .core import MSDA, LevelShapes, multi_scale_deformable_attn
from .module import FlashDeformAttn, MSDeformAttn, MultiScaleDeformableAttention

__all__ = ['FlashDeformAttn', 'LevelShapes', 'MSDA', 'MSDeformAttn',
           'MultiScaleDeformableAttention', 'multi_scale_deformable_attn']
