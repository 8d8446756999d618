# A slim ConvNeXt with UPerNet, trained from scratch on the sample data in a few
# CPU minutes; token_mixer=dict(type='dw') (7x7 depthwise). The DCLS variant inherits this.
# c16: 16 base channels, depths 1-1-2-1 (not one of the published sizes).
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/sample.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_sample.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        arch=dict(depths=[1, 1, 2, 1], channels=[16, 32, 64, 128]),
        token_mixer=dict(type='dw'),
        drop_path_rate=0.0,
        init_cfg=None),  # from scratch
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32, num_classes=7,
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=7, norm_cfg=norm_cfg))
env_cfg = dict(cudnn_benchmark=False)
custom_hooks = [dict(type='DCLSClampHook')]
# DCLS positions (if any): no weight decay, 5x the lr (no layer decay here)
optim_wrapper = dict(
    constructor='ConvNeXtDCLSOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=1.0, decay_type='stage_wise', num_layers=6, dcls_lr_mult=5.0))
