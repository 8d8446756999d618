# UPerNet on ResNet-101-DCNv2 (DCNv2 in conv3-conv5), mmseg's upernet_r101 recipe.
_base_ = [
    '../_base_/models/upernet_r50-dcnv2.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=101, init_cfg=dict(checkpoint='checkpoints/resnet101_v1c.pth')),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
