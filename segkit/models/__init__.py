"""mmseg-registered backbones, decode heads and layers."""
from .dcnv3_layers import DCNv3Conv2d, DCNv3UPerHead
from .dense_backbone import DenseBackbone
from .internimage import InternImage, convert_internimage

__all__ = ['DCNv3Conv2d', 'DCNv3UPerHead', 'DenseBackbone', 'InternImage',
           'convert_internimage']
