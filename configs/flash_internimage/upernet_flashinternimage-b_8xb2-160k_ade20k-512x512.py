# FlashInternImage-B: InternImage-B's config with DCNv4 blocks, drop path 0.3
# (InternImage-B: 0.4), offset scale 0.5 and the released
# flash_intern_image_b_1k_224.pth, as the original's
# segmentation/configs/ade20k/upernet_flash_internimage_b_512_160k_ade20k.py
# (OpenGVLab/DCNv4 @ 4b848f7d).
_base_ = '../internimage/upernet_internimage-b_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(
    type='FlashInternImage',
    drop_path_rate=0.3,
    offset_scale=0.5,
    init_cfg=dict(checkpoint='checkpoints/flash_intern_image_b_1k_224.pth')))
