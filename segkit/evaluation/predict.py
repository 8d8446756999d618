"""A trained segmentor's class probabilities for images held in memory.

What inference (``segkit.apis.inference``) and robustness evaluation share:
the config's test pipeline without its label steps, test-time scales and
flips averaged at the pipeline's working size, and label maps upsampled to
any size in strips, so memory stays bounded for huge images.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .segmentor import Segmentor

__all__ = ['labels_at', 'predict_logits', 'test_pipeline']


def test_pipeline(model: Segmentor) -> Callable[[dict], dict]:
    """The config's test pipeline for in-memory images, without its label steps."""
    from mmcv.transforms import Compose

    label_steps = ('LoadAnnotations', 'ValidateSegSample')
    steps = [dict(t) for t in model.cfg.test_pipeline if t.get('type') not in label_steps]
    steps[0] = dict(type='LoadImageFromNDArray')
    return Compose(steps)


@torch.no_grad()
def predict_logits(model: Segmentor, images: Sequence[np.ndarray],
                   scales: Sequence[float] = (1.0,), flip: bool = False,
                   pipeline: Callable[[dict], dict] | None = None) -> list[torch.Tensor]:
    """Class probabilities (C, h, w) of each image at its *working* size
    (for a one-channel sigmoid head, two class scores: :func:`_two_class`).

    The working size is what the config's test pipeline resizes the image to
    (bounded by the pipeline's scale, whatever the image's own size); scales
    and, with ``flip``, horizontal flips are averaged there. Use
    :func:`labels_at` for the label map at the image's own size: it
    upsamples in strips, so memory stays bounded for huge images.
    """
    import cv2

    pipeline = pipeline or test_pipeline(model)
    total: list[torch.Tensor | None] = [None] * len(images)
    variants = [(s, f) for s in scales for f in ((False, True) if flip else (False,))]
    for scale, flipped in variants:
        batch = []
        for image in images:
            x = image[:, ::-1] if flipped else image
            if scale != 1.0:
                x = cv2.resize(x, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            item = pipeline(dict(img=np.ascontiguousarray(x)))
            # NOTE: mmseg would upsample the logits to the original size (C x H x W,
            # unbounded); asking for the working size keeps them small
            sample = item['data_samples']
            sample.set_metainfo(dict(ori_shape=sample.metainfo['img_shape']))
            batch.append(item)
        data = dict(inputs=[b['inputs'] for b in batch],
                    data_samples=[b['data_samples'] for b in batch])
        results = model.test_step(data)
        for i, result in enumerate(results):
            logits = result.seg_logits.data.float()
            if total[i] is not None and logits.shape[-2:] != total[i].shape[-2:]:
                logits = torch.nn.functional.interpolate(
                    logits[None], size=total[i].shape[-2:], mode='bilinear',
                    align_corners=False)[0]
            if flipped:
                logits = logits.flip(-1)
            probs = logits.softmax(0) if logits.shape[0] > 1 else _two_class(model, logits)
            total[i] = probs if total[i] is None else total[i] + probs
    return [t / len(variants) for t in total]  # type: ignore[operator]


def _two_class(model: Segmentor, foreground: torch.Tensor) -> torch.Tensor:
    """Scores (2, h, w) of a one-channel (sigmoid) head, whose seg_logits
    mmseg has already turned into the foreground probability p: background
    2t - p and foreground p, so the argmax is mmseg's rule (foreground where
    p > the head's threshold t), and stays so after averaging and bilinear
    upsampling (both linear in p). At t = 0.5 the scores are 1 - p and p.
    t: the built head's, else the config's (an ONNX segmentor), else mmseg's
    default for one channel, 0.3."""
    threshold = getattr(getattr(model, 'decode_head', None), 'threshold', None)
    if threshold is None:
        threshold = model.cfg.model.get('decode_head', {}).get('threshold')
    threshold = 0.3 if threshold is None else float(threshold)
    return torch.cat([2 * threshold - foreground, foreground])


def labels_at(probs: torch.Tensor, size: tuple[int, int], rows: int = 256) -> np.ndarray:
    """Label map (H, W) from (C, h, w) probabilities, upsampled bilinearly.

    Equal to ``interpolate(probs, size, 'bilinear').argmax(0)`` but done
    ``rows`` output rows at a time, so memory is C x rows x W at most.
    """
    c, h, w = probs.shape
    height, width = size
    if (h, w) == (height, width):
        return probs.argmax(0).cpu().numpy()
    out = np.empty((height, width), dtype=np.uint8 if c <= 256 else np.int32)
    # align_corners=False: output pixel centres map to (i + 0.5) * in / out - 0.5
    xs = ((torch.arange(width, dtype=torch.float32) + 0.5) / width) * 2 - 1
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        ys = ((torch.arange(top, bottom, dtype=torch.float32) + 0.5) / height) * 2 - 1
        grid = torch.stack(torch.meshgrid(ys, xs, indexing='ij')[::-1], dim=-1)
        strip = torch.nn.functional.grid_sample(
            probs[None], grid[None].to(probs.device), mode='bilinear',
            padding_mode='border', align_corners=False)[0]
        out[top:bottom] = strip.argmax(0).cpu().numpy()
    return out
