# InternImage's UPerNet recipe, ADE20K and Cityscapes (OpenGVLab/InternImage @
# 31c962dc, segmentation/configs/ade20k/upernet_internimage_t_512_160k_ade20k.py
# L50-67 on _base_/schedules/schedule_160k.py): AdamW 6e-5, weight decay 0.05,
# the original's layer-decay constructor at rate 1.0 (the depths are the
# backbone's), no gradient clipping, float32 (the original's fp16 line is
# commented out), 160k iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='InternImageLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0),
    clip_grad=None)
# mmcv's poly decay with linear warm-up (lr_config: warmup_iters 1500, ratio
# 1e-6, power 1, min_lr 0): lr(t) = lr * (1 - t/160000) * (1e-6 + (1 - 1e-6) *
# t/1500) while t < 1500. mmengine multiplies overlapping schedulers and a
# scheduler reaches its end value at step end - 1, hence 1501 and 160001
# (tests/test_configs/test_lr_schedule.py compares every iteration).
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
    # as the original (checkpoint_config, evaluation.save_best): the reported
    # model is the best of the ten evaluations, best_mIoU_iter_*.pth
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1,
                    save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
