# mmseg's deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024 (v1.2.2), its hand-dilated ResNetV1c-50-D8
# replaced by the same network made dense by equivalent stride.
_base_ = [
    '../_base_/models/deeplabv3_dense-r50.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
