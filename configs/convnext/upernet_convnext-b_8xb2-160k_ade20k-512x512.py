# ConvNeXt-B: the T recipe with the base arch (drop path 0.4 as T) and 12
# layers for the stage-wise lr decay, as the original's
# upernet_convnext_base_512_160k_ade20k_ss.py (L15-40).
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='base', init_cfg=dict(checkpoint='checkpoints/convnext_base_1k_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
