# Mask2Former (Cheng et al., CVPR 2022) on FlashInternImage-T as the original
# builds it (OpenGVLab/DCNv4 @ 4b848f7d, segmentation/configs/ade20k/
# mask2former_flash_internimage_t_512_160k_ade20k_ss.py L10-105 on
# _base_/models/mask2former_beit.py), in mmdet 3.x's spelling: the pixel
# decoder's DetrTransformerEncoder of BaseTransformerLayers ('self_attn',
# 'norm', 'ffn', 'norm') is mmdet's Mask2FormerTransformerEncoder (post-norm
# layers, no final norm), the DetrTransformerDecoder of ('cross_attn', 'norm',
# 'self_attn', 'norm', 'ffn', 'norm') layers with a final LayerNorm is
# Mask2FormerTransformerDecoder, MaskHungarianAssigner(cls_cost, mask_cost,
# dice_cost) is HungarianAssigner(match_costs=[...]), and the attentions are
# batch first (the originals' (L, N, C) layout computes the same). The S and
# B configs change the backbone, the heads' in_channels, the queries and the
# encoder's FFN. ImageNet weights from a local file (the released
# flash_intern_image_t_1k_224.pth; nothing is downloaded).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
num_classes = 150
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='FlashInternImage',
        # arch: the default, 'tiny' (channels 64, depths 4-4-18-4, groups
        # 4-8-16-32, pre-norm, no depthwise conv in the offset branch)
        layer_scale=1.0,
        offset_scale=1.0,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/flash_intern_image_t_1k_224.pth')),
    decode_head=dict(
        # segkit's: mmseg's Mask2FormerHead (mmdet's), predicting as the original
        type='InternImageMask2FormerHead',
        in_channels=[64, 128, 256, 512],
        feat_channels=256,
        out_channels=256,
        num_classes=num_classes,
        num_queries=100,
        num_transformer_feat_level=3,
        align_corners=False,
        enforce_decoder_input_project=False,
        pixel_decoder=dict(
            type='mmdet.MSDeformAttnPixelDecoder',
            num_outs=3,
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(  # Mask2FormerTransformerEncoder
                num_layers=6,
                layer_cfg=dict(  # DeformableDetrTransformerEncoderLayer
                    self_attn_cfg=dict(  # MultiScaleDeformableAttention
                        embed_dims=256, num_heads=8, num_levels=3, num_points=4,
                        im2col_step=64, dropout=0.0, batch_first=True, norm_cfg=None,
                        init_cfg=None),
                    ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, num_fcs=2,
                                 ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True))),
                init_cfg=None),
            positional_encoding=dict(num_feats=128, normalize=True),  # SinePositionalEncoding
            init_cfg=None),
        positional_encoding=dict(num_feats=128, normalize=True),  # SinePositionalEncoding
        transformer_decoder=dict(  # Mask2FormerTransformerDecoder
            return_intermediate=True,
            num_layers=9,
            layer_cfg=dict(  # Mask2FormerTransformerDecoderLayer
                self_attn_cfg=dict(  # MultiheadAttention
                    embed_dims=256, num_heads=8, attn_drop=0.0, proj_drop=0.0,
                    dropout_layer=None, batch_first=True),
                cross_attn_cfg=dict(  # MultiheadAttention
                    embed_dims=256, num_heads=8, attn_drop=0.0, proj_drop=0.0,
                    dropout_layer=None, batch_first=True),
                ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2,
                             act_cfg=dict(type='ReLU', inplace=True), ffn_drop=0.0,
                             dropout_layer=None, add_identity=True)),
            init_cfg=None),
        loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0,
                      reduction='mean', class_weight=[1.0] * num_classes + [0.1]),
        loss_mask=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean',
                       loss_weight=5.0),
        loss_dice=dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True,
                       reduction='mean', naive_dice=True, eps=1.0, loss_weight=5.0),
        train_cfg=dict(
            num_points=12544,
            oversample_ratio=3.0,
            importance_sample_ratio=0.75,
            assigner=dict(
                type='mmdet.HungarianAssigner',
                match_costs=[
                    dict(type='mmdet.ClassificationCost', weight=2.0),
                    dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                    dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
            sampler=dict(type='mmdet.MaskPseudoSampler'))),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
