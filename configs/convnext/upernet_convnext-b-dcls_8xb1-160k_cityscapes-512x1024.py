# ConvNeXt-B-dcls: the ConvNeXt-B config with 17x17 DCLS mixers (ConvNeXt-dcls;
# Khalfaoui-Hassani et al., ICLR 2023) and the released ImageNet file
# convnext_dcls_base_1k_224_ema.pth ('v0' positions, the backbone's default).
_base_ = './upernet_convnext-b_8xb1-160k_cityscapes-512x1024.py'
model = dict(backbone=dict(
    token_mixer='dcls',
    init_cfg=dict(checkpoint='checkpoints/convnext_dcls_base_1k_224_ema.pth')))
