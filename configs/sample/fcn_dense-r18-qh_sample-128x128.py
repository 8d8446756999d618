# The densified sample FCN with quasi-hexagonal 3x3 convs (Sun, Ozay, Okatani,
# arXiv 1511.09231): 7 of 9 taps, orientations cycling right, down, left, up
# through the network's 3x3 convs; then made dense (output stride 8).
_base_ = './fcn_dense-r18_sample-128x128.py'
model = dict(backbone=dict(backbone=dict(
    _delete_=True,
    type='ShapedBackbone',
    shape='cycle',
    backbone=dict(type='ResNetV1c', depth=18, stem_channels=16, base_channels=16,
                  out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN', requires_grad=True),
                  style='pytorch'))))
