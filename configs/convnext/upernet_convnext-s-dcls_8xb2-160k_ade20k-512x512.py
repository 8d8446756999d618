# UPerNet + ConvNeXt-S-dcls; ImageNet weights from a local file
# (official convnext_dcls_small_1k_224_ema.pth, DCLS 'v0' positions as
# this backbone's default; nothing is downloaded).
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_convnext_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='small',
        token_mixer='dcls',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convnext_dcls_small_1k_224_ema.pth')),
    decode_head=dict(in_channels=[96, 192, 384, 768], num_classes=150),
    auxiliary_head=dict(in_channels=384, num_classes=150))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
train_dataloader = dict(batch_size=2)
