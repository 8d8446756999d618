"""SETRResize against BEiT's SETR_Resize formula, worked by hand.

BEiT (microsoft/unilm @ dc42d298, beit/semantic_segmentation/mmcv_custom/
resize_transform.py, ``_resize_img`` with keep_ratio and setr_multi_scale):
with the scale ``(int(2048 r), int(512 r))`` from MultiScaleFlipAug, the
short side becomes ``max(int(512 r), 512)`` and the long side follows the
aspect ratio, rounded half up (mmcv's ``_scale_size``), with no cap.
"""
from __future__ import annotations

import numpy as np
import pytest

from segkit.datasets import SETRResize


def _resize(h: int, w: int, r: float, seg: bool = False) -> dict:
    results = dict(img=np.zeros((h, w, 3), np.uint8))
    if seg:
        checkers = (np.indices((h, w)).sum(0) % 2).astype(np.uint8)
        results['gt_seg_map'] = np.where(checkers, 7, 3).astype(np.uint8)
        results['seg_fields'] = ['gt_seg_map']
    return SETRResize(scale=(int(2048 * r), int(512 * r)), crop_size=(512, 512))(results)


@pytest.mark.parametrize('h,w,r,expected', [
    (300, 400, 0.5, (512, 683)),    # short max(256, 512) = 512; 400 * 512 / 300 = 682.7
    (300, 400, 0.75, (512, 683)),   # max(384, 512)
    (300, 400, 1.0, (512, 683)),
    (300, 400, 1.25, (640, 853)),   # 400 * 640 / 300 = 853.3
    (300, 400, 1.5, (768, 1024)),
    (300, 400, 1.75, (896, 1195)),  # 400 * 896 / 300 = 1194.7
    (100, 1000, 1.0, (512, 5120)),  # no long-side cap (Resize((2048, 512)) would give 2048)
    (1000, 100, 1.5, (7680, 768)),  # tall: the width is the short side
    (64, 64, 1.0, (512, 512)),
    (512, 683, 1.0, (512, 683)),    # already there: unchanged
])
def test_short_side_as_beit(h: int, w: int, r: float, expected: tuple[int, int]) -> None:
    out = _resize(h, w, r)
    assert out['img'].shape[:2] == out['img_shape'] == expected
    assert out['scale'] == expected[::-1] and out['keep_ratio'] is True
    assert out['scale_factor'] == pytest.approx((expected[1] / w, expected[0] / h))


def test_differs_from_mmseg_resize_where_the_long_side_is_capped() -> None:
    from mmcv.transforms import Resize

    capped = Resize(scale=(2048, 512), keep_ratio=True)(dict(img=np.zeros((100, 1000, 3),
                                                                           np.uint8)))
    assert capped['img'].shape[:2] == (205, 2048)
    assert _resize(100, 1000, 1.0)['img'].shape[:2] == (512, 5120)


def test_segmentation_maps_are_resized_with_nearest() -> None:
    out = _resize(30, 40, 1.0, seg=True)
    assert out['gt_seg_map'].shape == out['img'].shape[:2] == (512, 683)
    assert set(np.unique(out['gt_seg_map']).tolist()) == {3, 7}  # no blended labels


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match='two positive sizes'):
        SETRResize(scale=(512,), crop_size=(512, 512))
    with pytest.raises(ValueError, match='two positive sizes'):
        SETRResize(scale=(2048, 512), crop_size=(0, 512))
