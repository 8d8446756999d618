# A tiny InternImage (DCNv3 blocks) with UPerNet, trained from scratch on the
# sample data in a few CPU minutes. c16: 16 base channels, depths 1-1-2-1
# (not one of the published sizes).
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/sample.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_sample.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        arch=dict(channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], layer_scale=1.0,
                  post_norm=False),
        drop_path_rate=0.0,
        init_cfg=None),  # from scratch
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32, num_classes=7,
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=7, norm_cfg=norm_cfg))
env_cfg = dict(cudnn_benchmark=False)
