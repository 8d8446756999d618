# The slim sample ConvNeXt with DCLS mixers (9x9 dilated kernels, 12 elements,
# positions shared per stage), trained from scratch on the sample data.
_base_ = './upernet_convnext-c16-dw_sample-128x128.py'
model = dict(backbone=dict(
    token_mixer=dict(type='dcls', kernel_count=12, dilated_kernel_size=9)))
