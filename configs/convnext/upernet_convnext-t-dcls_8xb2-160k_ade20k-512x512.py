# UPerNet + ConvNeXt-T-dcls (Khalfaoui-Hassani et al., ICLR 2023) on ADE20K, as
# the original (K-H-Ismail/ConvNeXt-dcls @ aad45f38, semantic_segmentation/
# configs/convnext_dcls/upernet_convnext_dcls_tiny_512_160k_ade20k_{ss,ms}.py):
# ConvNeXt-T's recipe with 17x17 DCLS mixers (34 elements, positions shared per
# stage, 'v0') and the released convnext_dcls_tiny_1k_224_ema.pth; its
# multi-scale test differs from ConvNeXt's. ConvNeXt-S/B-dcls inherit this one.
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_convnext_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        token_mixer=dict(type='dcls'),
        init_cfg=dict(checkpoint='checkpoints/convnext_dcls_tiny_1k_224_ema.pth')),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
train_dataloader = dict(batch_size=2)  # x 8 GPUs
# --tta: the _ms config (L72-90) with --aug-test: MultiScaleFlipAug scales
# (int(2048 r), int(512 r)) through BEiT's SETR_Resize (short side
# max(512 r, 512), no long-side cap), horizontal flips, sliding windows.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='SETRResize', scale=(int(2048 * r), int(512 * r)), crop_size=(512, 512))
         for r in img_ratios],
        [dict(type='RandomFlip', prob=0., direction='horizontal'),
         dict(type='RandomFlip', prob=1., direction='horizontal')],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')],
    ]),
]
