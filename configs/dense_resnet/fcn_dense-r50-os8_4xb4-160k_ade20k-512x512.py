# mmseg's fcn_r50-d8_4xb4-160k_ade20k-512x512 (v1.2.2), its hand-dilated ResNetV1c-50-D8
# replaced by the same network made dense by equivalent stride.
_base_ = [
    '../_base_/models/fcn_dense-r50.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
