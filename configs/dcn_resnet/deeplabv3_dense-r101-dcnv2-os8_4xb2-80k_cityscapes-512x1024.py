# DeepLabV3 on ResNet-101-DCNv2 made dense at output stride 8 by equivalent
# stride (mmseg's deeplabv3_r101-d8 recipe).
_base_ = [
    '../_base_/models/deeplabv3_dense-r50-dcnv2.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(backbone=dict(depth=101,
                                init_cfg=dict(checkpoint='checkpoints/resnet101_v1c.pth'))))
