# ConvNeXt-T-qh: the T recipe with quasi-hexagonal 7x7 depthwise mixers (37 of
# 49 taps; Sun, Ozay, Okatani, arXiv 1511.09231), orientations cycling through
# the blocks; starts from the kept taps of convnext_tiny_1k_224.pth. segkit's
# own model: no published result.
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(token_mixer=dict(type='shaped')))
