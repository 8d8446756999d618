# DeepLabV3 on ResNet-50-qh (see the ADE20K config), Cityscapes.
_base_ = '../dense_resnet/deeplabv3_dense-r50-os8_4xb2-80k_cityscapes-512x1024.py'
model = dict(backbone=dict(backbone=dict(
    _delete_=True, type='ShapedBackbone', shape='cycle',
    backbone={{_base_.model.backbone.backbone}})))
