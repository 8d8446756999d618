# FlashInternImage-S: InternImage-S's config (arch, drop path 0.3, heads, the
# ResizeToMultiple test) with DCNv4 blocks and the released
# flash_intern_image_s_1k_224.pth, as the original's
# segmentation/configs/ade20k/upernet_flash_internimage_s_512_160k_ade20k.py
# (OpenGVLab/DCNv4 @ 4b848f7d); the 'small' arch brings the 3x3 depthwise conv
# of DCNv4's offset branch.
_base_ = '../internimage/upernet_internimage-s_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(
    type='FlashInternImage',
    init_cfg=dict(checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')))
