# ConvNeXt-S-dcls on Cityscapes (segkit's own recipe): the T config with the
# ADE20K S-dcls settings (small arch, drop path 0.3, 12 layers for the lr
# decay, 17x17 DCLS mixers with 40 elements).
_base_ = './upernet_convnext-t_8xb1-160k_cityscapes-512x1024.py'
model = dict(backbone=dict(
    arch='small',
    token_mixer=dict(type='dcls'),
    drop_path_rate=0.3,
    init_cfg=dict(checkpoint='checkpoints/convnext_dcls_small_1k_224_ema.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
