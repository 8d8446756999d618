# DCNv4's Mask2Former ADE20K recipe (OpenGVLab/DCNv4 @ 4b848f7d,
# segmentation/configs/ade20k/mask2former_flash_internimage_t_512_160k_ade20k_ss.py
# L138-157 on _base_/schedules/schedule_160k.py): AdamW 1e-4, weight decay
# 0.05 (none for 1-D tensors, biases and names with norm, relative_position
# or sampling_offsets), the original's layer-decay constructor at rate 0.9
# (T; S and B 1.0), gradients clipped to an L2 norm of 0.01 (T; S and B 0.1),
# float32 (the fp16 line is commented out), 160k iterations.
# NOTE: at rate 0.9 the original's layer ids put the queries, the level
# embedding and the class and mask embeddings at layer 0 with the stem: they
# train at 0.9 ** 31 = 0.038 times the lr (the pixel and transformer
# decoders at 1x); InternImageLayerDecayOptimizerConstructor does the same.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='InternImageLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9),
    clip_grad=dict(max_norm=0.01, norm_type=2))
# mmcv's poly decay with linear warm-up, exactly (see schedule_internimage_160k.py)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1501),
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=160001, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=160000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # as the original (checkpoint_config, evaluation.save_best): the reported
    # model is the best of the 32 evaluations, best_mIoU_iter_*.pth
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=1,
                    save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
