# The ConvNeXt and ConvNeXt-dcls ADE20K recipe (K-H-Ismail/ConvNeXt-dcls @
# aad45f38, semantic_segmentation/configs/convnext_dcls/
# upernet_convnext_dcls_tiny_512_160k_ade20k_ss.py L39-65, the same in
# facebookresearch/ConvNeXt's convnext/ configs, on mmseg 0.11's
# _base_/schedules/schedule_160k.py): AdamW 1e-4, weight decay 0.05, stage-wise
# lr decay 0.9 over num_layers 6 (T; S and B set 12), no gradient clipping,
# 160k iterations. DCLS positions get no weight decay and their stage's lr
# (the original's 5x is a dead store; see ConvNeXtDCLSOptimizerConstructor)
# and are not clamped (the original's segmentation code never clamps;
# DCLSClampHook exists for recipes that do).
# Mixed precision as the original's apex O1 (float16, dynamic loss scaling,
# 2**16 initial scale, as torch's GradScaler) through mmengine's
# AmpOptimWrapper, as mmseg 1.x's ConvNeXt configs. It needs CUDA: without
# it `segkit train` runs the recipe in float32 (bfloat16 with --amp) and says so.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    dtype='float16',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='ConvNeXtDCLSOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6),
    clip_grad=None)
# mmcv's poly decay with linear warm-up, exactly (see schedule_internimage_160k.py)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1501),
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=160001, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=160000, val_interval=16000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=16000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
