# DeepLabV3 on ResNet-50-qh: ResNetV1c-50 with quasi-hexagonal 3x3 convs (Sun,
# Ozay, Okatani, arXiv 1511.09231; 7 of 9 taps, orientations cycling right,
# down, left, up), made dense at output stride 8. Starts from the square
# ImageNet weights (checkpoints/resnet50_v1c.pth): their kept taps.
_base_ = '../dense_resnet/deeplabv3_dense-r50-os8_4xb4-160k_ade20k-512x512.py'
model = dict(backbone=dict(backbone=dict(
    _delete_=True, type='ShapedBackbone', shape='cycle',
    backbone={{_base_.model.backbone.backbone}})))
