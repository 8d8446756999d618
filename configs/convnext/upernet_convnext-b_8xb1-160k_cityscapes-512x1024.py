# UPerNet + ConvNeXt-B; ImageNet weights from a local file
# (official convnext_base_1k_224.pth; nothing is downloaded).
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_convnext_160k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='base',
        token_mixer=dict(type='dw'),
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convnext_base_1k_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024], num_classes=19),
    auxiliary_head=dict(in_channels=512, num_classes=19))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
train_dataloader = dict(batch_size=1)
