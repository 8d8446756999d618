"""Segment images, folders and lists of images with a trained model.

Robust reading (grayscale, RGBA, palette, 16-bit, CMYK, EXIF-rotated), test
time augmentation by flips and scales (logits averaged at the original size),
sliding-window inference through mmseg's ``slide`` mode, and per-file error
reporting: a file that cannot be read is listed with its reason and the rest
carry on. Every output is written atomically inside the output folder.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from segkit.errors import InputNotFoundError
from segkit.evaluation.predict import labels_at, predict_logits, test_pipeline
from segkit.evaluation.segmentor import Segmentor
from segkit.utils.io import atomic_write_bytes, atomic_write_text

__all__ = ['IMAGE_EXTENSIONS', 'read_image', 'list_inputs', 'load_segmentor',
           'predict_logits', 'labels_at', 'segment_inputs', 'InferenceSummary']

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Reads any common image as an (H, W, 3) uint8 BGR array, upright.

    EXIF orientation is applied; grayscale is replicated to 3 channels; an
    alpha channel is composited onto black; palette and CMYK images are
    converted; 16-bit (and 32-bit integer) images are scaled to 8 bits.

    Raises:
        ValueError: the file is empty, not an image, or truncated.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if path.stat().st_size == 0:
        raise ValueError('empty file')
    try:
        with Image.open(path) as image:
            image.load()  # NOTE: decodes everything now, so truncation shows here
            image = ImageOps.exif_transpose(image)
            if image.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
                array = np.asarray(image, dtype=np.float64)
                top = 65535.0 if image.mode.startswith('I;16') or array.max() > 255 else 255.0
                gray = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
                rgb = np.repeat(gray[..., None], 3, axis=2)
            elif image.mode == 'F':
                array = np.asarray(image, dtype=np.float64)
                span = max(array.max() - array.min(), 1e-12)
                gray = ((array - array.min()) / span * 255.0).astype(np.uint8)
                rgb = np.repeat(gray[..., None], 3, axis=2)
            else:
                if image.mode in ('RGBA', 'LA', 'PA') or (
                        image.mode == 'P' and 'transparency' in image.info):
                    rgba = image.convert('RGBA')
                    background = Image.new('RGBA', rgba.size, (0, 0, 0, 255))
                    image = Image.alpha_composite(background, rgba)
                rgb = np.asarray(image.convert('RGB'))
    except UnidentifiedImageError:
        raise ValueError('not an image (unrecognised format)') from None
    except (OSError, SyntaxError) as e:
        raise ValueError(f'unreadable image: {" ".join(str(e).split())}') from None
    return np.ascontiguousarray(rgb[..., ::-1])


def list_inputs(source: str | os.PathLike) -> tuple[Path, list[Path]]:
    """Expands an image, a folder (recursive) or a text list into image paths.

    Returns:
        (root, files): outputs mirror each file's path relative to ``root``.

    Raises:
        InputNotFoundError: ``source`` does not exist, or is a folder or a
            list without images (a ``FileNotFoundError``).
    """
    source = Path(source)
    if not source.exists():
        raise InputNotFoundError(f'input not found: {source}')
    if source.is_dir():
        files, seen = [], set()
        # NOTE: os.walk follows symlinked folders (Path.rglob does not before
        # Python 3.13); each real folder is visited once (real folders before
        # links to them), so link loops end and no image is done twice
        for folder, subfolders, names in os.walk(source, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                subfolders[:] = []
                continue
            seen.add(real)
            subfolders.sort(key=lambda n: (os.path.islink(os.path.join(folder, n)), n))
            files += [Path(folder) / n for n in names
                      if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
        if not files:
            raise InputNotFoundError(f'no image found in {source} or its subfolders (looked for '
                                     f'{" ".join(IMAGE_EXTENSIONS)}, any case)')
        return source, sorted(files)
    if source.suffix.lower() == '.txt':
        lines = [line.strip() for line in source.read_text(encoding='utf-8').splitlines()]
        files = [(source.parent / line) for line in lines if line and not line.startswith('#')]
        if not files:
            raise InputNotFoundError(f'the list {source} names no image')
        return source.parent, files
    return source.parent, [source]


def load_segmentor(config: str | os.PathLike, checkpoint: str | os.PathLike | None = None,
                   device: str = 'cpu', cfg_options: dict | None = None) -> torch.nn.Module:
    """Builds the model of ``config`` in eval mode and loads ``checkpoint`` strictly.

    Without a checkpoint the weights are random (what speed and memory
    measurements need; pretrained files named by ``init_cfg`` need not
    exist). Class names and palette come from the checkpoint's
    ``dataset_meta`` (what tools/train.py saves), else from the config's
    dataset type. The config is kept as ``model.cfg``: the model is a
    :class:`~segkit.evaluation.segmentor.Segmentor`.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS, MODELS

    from segkit.apis.runner import load_config
    from segkit.models.checkpoint_utils import load_model_checkpoint

    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.train_cfg = None
    backbone = cfg.model.get('backbone', {})
    if isinstance(backbone, dict) and 'init_cfg' in backbone:
        backbone.init_cfg = None  # the checkpoint has the weights
    model = MODELS.build(cfg.model)
    dataset_meta = None
    if checkpoint is not None:
        ckpt = load_model_checkpoint(model, os.fspath(checkpoint))  # strict, one-line errors
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        dataset_meta = meta.get('dataset_meta')
    if not dataset_meta:
        dataset_type = cfg.test_dataloader.dataset.type
        dataset_meta = dict(getattr(DATASETS.get(dataset_type), 'METAINFO', {}))
    model.dataset_meta = dataset_meta
    model.cfg = cfg
    return model.to(device).eval()


@dataclass
class InferenceSummary:
    """What :func:`segment_inputs` did."""

    processed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dict(processed=len(self.processed), failed=self.failed,
                               files=self.processed), indent=2, ensure_ascii=False)


def _encode_png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='PNG')
    return buffer.getvalue()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _palette(model: Segmentor) -> np.ndarray:
    """(K, 3) uint8 RGB: the model's palette, else 256 seeded random colours."""
    return np.array(model.dataset_meta.get('palette') or
                    np.random.default_rng(0).integers(0, 255, (256, 3)).tolist(), dtype=np.uint8)


def _readable(files: Sequence[Path], summary: InferenceSummary,
              progress: bool) -> Iterator[tuple[Path, np.ndarray]]:
    """(path, BGR image) of each file that reads; the others go to ``summary.failed``."""
    from tqdm import tqdm

    for path in tqdm(files, desc='segment', unit='img', disable=not progress):
        try:
            yield path, read_image(path)
        except (ValueError, OSError) as e:
            summary.failed[str(path)] = str(e)


def _batches(images: Iterable[tuple[Path, np.ndarray]], batch_size: int
             ) -> Iterator[list[tuple[Path, np.ndarray]]]:
    """Consecutive images, up to ``batch_size`` at a time, of one size each."""
    pending: list[tuple[Path, np.ndarray]] = []
    for item in images:
        if pending and item[1].shape != pending[0][1].shape:
            yield pending  # NOTE: mmseg stacks a test batch only if all sizes agree
            pending = []
        pending.append(item)
        if len(pending) >= batch_size:
            yield pending
            pending = []
    if pending:
        yield pending


def _label_maps(model: Segmentor, batch: list[tuple[Path, np.ndarray]],
                scales: Sequence[float], flip: bool,
                pipeline: Callable[[dict], dict]) -> list[np.ndarray]:
    """Label maps at each image's size (uint8, or uint16 beyond 256 classes)."""
    probs = predict_logits(model, [image for _, image in batch], scales, flip, pipeline)
    maps = []
    for (_, image), scores in zip(batch, probs):
        labels = labels_at(scores, image.shape[:2])
        maps.append(labels if labels.dtype == np.uint8 else labels.astype(np.uint16))
    return maps


def _write_outputs(image: np.ndarray, labels: np.ndarray, rel: Path, out: Path,
                   palette: np.ndarray, opacity: float, show_dir: Path | None) -> bool:
    """Writes the label PNG, the overlay (and the side-by-side picture) of one
    image; False, writing nothing, when an output would fall outside ``out``."""
    import cv2

    label_file = out / 'labels' / rel.with_suffix('.png')
    overlay_file = out / 'overlays' / rel.with_suffix('.jpg')
    if not (_inside(label_file, out) and _inside(overlay_file, out)):
        return False
    colour = palette[labels % len(palette)][..., ::-1]  # RGB palette -> BGR
    overlay = cv2.addWeighted(image, 1 - opacity, colour, opacity, 0)
    atomic_write_bytes(label_file, _encode_png(labels))
    atomic_write_bytes(overlay_file, cv2.imencode('.jpg', overlay)[1].tobytes())
    if show_dir is not None:
        side = np.concatenate([image, colour, overlay], axis=1)
        atomic_write_bytes(show_dir / rel.with_suffix('.jpg'),
                           cv2.imencode('.jpg', side)[1].tobytes())
    return True


def segment_inputs(model: Segmentor, source: str | os.PathLike,
                   out_dir: str | os.PathLike, batch_size: int = 1,
                   scales: Sequence[float] = (1.0,), flip: bool = False,
                   show_dir: str | os.PathLike | None = None, opacity: float = 0.5,
                   progress: bool = True) -> InferenceSummary:
    """Segments every image of ``source`` into ``out_dir``.

    Writes ``labels/<relative path>.png`` (class indices, the input's size)
    and ``overlays/<relative path>.jpg`` (the palette blended over the image),
    side-by-side pictures under ``show_dir`` if given, and ``summary.json``.
    Files that cannot be read are listed in the summary with their reason.
    ``model`` is a PyTorch segmentor (:func:`load_segmentor`) or an ONNX one
    (:class:`segkit.apis.export.OnnxSegmentor`).
    """
    out = Path(out_dir)
    root, files = list_inputs(source)
    palette = _palette(model)
    summary = InferenceSummary()
    pipeline = test_pipeline(model)
    show = None if show_dir is None else Path(show_dir)
    for batch in _batches(_readable(files, summary, progress), batch_size):
        for (path, image), labels in zip(batch, _label_maps(model, batch, scales, flip,
                                                            pipeline)):
            if _write_outputs(image, labels, _relative(path, root), out, palette, opacity, show):
                summary.processed.append(str(path))
            else:
                summary.failed[str(path)] = 'output would fall outside --out'
    atomic_write_text(out / 'summary.json', summary.to_json())
    return summary


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:  # a list entry outside the list's folder
        return Path(path.name)


