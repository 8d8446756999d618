# ConvNeXt-B-dcls on Cityscapes (segkit's own recipe): the T config with the
# ADE20K B-dcls settings (base arch, 12 layers for the lr decay, 17x17 DCLS
# mixers with 40 elements).
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(
    backbone=dict(arch='base', token_mixer=dict(type='dcls'),
                  init_cfg=dict(checkpoint='checkpoints/convnext_dcls_base_1k_224_ema.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
