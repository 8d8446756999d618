# InternImage-S: the T config with the small arch (post-norm), drop path 0.3
# and the released internimage_s_1k_224.pth, as the original's
# segmentation/configs/cityscapes/upernet_internimage_s_512x1024_160k_cityscapes.py.
_base_ = './upernet_internimage-t_8xb2-160k_cityscapes-512x1024.py'
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/internimage_s_1k_224.pth')),
    decode_head=dict(in_channels=[80, 160, 320, 640]),
    auxiliary_head=dict(in_channels=320))
