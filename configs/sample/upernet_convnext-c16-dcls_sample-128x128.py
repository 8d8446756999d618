# The slim sample ConvNeXt with DCLS mixers (9x9 dilated kernels, 12 elements,
# positions shared per stage), trained from scratch on the sample data.
_base_ = './upernet_convnext-c16-dw_sample-128x128.py'
# NOTE: _delete_ because the inherited token_mixer is the string 'dw' (mmengine
# merges a dict only into a dict)
model = dict(backbone=dict(
    token_mixer=dict(_delete_=True, type='dcls', kernel_count=12, dilated_kernel_size=9)))
