# Mask2Former + FlashInternImage-B on ADE20K at a 640 crop, as the original
# (OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/mask2former_flash_
# internimage_b_640_160k_ade20k_ss.py): the S config with the base arch,
# drop path 0.4 (UPerNet-B: 0.3), offset scale 0.5 and the released
# flash_intern_image_b_1k_224.pth.
_base_ = './mask2former_flashinternimage-s_8xb2-160k_ade20k-640x640.py'
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.4,
        offset_scale=0.5,
        init_cfg=dict(checkpoint='checkpoints/flash_intern_image_b_1k_224.pth')),
    decode_head=dict(in_channels=[112, 224, 448, 896]))
