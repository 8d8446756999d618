# UPerNet on ResNet-50-DCNv2 (DCNv2 in conv3-conv5), mmseg's upernet_r50 recipe.
_base_ = [
    '../_base_/models/upernet_r50-dcnv2.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
