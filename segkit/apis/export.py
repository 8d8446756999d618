"""Whole segmentors to ONNX, checked, and run back through onnxruntime.

The exported graph takes what mmseg's data preprocessor takes, a float
(N, 3, H, W) image in the config's channel order and range (BGR 0-255 for
segkit's configs, as OpenCV reads), normalises it, runs backbone and decode
head (the auxiliary head, used only in training, is dropped) and returns the
logits resized to the input size, (N, classes, H, W).

Every segkit layer exports as standard ONNX operators: DCNv3 as its reference
formulation (``GridSample``, opset >= 16; ``impl='auto'`` takes it whenever
``torch.export`` runs), DCLS and designed kernel shapes as convolutions with
their constructed kernels (constants), densified layers as dilated
convolutions and poolings. Export goes through ``torch.export`` (the
"dynamo" exporter), which also takes UPerNet's adaptive pyramid pooling at
sizes that do not divide the map (the TorchScript exporter refuses them).
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from segkit.errors import ExportError
from segkit.ops.constructed_kernel import ConstructedKernelConv
from segkit.utils.io import atomic_write_bytes
from segkit.utils.optional import require

if TYPE_CHECKING:
    from mmengine.config import Config
    from mmseg.structures import SegDataSample

__all__ = ['ExportError', 'OnnxSegmentor', 'SegmentorForExport', 'export_onnx',
           'with_plain_convs']


def with_plain_convs(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose constructed-kernel convolutions (DCLS,
    designed kernel shapes: :class:`~segkit.ops.ConstructedKernelConv`) are the
    plain convolutions they compute: their kernels become constants of the
    exported graph."""
    import copy

    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if name and isinstance(module, ConstructedKernelConv):
            parent, _, child = name.rpartition('.')
            setattr(model.get_submodule(parent), child, module.to_conv2d())
    return model


class SegmentorForExport(torch.nn.Module):
    """image (N, 3, H, W) as the data preprocessor takes it -> logits (N, K, H, W)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = with_plain_convs(model)
        pre = model.data_preprocessor
        self.register_buffer('mean', pre.mean.reshape(1, -1, 1, 1).clone())
        self.register_buffer('std', pre.std.reshape(1, -1, 1, 1).clone())
        self.swap_channels = bool(pre.channel_conversion)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.swap_channels:
            image = image.flip(1)  # BGR <-> RGB
        x = (image - self.mean) / self.std
        logits = self.model.decode_head.forward(self.model.extract_feat(x))
        return F.interpolate(logits, size=image.shape[-2:], mode='bilinear',
                             align_corners=self.model.align_corners)


def _layer_name(exc: BaseException, model: torch.nn.Module) -> str | None:
    """The deepest module of ``model`` whose forward is on the traceback of
    ``exc`` (or of the exceptions it chains)."""
    names = {id(m): n for n, m in model.named_modules() if n}
    found = None
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get('self')
            if id(owner) in names:
                found = names[id(owner)]
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return found


def _failure(exc: BaseException, model: torch.nn.Module) -> str:
    """One line: the layer that failed and the innermost reason."""
    import re

    layer = _layer_name(exc, model)
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    lines = [line for line in str(root).strip().splitlines() if line.strip()]
    reason = re.sub(r'\x1b\[[0-9;]*m', '', lines[0] if lines else type(root).__name__)
    where = (f'at layer {layer} ({type(model.get_submodule(layer)).__name__})' if layer
             else 'in the model')
    return f'ONNX export failed {where}: {type(root).__name__}: {reason[:300]}'


def _export(wrapper: torch.nn.Module, example: torch.Tensor, path: Path, opset: int,
            dims: Sequence[str]) -> None:
    """torch.onnx.export (the torch.export route) with ``dims`` of the input
    dynamic (``'batch'``, ``'height'``, ``'width'``)."""
    bounds = {'batch': (0, 1, 64), 'height': (2, 32, 4096), 'width': (3, 32, 4096)}
    shapes = {'image': {bounds[d][0]: torch.export.Dim(d, min=bounds[d][1], max=bounds[d][2])
                        for d in dims}} if dims else None
    torch.onnx.export(wrapper, (example,), str(path), input_names=['image'],
                      output_names=['logits'], opset_version=opset, dynamo=True,
                      dynamic_shapes=shapes, external_data=False, verbose=False)


def _agrees_at_other_sizes(data: bytes, wrapper: torch.nn.Module, size: tuple[int, int],
                           ort: object) -> bool:
    """Whether a spatially dynamic graph computes what PyTorch does at other
    sizes and batches (relative difference below 1e-4)."""
    session = ort.InferenceSession(data, providers=['CPUExecutionProvider'])
    h, w = size
    for shape in ((3, h * 3 // 2, w), (1, h, w * 5 // 4 + 32), (2, max(32, h // 2), w * 2)):
        x = torch.rand(shape[0], 3, *shape[1:]) * 255
        try:
            got = session.run(None, {'image': x.numpy()})[0]
        except Exception:  # noqa: BLE001 - an index baked in for the example's size
            return False
        with torch.no_grad():
            ref = wrapper(x).numpy()
        if got.shape != ref.shape or np.abs(got - ref).max() > 1e-4 * np.abs(ref).max():
            return False
    return True


def _pools_to_a_fixed_grid(model: torch.nn.Module) -> bool:
    """Whether ``model`` has an adaptive pooling to a grid of more than one
    cell per side: its windows depend on the input size, which torch.export
    bakes in. Functional poolings are not seen here; the check at other sizes
    catches those."""
    pools = (torch.nn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d)
    for module in model.modules():
        if isinstance(module, pools):
            size = module.output_size
            if any(s not in (1, None) for s in (size if isinstance(size, tuple) else (size,))):
                return True
    return False


def _standard_domains(onnx_model: object) -> set[str]:
    return {node.domain for node in onnx_model.graph.node} - {'', 'ai.onnx'}


def _export_graph(wrapper: torch.nn.Module, example: torch.Tensor, opset: int,
                  attempts: Sequence[Sequence[str]], ort: ModuleType
                  ) -> tuple[bytes, tuple[str, ...], str]:
    """The exported file's bytes, with the first of ``attempts`` (dynamic
    dims) that exports and, if spatially dynamic, agrees with PyTorch at
    other sizes, and the exporter that made it.

    torch.export (``'dynamo'``) first; where it cannot trace the model, the
    TorchScript exporter at the example's fixed size (``'torchscript'``):
    mmdet 3.3.0's Mask2Former pixel decoder takes each level's size as a
    tensor (``torch._shape_as_tensor``) and computes with it, which
    torch.export cannot trace but jit tracing records as constants.

    Raises:
        ExportError: neither exporter exported it; names the layer torch.export
            stopped at.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'model.onnx'
        for dims in attempts:
            try:
                with torch.no_grad():
                    _export(wrapper, example, path, opset, dims)
            except Exception as e:  # noqa: BLE001 - exporters fail in many ways
                if dims != attempts[-1]:
                    continue
                failure = ExportError(_failure(e, wrapper.model))
                try:
                    with torch.no_grad(), warnings.catch_warnings():
                        warnings.simplefilter('ignore')  # TracerWarnings: shapes as constants
                        torch.onnx.export(wrapper, (example,), str(path),
                                          input_names=['image'], output_names=['logits'],
                                          opset_version=opset, dynamo=False)
                    # NOTE: a tracer records what it sees run: anything
                    # computed out of its sight (a kernel through ctypes,
                    # numpy) is baked in as a constant; another input tells
                    other = {'other': torch.rand_like(example) * 255}
                    agrees = _differences(wrapper, path.read_bytes(), other, ort)
                except Exception:  # noqa: BLE001 - the first failure says more
                    raise failure from None
                if not agrees['other_max_rel_diff'] < 1e-3:
                    raise failure from None
                return path.read_bytes(), (), 'torchscript'
            # NOTE: torch.export can accept dynamic sizes and still bake in
            # size-dependent indices (adaptive pooling): check other sizes
            if 'height' not in dims or _agrees_at_other_sizes(
                    path.read_bytes(), wrapper, tuple(example.shape[-2:]), ort):
                break
        return path.read_bytes(), tuple(dims), 'dynamo'


def _checked(data: bytes, onnx: ModuleType) -> object:
    """The ONNX model of ``data``, after onnx's full check (raises if it fails)."""
    onnx_model = onnx.load_from_string(data)
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def _differences(wrapper: torch.nn.Module, data: bytes, inputs: dict[str, torch.Tensor],
                 ort: ModuleType) -> dict[str, float]:
    """Largest absolute and relative difference of onnxruntime to PyTorch per input."""
    session = ort.InferenceSession(data, providers=['CPUExecutionProvider'])
    report = {}
    for name, x in inputs.items():
        with torch.no_grad():
            ref = wrapper(x).numpy()
        got = session.run(None, {'image': x.numpy()})[0]
        diff = float(np.abs(got - ref).max())
        report[f'{name}_max_abs_diff'] = diff
        report[f'{name}_max_rel_diff'] = diff / max(float(np.abs(ref).max()), 1e-12)
    return report


def _as_input(image: np.ndarray, size: tuple[int, int], batch: int) -> torch.Tensor:
    """A BGR uint8 image as the graph's float input: resized to ``size``, repeated."""
    import cv2

    h, w = size
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(np.ascontiguousarray(resized.transpose(2, 0, 1))).float()[None].expand(
        batch, -1, -1, -1)


def _with_metadata(onnx_model: object, model: torch.nn.Module, size: tuple[int, int],
                   dims: Sequence[str]) -> bytes:
    """The file, with what :class:`OnnxSegmentor` reads back (classes, palette,
    size, dynamic dims) as its only metadata."""
    meta = onnx_model.metadata_props
    del meta[:]
    entry = meta.add()
    entry.key, entry.value = 'segkit', json.dumps(dict(
        classes=list(model.dataset_meta.get('classes', [])),
        palette=[list(map(int, p)) for p in model.dataset_meta.get('palette', [])],
        size=list(size), dynamic=list(dims)))
    return onnx_model.SerializeToString()


def export_onnx(model: torch.nn.Module, out: str | os.PathLike,
                size: Sequence[int] = (512, 512), dynamic: bool = False, opset: int = 18,
                real_image: np.ndarray | None = None) -> dict:
    """Exports ``model`` (from :func:`segkit.apis.inference.load_segmentor`),
    checks the file with onnx's checker and compares onnxruntime with PyTorch;
    ``out`` is written once, at the end, with segkit's metadata.

    Args:
        size: (H, W) of the exported input (the example with ``dynamic``).
        dynamic: Dynamic batch, height and width (32 to 4096 pixels); models
            whose adaptive poolings fix the spatial size (UPerNet) get a
            dynamic batch only (``report['dynamic']`` says which).
        opset: ONNX opset (>= 16 for DCNv3's GridSample).
        real_image: A BGR uint8 image to compare on as well (resized to ``size``).

    Returns:
        ``path``, ``size``, ``opset``, ``dynamic``, ``exporter`` (``'dynamo'``:
        torch.export; ``'torchscript'`` at a fixed size where torch.export
        cannot trace the model, e.g. mmdet's Mask2Former, and only if it
        agrees with PyTorch on another input), the largest absolute and
        relative differences on the random and the real input, the number of
        nodes and the operator domains.

    Raises:
        ExportError: the export failed; the message names the layer.
    """
    onnx = require('onnx', 'deploy')
    ort = require('onnxruntime', 'deploy')
    if opset < 16:
        raise ValueError(f'opset must be >= 16 (GridSample), got {opset}')
    out = Path(out)
    wrapper = SegmentorForExport(model.cpu().eval()).eval()
    h, w = (int(v) for v in size)
    torch.manual_seed(0)
    # NOTE: a dynamic batch needs an example of 2 (torch.export specialises 0 and 1)
    random = torch.rand(2 if dynamic else 1, 3, h, w) * 255
    # NOTE: adaptive poolings (UPerNet's pyramid pooling) fix the spatial size
    # under torch.export; such models get a dynamic batch only (known ones
    # without a first export that the check at other sizes would refuse)
    attempts = [('batch', 'height', 'width'), ('batch',)] if dynamic else [()]
    if dynamic and _pools_to_a_fixed_grid(model):
        attempts = attempts[1:]
    data, dims, exporter = _export_graph(wrapper, random, opset, attempts, ort)
    onnx_model = _checked(data, onnx)
    inputs = {'random': random}
    if real_image is not None:
        inputs['real'] = _as_input(real_image, (h, w), len(random))
    report = dict(path=str(out), size=[h, w], opset=opset, dynamic=list(dims), exporter=exporter,
                  nodes=len(onnx_model.graph.node),
                  custom_domains=sorted(_standard_domains(onnx_model)))
    report.update(_differences(wrapper, data, inputs, ort))
    atomic_write_bytes(out, _with_metadata(onnx_model, model, (h, w), dims))
    return report


def export_checkpoint(config: str | os.PathLike, checkpoint: str | os.PathLike,
                      out: str | os.PathLike, size: Sequence[int] | None = None,
                      dynamic: bool = False, opset: int = 18) -> dict:
    """:func:`export_onnx` of a trained segmentor (``segkit export``): at
    ``size``, or the config's crop size, else 512 x 512; compared with
    PyTorch on a random input and, where the config's test data is there,
    on its first image."""
    from .inference import load_segmentor

    model = load_segmentor(config, checkpoint)
    size = size or tuple(model.cfg.get('crop_size') or (512, 512))
    real = None
    try:
        from segkit.evaluation.variants import labelled_dataset

        real = labelled_dataset(model.cfg)[0]['img']
    except Exception:  # noqa: BLE001 - no data here: compare on the random input only
        pass
    return export_onnx(model, out, size, dynamic, opset, real)


class OnnxSegmentor:
    """An exported segmentor in onnxruntime, a
    :class:`~segkit.evaluation.segmentor.Segmentor` like the PyTorch one:
    ``cfg``, ``dataset_meta`` (from the file) and ``test_step`` returning
    mmseg ``SegDataSample`` objects with ``seg_logits`` and ``pred_sem_seg``.
    Inputs are the test pipeline's uint8 images; normalisation is in the
    graph. A fixed-size graph gets each image resized to its size and the
    logits resized back."""

    def __init__(self, path: str | os.PathLike, cfg: Config) -> None:
        ort = require('onnxruntime', 'deploy')
        onnx = require('onnx', 'deploy')
        self.session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False)
                .metadata_props}
        info = json.loads(meta.get('segkit', '{}'))
        spatial = {'height', 'width'} <= set(info.get('dynamic', ()))
        self.size = None if spatial else tuple(info['size'])
        self.dataset_meta = dict(classes=tuple(info.get('classes', ())),
                                 palette=info.get('palette') or None)
        self.cfg = cfg
        from mmengine.registry import init_default_scope

        init_default_scope(cfg.get('default_scope', 'mmseg'))

    def _decode_head_cfg(self, key: str, default: object) -> object:
        head = self.cfg.get('model', {}).get('decode_head', {})
        value = head.get(key) if isinstance(head, dict) else None
        return default if value is None else value

    def test_step(self, data: dict) -> list[SegDataSample]:
        """Segments each image of a test batch; see
        :meth:`~segkit.evaluation.segmentor.Segmentor.test_step`. The
        samples of ``data`` are returned with their predictions, as mmseg does."""
        from mmengine.structures import PixelData

        results = []
        for image, sample in zip(data['inputs'], data['data_samples'], strict=True):
            x = image.float()[None]
            shape = x.shape[-2:]
            if self.size is not None and tuple(shape) != self.size:
                x = F.interpolate(x, size=self.size, mode='bilinear', align_corners=False)
            logits = torch.from_numpy(self.session.run(None, {'image': x.numpy()})[0])
            if logits.shape[-2:] != shape:
                logits = F.interpolate(logits, size=shape, mode='bilinear', align_corners=False)
            h, w = sample.metainfo['img_shape'][:2]
            logits = logits[:, :, :h, :w]
            # NOTE: as mmseg's postprocess_result: logits at the original size,
            # sigmoid probabilities and a thresholded map for one class
            ori_shape = tuple(sample.metainfo.get('ori_shape', (h, w))[:2])
            if ori_shape != (h, w):
                logits = F.interpolate(logits, size=ori_shape, mode='bilinear',
                                       align_corners=bool(self._decode_head_cfg(
                                           'align_corners', False)))
            logits = logits[0]
            if logits.shape[0] > 1:
                pred = logits.argmax(dim=0, keepdim=True)
            else:
                logits = logits.sigmoid()
                pred = (logits > self._decode_head_cfg('threshold', 0.3)).to(logits)
            sample.set_data(dict(seg_logits=PixelData(data=logits),
                                 pred_sem_seg=PixelData(data=pred)))
            results.append(sample)
        return results
