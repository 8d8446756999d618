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


# the residual blocks that a stage repeats (ResNet, ConvNeXt, InternImage/FlashInternImage)
REPEATED_BLOCKS = ('BasicBlock', 'Bottleneck', 'Block', 'InternImageLayer')


def trim_repeated_blocks(model: torch.nn.Module, keep: int = 2) -> torch.nn.Module:
    """``model`` with every stage cut to its first ``keep`` residual blocks
    (in place). The first block of a stage is the one that changes channels
    or stride, the second one of the identical blocks that follow: every
    kind of layer and every option of the config still runs (all four
    orientations of a shape cycle too), in a graph a fraction of the size,
    which is what export, compilation and reduced-precision checks cost."""
    for module in list(model.modules()):
        if isinstance(module, (torch.nn.Sequential, torch.nn.ModuleList)) and len(module) > keep:
            if all(type(m).__name__ in REPEATED_BLOCKS for m in module):
                while len(module) > keep:
                    del module[len(module) - 1]
    return model


def randomised_segmentor(config: str, offset_std: float = 0.2,
                         shallow: bool = False) -> torch.nn.Module:
    """The config's segmentor (seeded), with DCNv3's offset and mask layers
    and DCN/DCNv2's offset convs (``conv_offset``) drawn from N(0,
    offset_std) instead of zeros, so the deformable layers really deform
    (DCN offsets of a few pixels at the default).
    The full configs' SyncBN runs as BN in one process (torch falls back).

    Large offsets make a randomly initialised InternImage chaotic (a change
    of 4e-3 in the input moves its logits by 20 %): comparisons of precision
    take a small ``offset_std``.

    ``shallow``: each stage cut to two blocks (:func:`trim_repeated_blocks`).
    """
    torch.manual_seed(0)
    model = load_segmentor(config)
    if shallow:
        trim_repeated_blocks(model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if '.offset.' in name or '.mask.' in name or '.offset_mask.' in name or (
                    '.conv_offset.' in name):
                p.normal_(0, offset_std)
    return model.eval()
