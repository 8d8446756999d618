# The DCNv2 ResNet-50 made dense at output stride 8 by equivalent stride: the
# deformable convs after a removed stride run on the phases of the dense map,
# so the network computes exactly the strided one at every 8th pixel.
_base_ = './r50-dcnv2_backbone.py'
model = dict(
    type='EncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='DenseBackbone', output_stride=8, backbone={{_base_.backbone}}),
    decode_head=dict(
        type='ASPPHead', in_channels=2048, in_index=3, channels=512, dilations=(1, 12, 24, 36),
        dropout_ratio=0.1, num_classes=19, norm_cfg={{_base_.norm_cfg}}, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=1024, in_index=2, channels=256, num_convs=1,
        concat_input=False, dropout_ratio=0.1, num_classes=19, norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
