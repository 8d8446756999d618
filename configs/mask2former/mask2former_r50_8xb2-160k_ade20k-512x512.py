# mmseg 1.x's own Mask2Former R-50 ADE20K recipe (mmseg 1.2.2,
# configs/mask2former/mask2former_r50_8xb2-160k_ade20k-512x512.py), inherited
# as installed, with what segkit changes to run it through segkit train:
# - segkit.mmseg is imported (not mmdet.models): mmcv-lite's mmcv.ops on
#   segkit's kernels, so mmdet's heads import;
# - the head is SemanticMask2FormerHead: mmseg's Mask2FormerHead (training and
#   prediction unchanged) whose forward also runs without data samples
#   (mmseg's mode='tensor', segkit's wiring check, export);
# - the ImageNet weights come from a local file, the one 'torchvision://resnet50'
#   names under mmengine 0.10 (torchvision's resnet50-0676ba61.pth, IMAGENET1K_V1),
#   instead of a download at run time.
# Data root data/ade/ADEChallengeData2016, as segkit's (data/README.md).
_base_ = 'mmseg::mask2former/mask2former_r50_8xb2-160k_ade20k-512x512.py'
custom_imports = dict(imports=['segkit.mmseg'], allow_failed_imports=False)
model = dict(
    backbone=dict(init_cfg=dict(checkpoint='checkpoints/resnet50-0676ba61.pth')),
    decode_head=dict(type='SemanticMask2FormerHead'))
