# ConvNeXt-T-dcls: the ConvNeXt-T config with 17x17 DCLS mixers (ConvNeXt-dcls;
# Khalfaoui-Hassani et al., ICLR 2023) and the released ImageNet file
# convnext_dcls_tiny_1k_224_ema.pth ('v0' positions, the backbone's default).
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(
    token_mixer='dcls',
    init_cfg=dict(checkpoint='checkpoints/convnext_dcls_tiny_1k_224_ema.pth')))
