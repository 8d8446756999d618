# UPerNet + FlashInternImage-T (DCNv4 blocks; Xiong et al., "Efficient
# Deformable ConvNets", CVPR 2024) on ADE20K, as the original (OpenGVLab/DCNv4
# @ 4b848f7d, segmentation/configs/ade20k/upernet_flash_internimage_t_512_160k_ade20k.py),
# whose _base_ files are InternImage's byte for byte: InternImage-T's model,
# schedule and optimizer with the FlashInternImage backbone and its released
# flash_intern_image_t_1k_224.pth. with_cp=True there only saves memory.
# NOTE: unlike InternImage-T and FlashInternImage-S/B, the original leaves its
# test_pipeline override commented out (L61-64): T is evaluated with the
# dataset's pipeline, without ResizeToMultiple, so this inherits the bases.
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(type='FlashInternImage',
                  init_cfg=dict(checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
