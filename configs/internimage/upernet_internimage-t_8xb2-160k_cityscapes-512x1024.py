# UPerNet + InternImage-T (tiny); ImageNet weights from a local file
# (the released internimage_t_1k_224.pth; nothing is downloaded).
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='tiny',
        layer_scale=1.0,  # as the original's segmentation configs (the ImageNet file has none)
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    decode_head=dict(in_channels=[64, 128, 256, 512], num_classes=19),
    auxiliary_head=dict(in_channels=256, num_classes=19))
train_dataloader = dict(batch_size=2)
