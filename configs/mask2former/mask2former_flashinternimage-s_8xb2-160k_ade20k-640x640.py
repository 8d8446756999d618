# Mask2Former + FlashInternImage-S on ADE20K at a 640 crop, as the original
# (OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/mask2former_flash_
# internimage_s_640_160k_ade20k_ss.py): T's recipe with the small arch (the
# 3x3 depthwise conv in DCNv4's offset branch, post-norm), drop path 0.3,
# 200 queries, a 2048-wide FFN in the pixel decoder's encoder (T: 1024),
# layer decay 1.0 (T: 0.9) and gradients clipped at 0.1 (T: 0.01).
_base_ = [
    '../_base_/models/mask2former_flashinternimage.py',
    '../_base_/datasets/ade20k_internimage_640x640.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_mask2former_flashinternimage_160k.py'
]
crop_size = (640, 640)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='small',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/flash_intern_image_s_1k_224.pth')),
    decode_head=dict(
        in_channels=[80, 160, 320, 640],
        num_queries=200,
        pixel_decoder=dict(encoder=dict(layer_cfg=dict(
            ffn_cfg=dict(feedforward_channels=2048))))))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=1.0), clip_grad=dict(max_norm=0.1))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
