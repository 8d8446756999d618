"""The Segmentor protocol: what load_segmentor returns satisfies it, a bare
mmseg model (no cfg, no dataset_meta) does not. (The ONNX segmentor is
checked against the PyTorch one in tests/test_apis/test_export.py.)"""
from __future__ import annotations

import torch

from segkit.evaluation import Segmentor
from tests.helpers import SAMPLE_CONFIG


def test_a_loaded_segmentor_is_one_and_a_bare_model_is_not() -> None:
    from mmseg.registry import MODELS

    from segkit.apis.inference import load_segmentor

    torch.manual_seed(0)
    model = load_segmentor(SAMPLE_CONFIG)
    assert isinstance(model, Segmentor)
    bare = MODELS.build(model.cfg.model)
    assert not isinstance(bare, Segmentor)  # test_step alone is not enough
    bare.cfg = model.cfg
    assert not isinstance(bare, Segmentor)
    bare.dataset_meta = model.dataset_meta
    assert isinstance(bare, Segmentor)
