# ADE20K as the InternImage family's recipes evaluate it: segkit's ade20k.py
# (mmseg 0.x's _base_/datasets/ade20k.py in mmseg 1.x spelling, see there)
# with the test pipeline of the originals' leaves (OpenGVLab/InternImage @
# 31c962dc and OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/, e.g.
# DCNv4's mask2former_flash_internimage_t_512_160k_ade20k_ss.py L122-137):
# images fitted into 2048x512, then each side resized UP to a multiple of 32
# (ResizeToMultiple computes in mmseg 1.x what it did in 0.27). DCNv4's
# UPerNet-T alone leaves it out (see configs/flash_internimage/README.md).
_base_ = './ade20k.py'  # the data, loaders and evaluator
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
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
