# The sample FCN, but its backbone is a standard-stride ResNetV1c-18 made
# dense (output stride 8) by equivalent stride: the same computation as
# fcn_r18_sample-128x128.py's hand-dilated backbone.
_base_ = './fcn_r18_sample-128x128.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='DenseBackbone',
        output_stride=8,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=16,
            base_channels=16,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            style='pytorch')))
