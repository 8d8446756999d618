# UPerNet + InternImage-T on ADE20K, as the original (OpenGVLab/InternImage @
# 31c962dc, segmentation/configs/ade20k/upernet_internimage_t_512_160k_ade20k.py).
# The S and B configs inherit this one.
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
# Validation and test as the original's (its L34-49): fitted into 2048x512,
# then each side resized UP to a multiple of 32 (ResizeToMultiple computes in
# mmseg 1.x what it did in 0.27); annotations stay at their original size.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='ValidateSegSample', num_classes=150),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# --tta: the original's --aug-test (test.py L137-142): MultiScaleFlipAug with
# img_scale (2048, 512) fits each image into (int(2048 r), int(512 r)), then
# ResizeToMultiple(32); with horizontal flips, whole-image inference.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(int(2048 * r), int(512 * r)), keep_ratio=True)
         for r in img_ratios],
        [dict(type='ResizeToMultiple', size_divisor=32)],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
