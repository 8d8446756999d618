# UPerNet on ResNet-50-qh at its standard output stride 32 (as mmseg's UPerNet
# ResNetV1c-50 with quasi-hexagonal 3x3 convs (Sun, Ozay, Okatani, arXiv
# 1511.09231), starting from the kept taps of the square ImageNet weights.
_base_ = '../dense_resnet/upernet_dense-r50-os8_4xb2-80k_cityscapes-512x1024.py'
model = dict(backbone=dict(
    _delete_=True, type='ShapedBackbone', shape='cycle',
    backbone={{_base_.model.backbone.backbone}}))
