"""The multi-scale test resize of the BEiT-based segmentation recipes
(ConvNeXt, ConvNeXt-dcls), for mmseg 1.x pipelines.

Source: BEiT's ``SETR_Resize`` (microsoft/unilm @ dc42d298,
beit/semantic_segmentation/mmcv_custom/resize_transform.py), as the ConvNeXt
``_ms`` configs use it: ``keep_ratio=True, setr_multi_scale=True`` inside
``MultiScaleFlipAug(img_scale=(2048, 512), img_ratios=...)``, which hands it
the scale ``(int(2048 r), int(512 r))``. The image's short side becomes
``max(min(scale), crop_size[0])`` and its long side follows the aspect ratio,
without the long-side cap of ``Resize(keep_ratio=True)``.
"""
from __future__ import annotations

import mmcv
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

__all__ = ['SETRResize']


@TRANSFORMS.register_module()
class SETRResize(BaseTransform):
    """Resizes the image so that its short side is ``max(min(scale), crop_size[0])``.

    Put it in ``TestTimeAug`` with one ``scale`` per ratio, as
    ``dict(type='SETRResize', scale=(int(2048 * r), int(512 * r)), crop_size=(512, 512))``
    (the short side never falls below the sliding window's crop).

    Args:
        scale: The ``(w, h)`` scale ``MultiScaleFlipAug`` would hand the
            original transform; only its smaller side is used.
        crop_size: The sliding-window crop ``(h, w)``; ``crop_size[0]`` is the
            smallest short side, as in the original.
        interpolation: For the image (segmentation maps use nearest).
        backend: mmcv's resize backend.

    Example:
        >>> import numpy as np
        >>> out = SETRResize(scale=(1024, 256), crop_size=(512, 512))(
        ...     dict(img=np.zeros((100, 1000, 3), np.uint8)))
        >>> out['img'].shape
        (512, 5120, 3)
    """

    def __init__(self, scale: tuple[int, int], crop_size: tuple[int, int],
                 interpolation: str = 'bilinear', backend: str = 'cv2') -> None:
        if len(scale) != 2 or len(crop_size) != 2 or min(*scale, *crop_size) <= 0:
            raise ValueError(f'scale and crop_size must be two positive sizes, got {scale!r} '
                             f'and {crop_size!r}')
        self.scale, self.crop_size = tuple(scale), tuple(crop_size)
        self.interpolation, self.backend = interpolation, backend

    def _target(self, h: int, w: int) -> tuple[float, float]:
        short = max(min(self.scale), self.crop_size[0])
        # NOTE: the original's arithmetic, kept as written: a float target
        # that mmcv.imrescale fits the image into (its two ratios agree up to
        # rounding; imrescale takes the smaller and rounds each side to the
        # nearest integer)
        return (short * h / w, short) if h > w else (short, short * w / h)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        target = self._target(h, w)
        img = mmcv.imrescale(img, target, interpolation=self.interpolation,
                             backend=self.backend)
        new_h, new_w = img.shape[:2]
        results['img'] = img
        results['img_shape'] = (new_h, new_w)
        results['scale'] = (new_w, new_h)
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = True
        for key in results.get('seg_fields', []):
            results[key] = mmcv.imrescale(results[key], target, interpolation='nearest',
                                          backend=self.backend)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale={self.scale}, crop_size={self.crop_size})'
