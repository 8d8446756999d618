# ResNetV1c-50 with DCNv2 in conv3-conv5: every 3x3 conv of stages 2-4 (the
# three strided ones too) is a modulated deformable conv, the setting of the
# DCNv2 paper (Zhu et al., arXiv 1811.11168). Standard strides (output stride 32).
# Starts from mmseg's ImageNet ResNetV1c-50 (open-mmlab://resnet50_v1c), read
# from a local file (nothing is downloaded): loading is strict, only the offset
# convs (`conv_offset`, not in an ImageNet file) start fresh, at zero.
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
    type='ResNetV1c',
    depth=50,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    norm_cfg=norm_cfg,
    norm_eval=False,
    style='pytorch',
    dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True),
    init_cfg=dict(type='StrictPretrained', checkpoint=pretrained, fresh=('conv_offset',)))
# stage channels (strides 4, 8, 16, 32)
backbone_channels = [256, 512, 1024, 2048]
