# UPerNet + InternImage-T on ADE20K, as the original (OpenGVLab/InternImage @
# 31c962dc, segmentation/configs/ade20k/upernet_internimage_t_512_160k_ade20k.py).
# The S and B configs inherit this one.
_base_ = [
    '../_base_/models/upernet_internimage.py',
    '../_base_/datasets/ade20k_internimage_512x512.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
# Validation and test as the original's (its L34-49), and --tta as its
# --aug-test (test.py L137-142): the data base's test pipeline and TTA, each
# side resized up to a multiple of 32 (see there).
