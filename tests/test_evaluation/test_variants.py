"""The variant-evaluation engine: region statistics by hand, and its contract
(keys, regions, covered fractions) on the sample model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from segkit.evaluation.statistics import AREAS
from segkit.evaluation.variants import (REGIONS, PerturbedDataset, RegionStats, as_is,
                                        evaluate_variants, labelled_dataset)
from tests.helpers import SAMPLE_CONFIG


def test_region_miou_by_hand() -> None:
    label = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 1],
                      [2, 2, 255, 255]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 1, 2],
                     [2, 0, 0, 2]])
    region = np.zeros_like(label, bool)
    region[:, :2] = True  # the left half
    stats = {name: RegionStats(3) for name in ('all', 'left', 'right')}
    stats['all'].update(pred, label, None)
    stats['left'].update(pred, label, region)
    stats['right'].update(pred, label, ~region)
    # all: class 0 I=3 U=5 (label 4 + pred-only (2,1)); class 1 I=3 U=5
    # (label 4 + pred-only (0,1)); class 2 I=1 U=3 (label 2 + pred-only (1,3))
    assert stats['all'].miou() == pytest.approx((3 / 5 + 3 / 5 + 1 / 3) / 3 * 100)
    # left: class 0 I=3 U=5 (label 4 + pred-only (2,1)); class 1 I=0 U=1; class 2 I=1 U=2
    assert stats['left'].miou() == pytest.approx((3 / 5 + 0 + 1 / 2) / 3 * 100)
    # right: class 1 I=3 U=4; class 2 I=0 U=1 (pred-only (1,3)); class 0 absent
    assert stats['right'].miou() == pytest.approx((3 / 4 + 0) / 2 * 100)


def test_perturbed_dataset_gives_label_variants_and_time() -> None:
    items = [dict(img=np.full((4, 5, 3), i, np.uint8), gt_seg_map=np.full((4, 5), i),
                  img_path=f'{i}.png') for i in range(3)]

    def perturb(item: dict) -> list:
        return [('same', item['img'], None), ('dark', item['img'] // 2, None)]

    dataset = PerturbedDataset(items, 2, perturb)
    assert len(dataset) == 2
    label, variants, seconds, name = dataset[1]
    assert (label == 1).all() and [key for key, _, _ in variants] == ['same', 'dark']
    assert seconds >= 0 and name == '1.png'
    batch = object()
    assert as_is(batch) is batch


class _Half:
    """The image as it is, and with its left half covered (picklable)."""

    def __call__(self, item: dict) -> list:
        image = item['img']
        mask = np.zeros(image.shape[:2], bool)
        mask[:, :image.shape[1] // 2] = True
        covered = image.copy()
        covered[mask] = 128
        return [('clean', image, None), ('again', image.copy(), None), ('half', covered, mask)]


@pytest.fixture(scope='module')
def sample_model(sample_root: Path) -> torch.nn.Module:
    from segkit.apis.inference import load_segmentor

    torch.manual_seed(0)
    return load_segmentor(SAMPLE_CONFIG, cfg_options={
        'test_dataloader.dataset.data_root': str(sample_root / 'ade')})


def test_evaluate_variants_contract(sample_model: torch.nn.Module) -> None:
    stats, covered, seconds = evaluate_variants(sample_model, _Half(), max_images=3,
                                                progress=False)
    assert list(stats) == ['clean', 'again', 'half']
    assert all(list(regions) == list(REGIONS) for regions in stats.values())
    # the same image twice: the same figures
    assert stats['again']['all'].miou() == stats['clean']['all'].miou()
    # only variants with a mask have occluded / visible pixels and coverage
    assert list(covered) == ['half'] and covered['half'] == pytest.approx([0.5] * 3, abs=0.01)
    assert np.isnan(stats['clean']['occluded'].miou())
    half = stats['half']
    assert not np.isnan(half['occluded'].miou()) and not np.isnan(half['visible'].miou())
    # the regions split every labelled pixel: their areas add up to the whole
    whole = half['occluded'].areas[2] + half['visible'].areas[2]  # predicted areas
    assert torch.equal(whole, half['all'].areas[2])
    assert set(seconds) == {'perturbing', 'predicting'} and seconds['predicting'] > 0
    assert len(labelled_dataset(sample_model.cfg)) == 6
    # 'all' keeps every image's counts: they sum to the totals, give the same mIoU
    counts = half['all'].counts(sample_model.dataset_meta['classes'])
    assert counts.num_images == 3 and counts.img_names[0].endswith('.jpg')
    assert counts.img_names == stats['clean']['all'].counts().img_names
    for k, total in enumerate(half['all'].areas):
        np.testing.assert_array_equal(counts.arrays()[AREAS[k]].sum(0), total.numpy())
    assert counts.miou() == half['all'].miou()
    with pytest.raises(ValueError, match='not kept per image'):
        half['occluded'].counts()
