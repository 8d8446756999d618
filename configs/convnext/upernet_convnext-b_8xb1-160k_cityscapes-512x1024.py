# ConvNeXt-B on Cityscapes (segkit's own recipe): the T config with the ADE20K
# B settings (base arch, 12 layers for the lr decay).
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(
    backbone=dict(arch='base', init_cfg=dict(checkpoint='checkpoints/convnext_base_1k_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
