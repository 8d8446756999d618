# UPerNet + InternImage-T on Cityscapes, as the original (OpenGVLab/InternImage
# @ 31c962dc, segmentation/configs/cityscapes/
# upernet_internimage_t_512x1024_160k_cityscapes.py) with one deliberate
# difference: 19 classes. The original's heads have num_classes=150 (L28-29,
# copied from ADE20K; the published runs trained 150-way classifiers on the 19
# Cityscapes classes), so its released Cityscapes checkpoints load only with
# --cfg-options model.decode_head.num_classes=150 model.auxiliary_head.num_classes=150.
# The S and B configs inherit this one.
_base_ = [
    '../_base_/models/upernet_internimage.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_internimage_160k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19),
    auxiliary_head=dict(num_classes=19))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
# --tta: the original's --aug-test: each image fitted into (int(2048 r),
# int(1024 r)), no ResizeToMultiple on Cityscapes, horizontal flips.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(int(2048 * r), int(1024 * r)), keep_ratio=True)
         for r in img_ratios],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
