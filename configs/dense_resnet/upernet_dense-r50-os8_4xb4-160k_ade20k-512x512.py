# mmseg's UPerNet R-50 recipe with the backbone made dense at output stride 8
# (mmseg's UPerNet runs at 32): segkit's own model, no published number.
_base_ = [
    '../_base_/models/upernet_dense-r50.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
