"""What evaluation needs of a segmentor: the :class:`Segmentor` protocol.

:func:`segkit.apis.inference.load_segmentor` returns one (an mmseg
``EncoderDecoder`` with ``cfg`` and ``dataset_meta`` attached), and so does
:class:`segkit.apis.export.OnnxSegmentor` (an exported graph in
onnxruntime). Prediction (:mod:`.predict`), the variant engine
(:mod:`.variants`) and the studies on it take either.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mmengine.config import Config
    from mmseg.structures import SegDataSample

__all__ = ['Segmentor']


@runtime_checkable
class Segmentor(Protocol):
    """A segmentor as evaluation uses it.

    Attributes:
        cfg: The model's config: evaluation reads ``test_pipeline`` (the
            preprocessing of images held in memory), ``test_dataloader``
            (the test set) and ``default_scope``.
        dataset_meta: ``classes`` (their number sizes the metrics) and
            ``palette`` (may be None).
    """

    cfg: Config
    dataset_meta: dict[str, Any]

    def test_step(self, data: dict) -> list[SegDataSample]:
        """Predicts a batch as mmseg's ``BaseSegmentor.test_step`` does.

        Args:
            data: ``inputs`` (list of (3, H, W) uint8 tensors, what the test
                pipeline packs) and ``data_samples`` (their ``SegDataSample``
                with ``img_shape`` and ``ori_shape``).

        Returns:
            One ``SegDataSample`` per image, with ``seg_logits`` (C, H, W)
            and ``pred_sem_seg`` (1, H, W) at its ``ori_shape``.
        """
        ...
