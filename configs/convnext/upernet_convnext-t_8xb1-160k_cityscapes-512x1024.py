# UPerNet + ConvNeXt-T on Cityscapes: segkit's own recipe (ConvNeXt,
# ConvNeXt-dcls and mmseg publish no Cityscapes config): the ADE20K schedule
# (AdamW, stage-wise lr decay, float16 AMP, 160k iterations) with 8 GPUs x 1
# image and whole-image inference at 1024x2048; no published number to match.
# Every other Cityscapes ConvNeXt config inherits this one.
_base_ = [
    '../_base_/models/upernet_convnext.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_convnext_160k.py'
]
crop_size = (512, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19),
    auxiliary_head=dict(num_classes=19))
train_dataloader = dict(batch_size=1)
