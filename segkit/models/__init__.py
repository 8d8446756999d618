"""mmseg-registered backbones, decode heads and layers."""
from .dense_backbone import DenseBackbone

__all__ = ['DenseBackbone']
