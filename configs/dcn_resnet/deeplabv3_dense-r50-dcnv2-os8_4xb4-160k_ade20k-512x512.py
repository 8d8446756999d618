# DeepLabV3 on ResNet-50-DCNv2 made dense at output stride 8 by equivalent
# stride (mmseg's deeplabv3_r50-d8 recipe; the d8 dilation would not be exact
# for deformable convs, the phases are).
_base_ = [
    '../_base_/models/deeplabv3_dense-r50-dcnv2.py', '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
