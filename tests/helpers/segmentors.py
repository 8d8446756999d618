"""Segmentors built from segkit's configs for the deployment tests: every
sample config, and one full-size config per family (run at small sizes)."""
from __future__ import annotations

import torch

from segkit.apis.inference import load_segmentor

from . import REPO

SAMPLES = sorted(p.stem for p in (REPO / 'configs' / 'sample').glob('*.py'))
FULL = ['dense_resnet/fcn_dense-r50-os8_4xb4-160k_ade20k-512x512',
        'convnext/upernet_convnext-t-dcls_8xb2-160k_ade20k-512x512',
        'internimage/upernet_internimage-t_8xb2-160k_ade20k-512x512',
        'shaped_resnet/upernet_r50-qh_4xb4-160k_ade20k-512x512',
        'dcn_resnet/upernet_r50-dcnv2_4xb4-160k_ade20k-512x512']


def randomised_segmentor(config: str, offset_std: float = 0.2) -> torch.nn.Module:
    """The config's segmentor (seeded), with DCNv3's offset and mask layers
    and DCN/DCNv2's offset convs (``conv_offset``) drawn from N(0,
    offset_std) instead of zeros, so the deformable layers really deform
    (DCN offsets of a few pixels at the default).
    The full configs' SyncBN runs as BN in one process (torch falls back).

    Large offsets make a randomly initialised InternImage chaotic (a change
    of 4e-3 in the input moves its logits by 20 %): comparisons of precision
    take a small ``offset_std``."""
    torch.manual_seed(0)
    model = load_segmentor(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if '.offset.' in name or '.mask.' in name or '.offset_mask.' in name or (
                    '.conv_offset.' in name):
                p.normal_(0, offset_std)
    return model.eval()
