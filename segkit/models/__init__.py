"""mmseg-registered backbones, decode heads, segmentors and conv layers."""
import segkit.compat  # noqa: F401  (mmcv/mmengine fixes before mmseg loads)
from .conv_layers import (ChannelsLastDeformConv, DCLSConv2d, DCNv3Conv2d, DCNv4Conv2d,
                          shaped_conv_layer)
from .convnext import ConvNeXt, convert_convnext
from .dcls_aspp_head import DCLSASPPHead
from .dcls_encoder_decoder import DCLSEncoderDecoder
from .dcnv3_uper_head import DCNv3UPerHead
from .dense_backbone import DenseBackbone
from .internimage import FlashInternImage, InternImage, convert_internimage
from .shaped_backbone import ShapedBackbone, shape_convs
from .token_mixers import TOKEN_MIXERS, TokenMixer

__all__ = ['ChannelsLastDeformConv', 'ConvNeXt', 'DCLSASPPHead', 'DCLSConv2d',
           'DCLSEncoderDecoder', 'DCNv3Conv2d', 'DCNv3UPerHead', 'DCNv4Conv2d', 'DenseBackbone',
           'FlashInternImage', 'InternImage', 'ShapedBackbone', 'TOKEN_MIXERS', 'TokenMixer',
           'convert_convnext', 'convert_internimage', 'shape_convs', 'shaped_conv_layer']
