# UPerNet + InternImage-T (tiny); ImageNet weights from a local file
# (official internimage_t_1k_224.pth or similar; nothing is downloaded).
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='tiny',
        layer_scale=1.0,  # as the original's segmentation configs (the ImageNet file has none)
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    decode_head=dict(in_channels=[64, 128, 256, 512], num_classes=150),
    auxiliary_head=dict(in_channels=256, num_classes=150))
optim_wrapper = dict(paramwise_cfg=dict(depths=[4, 4, 18, 4], layer_decay_rate=1.0))
train_dataloader = dict(batch_size=2)
