# UPerNet on InternImage-T (Wang et al., arXiv 2211.05778) as the original's
# T configs build it (OpenGVLab/InternImage @ 31c962dc, segmentation/configs/
# ade20k/upernet_internimage_t_512_160k_ade20k.py L11-31 on _base_/models/
# upernet_r50.py). The S and B configs change the arch and the heads'
# in_channels together. ImageNet weights from a local file (the released
# internimage_t_1k_224.pth; nothing is downloaded).
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
        type='InternImage',
        # arch: the default, 'tiny' (not written: configs that give an arch
        # dict could not merge it into a string)
        # every size 1.0, as the original's segmentation configs (T's ImageNet
        # file has no gammas: they start at 1.0; S/B's files bring theirs)
        layer_scale=1.0,
        offset_scale=1.0,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/internimage_t_1k_224.pth')),
    decode_head=dict(
        type='UPerHead', in_channels=[64, 128, 256, 512], in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6), channels=512, dropout_ratio=0.1, num_classes=150,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=256, in_index=2, channels=256, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=150, norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
