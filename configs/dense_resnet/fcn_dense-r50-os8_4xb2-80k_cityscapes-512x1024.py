_base_ = [
    '../_base_/models/fcn_dense-r50.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_80k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
