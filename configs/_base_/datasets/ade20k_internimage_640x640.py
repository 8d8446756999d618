# ADE20K at a 640 crop as the InternImage family's 640 recipes run it
# (OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/
# mask2former_flash_internimage_{s,b}_640_160k_ade20k_ss.py L109-138): the
# 512 file (ade20k_internimage_512x512.py) at a 640 scale: training images
# resized into 2560x640 x [0.5, 2] and cropped to 640x640, test images fitted
# into 2560x640, then each side resized UP to a multiple of 32.
_base_ = './ade20k.py'  # the data, loaders and evaluator
crop_size = (640, 640)
# the original's Resize(img_scale=(2560, 640), ratio_range=(0.5, 2.0))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='ValidateSegSample', num_classes=150),
    dict(type='RandomResize', scale=(2560, 640), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    # annotations are loaded after the resizes: metrics compare at the original size
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='ValidateSegSample', num_classes=150),
    dict(type='PackSegInputs'),
]
# --tta: the originals' --aug-test (DCNv4's test.py L138-143, InternImage's
# L137-142): MultiScaleFlipAug with img_scale (2560, 640) fits each image into
# (int(2560 r), int(640 r)), then ResizeToMultiple(32); with horizontal flips.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(int(2560 * r), int(640 * r)), keep_ratio=True)
         for r in img_ratios],
        [dict(type='ResizeToMultiple', size_divisor=32)],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
