# ResNetV1c-50 with its standard strides, densified to output stride 8 by
# equivalent stride (the exact dense version of the strided network).
# Pretrained weights are read from a local file (nothing is downloaded): put
# mmseg's ImageNet ResNetV1c-50 (open-mmlab://resnet50_v1c) at this path.
norm_cfg = dict(type='SyncBN', requires_grad=True)
pretrained = 'checkpoints/resnet50_v1c.pth'
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
backbone = dict(
    type='DenseBackbone',
    output_stride=8,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
# stage channels (and, at output stride 8, strides 4, 8, 8, 8)
backbone_channels = [256, 512, 1024, 2048]
