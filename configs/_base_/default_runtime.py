# Runtime shared by every segkit config.
# NOTE: config files are Python and run when loaded: only use configs you trust.
custom_imports = dict(imports=['segkit.mmseg'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    # as every original's runtime (mmseg 0.x/1.x default_runtime.py); the
    # sample configs switch it off
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when there is no GPU
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')
