# ConvNeXt-B-dcls: the T-dcls recipe with the base arch (12 layers for the lr
# decay, as ConvNeXt-B), 40 DCLS elements (the mixer's default for base) and
# the released convnext_dcls_base_1k_224_ema.pth, as
# .../convnext_dcls/upernet_convnext_dcls_base_512_160k_ade20k_{ss,ms}.py.
_base_ = './upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='base',
                  init_cfg=dict(checkpoint='checkpoints/convnext_dcls_base_1k_224_ema.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
