# The sample FCN on a slim ResNetV1c-50 with DCNv2 in conv3-conv5 (Zhu et al.,
# arXiv 1811.11168), made dense (output stride 8) by equivalent stride: its
# deformable convs after a removed stride run on the phases of the dense map.
# c8: 8 base channels (stages of 32, 64, 128, 256 channels); a Bottleneck
# ResNet, since mmseg's BasicBlock (ResNet-18/34) takes no DCN.
_base_ = './fcn_r18_sample-128x128.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='DenseBackbone',
        output_stride=8,
        backbone=dict(
            type='ResNetV1c',
            depth=50,
            stem_channels=16,
            base_channels=8,
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            style='pytorch',
            dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
            stage_with_dcn=(False, True, True, True))),
    decode_head=dict(in_channels=256))
