# The slim sample ConvNeXt with quasi-hexagonal 7x7 depthwise mixers (37 of 49 taps;
# Sun, Ozay, Okatani, arXiv 1511.09231), orientations cycling through the blocks.
_base_ = './upernet_convnext-c16-dw_sample-128x128.py'
model = dict(backbone=dict(token_mixer=dict(type='shaped')))
