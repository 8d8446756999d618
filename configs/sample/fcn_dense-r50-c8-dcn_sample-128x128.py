# The sample FCN on the slim ResNetV1c-50 with DCN (Dai et al., arXiv
# 1703.06211; no modulation) in conv3-conv5, dense at output stride 8.
_base_ = './fcn_dense-r50-c8-dcnv2_sample-128x128.py'
model = dict(backbone=dict(backbone=dict(dcn=dict(type='DCN'))))
