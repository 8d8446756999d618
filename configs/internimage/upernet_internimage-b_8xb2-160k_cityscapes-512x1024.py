# InternImage-B: the T config with the base arch (post-norm), drop path 0.4
# and the released internimage_b_1k_224.pth, as the original's
# segmentation/configs/cityscapes/upernet_internimage_b_512x1024_160k_cityscapes.py.
_base_ = './upernet_internimage-t_8xb2-160k_cityscapes-512x1024.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='checkpoints/internimage_b_1k_224.pth')),
    decode_head=dict(in_channels=[112, 224, 448, 896]),
    auxiliary_head=dict(in_channels=448))
