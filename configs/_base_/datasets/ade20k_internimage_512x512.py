# ADE20K as the InternImage family's recipes evaluate it: segkit's ade20k.py
# (mmseg 0.x's _base_/datasets/ade20k.py in mmseg 1.x spelling, see there)
# with the test pipeline of the originals' leaves (OpenGVLab/InternImage @
# 31c962dc and OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/, e.g.
# DCNv4's mask2former_flash_internimage_t_512_160k_ade20k_ss.py L122-137):
# images fitted into 2048x512, then each side resized UP to a multiple of 32
# (ResizeToMultiple computes in mmseg 1.x what it did in 0.27). DCNv4's
# UPerNet-T alone leaves it out (see configs/flash_internimage/README.md).
# Data root data/ade/ADEChallengeData2016 (see data/README.md).
dataset_type = 'ADE20KDataset'
data_root = 'data/ade/ADEChallengeData2016'
crop_size = (512, 512)
# mmseg 1.x's spelling of the mmseg 0.x pipelines the originals ran:
# Resize(img_scale=(2048, 512), ratio_range=(0.5, 2.0)) is RandomResize here;
# Normalize(to_rgb=True) and Pad(crop, 0, 255) are the model's
# SegDataPreProcessor; the test MultiScaleFlipAug(img_scale=(2048, 512)) with
# Resize(keep_ratio=True) is a Resize placed before LoadAnnotations.
# ValidateSegSample is segkit's check of each sample (it changes no data).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='ValidateSegSample', num_classes=150),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    # annotations are loaded after the resizes: metrics compare at the original size
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='ValidateSegSample', num_classes=150),
    dict(type='PackSegInputs'),
]
# --tta: the originals' --aug-test (DCNv4's test.py L138-143, InternImage's
# L137-142): MultiScaleFlipAug with img_scale (2048, 512) fits each image into
# (int(2048 r), int(512 r)), then ResizeToMultiple(32); with horizontal flips.
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
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
