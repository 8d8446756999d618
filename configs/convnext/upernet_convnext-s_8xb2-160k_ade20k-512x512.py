# ConvNeXt-S: the T recipe with the small arch, drop path 0.3 and 12 layers
# for the stage-wise lr decay, as the original's
# upernet_convnext_small_512_160k_ade20k_ss.py (L15-39).
_base_ = './upernet_convnext-t_8xb2-160k_ade20k-512x512.py'
model = dict(backbone=dict(
    arch='small',
    drop_path_rate=0.3,
    init_cfg=dict(checkpoint='checkpoints/convnext_small_1k_224.pth')))
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
