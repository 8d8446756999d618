# UPerNet on ConvNeXt-T (Liu et al., arXiv 2201.03545) as the original's T
# configs build it (facebookresearch/ConvNeXt @ 048efcea and K-H-Ismail/
# ConvNeXt-dcls @ aad45f38, semantic_segmentation/configs/convnext/
# upernet_convnext_tiny_512_160k_ade20k_ss.py L15-32 on _base_/models/
# upernet_convnext.py). The token mixer is a config value: token_mixer=dict(type=
# 'dw' | 'dcls' | 'shaped' | 'dcnv3' | 'dcnv4', ...); other sizes change the arch and the
# heads' in_channels together. ImageNet weights from a local file (the
# released convnext_tiny_1k_224.pth; nothing is downloaded).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ConvNeXt',
        # arch: the default, 'tiny' (not written: configs that give an arch
        # dict could not merge it into a string)
        token_mixer=dict(type='dw'),
        drop_path_rate=0.4,
        layer_scale=1.0,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convnext_tiny_1k_224.pth')),
    decode_head=dict(
        type='UPerHead', in_channels=[96, 192, 384, 768], in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6), channels=512, dropout_ratio=0.1, num_classes=150,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=384, in_index=2, channels=256, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=150, norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
