"""Whole segkit models in reduced precision on the CPU: bfloat16 autocast
inference against float32, and training steps under bfloat16 autocast (what
``segkit train --amp`` does on the CPU)."""
from __future__ import annotations

import pytest
import torch

from segkit.engine import NonFiniteGuardOptimWrapper
from tests.helpers.segmentors import FULL, SAMPLES, randomised_segmentor

# Stated tolerance: bfloat16 keeps 8 significant bits (relative rounding
# 2**-9); through a network the logits move by at most 3 % of the largest
# logit (measured: 0.6-1.1 % on every sample and full config).
BF16_TOLERANCE = 0.03


def _logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x, mode='tensor')


@pytest.mark.parametrize('config', [
    *SAMPLES, *(pytest.param(c, marks=pytest.mark.slow) for c in FULL)])
def test_bf16_autocast_inference_close_to_float32(config: str) -> None:
    """Every family (densified, shaped, DCLS, hexagonal, DCNv3 sample models,
    one full-size config each at 32x48) under bfloat16 autocast; two blocks
    per stage (every layer kind and option of the config). NOTE: bfloat16
    convolutions on a CPU without native bfloat16 take 20-30x float32's time:
    the full configs at 64x96 took 14-36 s each, at 32x48 1.3-2.3 s (relative
    differences there 0.6-0.8 %, as at 64x96)."""
    model = randomised_segmentor(config, offset_std=0.05, shallow=True)
    torch.manual_seed(1)
    x = torch.randn(1, 3, *((128, 128) if config in SAMPLES else (32, 48)))
    with torch.no_grad():
        ref = _logits(model, x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = _logits(model, x)
    assert low.dtype == torch.bfloat16
    assert low.isfinite().all()
    rel = ((low.float() - ref).abs().max() / ref.abs().max()).item()
    assert rel < BF16_TOLERANCE, rel


def _batch(model: torch.nn.Module, size: int = 64, n: int = 2) -> dict:
    """A fixed batch whose labels follow the image (bright/dark halves)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        image = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
        image[:, :, : size // 2] //= 4
        label = torch.zeros(1, size, size, dtype=torch.long)
        label[:, :, size // 2:] = 1
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size),
                                 pad_shape=(size, size)))
        inputs.append(image)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('config', SAMPLES)
def test_bf16_training_steps_finite_and_falling(config: str) -> None:
    model = randomised_segmentor(config, offset_std=0.05, shallow=True).train()
    wrapper = NonFiniteGuardOptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3),
                                         autocast_dtype='bfloat16')
    dtypes = set()
    # the classifier: mmseg's decode heads' conv_seg, Mask2Former's cls_embed
    head = getattr(model.decode_head, 'conv_seg', None) or model.decode_head.cls_embed
    handle = head.register_forward_hook(lambda m, i, o: dtypes.add(o.dtype))
    data = _batch(model)
    losses = [model.train_step(data, wrapper)['loss'].item() for _ in range(6)]
    handle.remove()
    assert dtypes == {torch.bfloat16}, 'the forward ran under bfloat16 autocast'
    assert all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < 0.9 * losses[0], losses
    for name, p in model.named_parameters():
        assert p.dtype == torch.float32 and p.isfinite().all(), name


def test_autocast_dtype_argument() -> None:
    layer = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match='float16 needs loss scaling'):
        NonFiniteGuardOptimWrapper(torch.optim.SGD(layer.parameters(), lr=1.0),
                                   autocast_dtype='float16')
