# ConvNeXt-T-dcls on Cityscapes (segkit's own recipe): the T config with 17x17
# DCLS mixers and the released convnext_dcls_tiny_1k_224_ema.pth.
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(backbone=dict(
    token_mixer=dict(type='dcls'),
    init_cfg=dict(checkpoint='checkpoints/convnext_dcls_tiny_1k_224_ema.pth')))
