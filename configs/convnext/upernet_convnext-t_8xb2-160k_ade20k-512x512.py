# UPerNet + ConvNeXt-T on ADE20K, as the original (facebookresearch/ConvNeXt @
# 048efcea, semantic_segmentation/configs/convnext/
# upernet_convnext_tiny_512_160k_ade20k_{ss,ms}.py). ConvNeXt-S, -B and -T-qh
# inherit this one.
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_convnext_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))  # the _ss config
train_dataloader = dict(batch_size=2)  # x 8 GPUs
# --tta: the _ms config with --aug-test: MultiScaleFlipAug(img_scale=(2048, 512))
# fits each image into (int(2048 r), int(512 r)), with horizontal flips, and
# infers on whole images (the _ms config keeps the base model's test_cfg).
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(int(2048 * r), int(512 * r)), keep_ratio=True)
         for r in img_ratios],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
tta_model = dict(module=dict(test_cfg=dict(mode='whole')))
