"""mmseg-registered backbones, decode heads and layers."""
import segkit.compat  # noqa: F401  (mmcv/mmengine fixes before mmseg loads)
from .convnext import ConvNeXt, convert_convnext
from .dcls_layers import DCLSASPPHead, DCLSConv2d, DCLSEncoderDecoder
from .dcnv3_layers import DCNv3Conv2d, DCNv3UPerHead, DCNv4Conv2d
from .dense_backbone import DenseBackbone
from .internimage import FlashInternImage, InternImage, convert_internimage
from .shaped_layers import ShapedBackbone, shape_convs, shaped_conv_layer
from .token_mixers import TOKEN_MIXERS, TokenMixer

__all__ = ['ConvNeXt', 'DCLSASPPHead', 'DCLSConv2d', 'DCLSEncoderDecoder', 'DCNv3Conv2d',
           'DCNv4Conv2d',
           'DCNv3UPerHead',
           'DenseBackbone', 'FlashInternImage', 'InternImage', 'ShapedBackbone', 'convert_convnext',
           'convert_internimage', 'shape_convs', 'shaped_conv_layer', 'TOKEN_MIXERS', 'TokenMixer']
