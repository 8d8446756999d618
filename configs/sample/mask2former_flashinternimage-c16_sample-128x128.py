# Mask2Former on the tiny sample FlashInternImage (c16: 16 base channels,
# depths 1-1-2-1), trained from scratch on the sample data: the recipe's
# heads (../mask2former/, multi-scale deformable attention in the pixel
# decoder, masked attention, Hungarian matching, point-sampled losses) at a
# size a CPU trains in a few minutes: 32 channels, 1 encoder and 3 decoder
# layers, 16 queries, 2 sampling points, 784 = 28**2 loss points of the
# 32x32 masks (the recipe: 112**2 of 128x128).
_base_ = [
    '../_base_/models/mask2former_flashinternimage.py', '../_base_/datasets/sample.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_sample.py'
]
num_classes = 7
width = 32  # feature, query and mask channels
attention = dict(embed_dims=width, num_heads=4, attn_drop=0.0, proj_drop=0.0,
                 dropout_layer=None, batch_first=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        arch=dict(channels=16, depths=[1, 1, 2, 1], groups=[1, 2, 4, 8], layer_scale=1.0,
                  post_norm=False),
        drop_path_rate=0.0,
        init_cfg=None),  # from scratch
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        feat_channels=width,
        out_channels=width,
        num_classes=num_classes,
        num_queries=16,
        pixel_decoder=dict(
            norm_cfg=dict(type='GN', num_groups=8),
            encoder=dict(num_layers=1, layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=width, num_heads=4, num_points=2),
                ffn_cfg=dict(embed_dims=width, feedforward_channels=2 * width))),
            positional_encoding=dict(num_feats=width // 2)),
        positional_encoding=dict(num_feats=width // 2),
        transformer_decoder=dict(num_layers=3, layer_cfg=dict(
            self_attn_cfg=attention, cross_attn_cfg=attention,
            ffn_cfg=dict(embed_dims=width, feedforward_channels=2 * width))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        train_cfg=dict(num_points=784)))
env_cfg = dict(cudnn_benchmark=False)
