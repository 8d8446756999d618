# Mask2Former + FlashInternImage-T on ADE20K, as the original (OpenGVLab/DCNv4
# @ 4b848f7d, segmentation/configs/ade20k/mask2former_flash_internimage_t_512_
# 160k_ade20k_ss.py): its model, data (with ResizeToMultiple at test) and
# schedule are the bases'. 8 GPUs x 2 images; with_cp=False there.
_base_ = [
    '../_base_/models/mask2former_flashinternimage.py',
    '../_base_/datasets/ade20k_internimage_512x512.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_mask2former_flashinternimage_160k.py'
]
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
