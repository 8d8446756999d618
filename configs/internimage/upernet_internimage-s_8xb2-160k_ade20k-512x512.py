# InternImage-S: the InternImage-T config with the small arch (post-norm, layer
# scale; layer_scale=1.0 stays as in the original's segmentation configs, the
# ImageNet file's gammas replace it) and the released internimage_s_1k_224.pth.
_base_ = './upernet_internimage-t_8xb2-160k_ade20k-512x512.py'
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/internimage_s_1k_224.pth')),
    decode_head=dict(in_channels=[80, 160, 320, 640]),
    auxiliary_head=dict(in_channels=320))
