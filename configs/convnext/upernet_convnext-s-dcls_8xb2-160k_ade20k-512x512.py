# ConvNeXt-S-dcls: the T-dcls recipe with the small arch (drop path 0.3, 12
# layers for the lr decay, as ConvNeXt-S), 40 DCLS elements (the mixer's
# default for small) and the released convnext_dcls_small_1k_224_ema.pth, as
# .../convnext_dcls/upernet_convnext_dcls_small_512_160k_ade20k_{ss,ms}.py.
_base_ = './upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(
    arch='small',
    drop_path_rate=0.3,
    init_cfg=dict(checkpoint='checkpoints/convnext_dcls_small_1k_224_ema.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
