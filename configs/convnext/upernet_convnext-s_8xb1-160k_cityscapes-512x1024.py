# ConvNeXt-S on Cityscapes (segkit's own recipe): the T config with the ADE20K
# S settings (small arch, drop path 0.3, 12 layers for the lr decay).
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(backbone=dict(
    arch='small',
    drop_path_rate=0.3,
    init_cfg=dict(checkpoint='checkpoints/convnext_small_1k_224.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
