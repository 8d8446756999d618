# ConvNeXt-T-qh on Cityscapes (segkit's own model and recipe): the T config
# with quasi-hexagonal 7x7 depthwise mixers (see the ADE20K config).
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(backbone=dict(token_mixer=dict(type='shaped')))
