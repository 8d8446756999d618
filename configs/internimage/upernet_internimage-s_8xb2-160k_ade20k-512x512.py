# UPerNet + InternImage-S (small); ImageNet weights from a local file
# (official internimage_s_1k_224.pth or similar; nothing is downloaded).
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='small',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_s_1k_224.pth')),
    decode_head=dict(in_channels=[80, 160, 320, 640], num_classes=150),
    auxiliary_head=dict(in_channels=320, num_classes=150))
optim_wrapper = dict(paramwise_cfg=dict(depths=[4, 4, 21, 4], layer_decay_rate=1.0))
train_dataloader = dict(batch_size=2)
