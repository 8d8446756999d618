# The tiny sample InternImage with DCNv4 blocks (FlashInternImage; Xiong et al.,
# CVPR 2024): no softmax over the masks, offsets and masks from one linear layer,
# no bias in mlp.fc2 / dcn.output_proj. Trained from scratch on the sample data.
_base_ = './upernet_internimage-c16_sample-128x128.py'
model = dict(backbone=dict(type='FlashInternImage'))
