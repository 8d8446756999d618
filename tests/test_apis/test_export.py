"""ONNX export of every segkit model family, checked by onnx and compared in
onnxruntime with PyTorch; inference through the exported file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segkit.apis.export import ExportError, export_onnx
from tests.helpers import SAMPLE_CONFIG, run_tool_in_process
from tests.helpers.segmentors import FULL, SAMPLES, randomised_segmentor

pytestmark = pytest.mark.slow  # exports run torch.export, seconds each


@pytest.mark.parametrize('config', SAMPLES + FULL)
def test_exports_and_matches_pytorch(config: str, tmp_path: Path) -> None:
    # two blocks per stage: every layer kind and option of the config, in a
    # graph a fraction of the size (export time grows with the graph)
    model = randomised_segmentor(config, shallow=True)
    size = (128, 128) if config in SAMPLES else (64, 96)
    report = export_onnx(model, tmp_path / 'model.onnx', size)
    assert report['random_max_rel_diff'] < 1e-4, report
    assert report['custom_domains'] == []  # standard ONNX operators only
    import onnx

    graph = onnx.load(str(tmp_path / 'model.onnx')).graph
    assert graph.output[0].type.tensor_type.shape.dim[1].dim_value == len(
        model.dataset_meta['classes'])
    ops = {node.op_type for node in graph.node}
    if 'internimage' in config or 'dcn' in config or 'mask2former' in config:
        # DCNv3's, DCN's and the attention's reference (grid_sample) formulation
        assert 'GridSample' in ops
    # NOTE: mmdet 3.3.0's Mask2Former pixel decoder computes with its levels'
    # sizes as tensors (torch._shape_as_tensor), which torch.export cannot
    # trace: the TorchScript exporter, at a fixed size, takes it
    assert report['exporter'] == ('torchscript' if 'mask2former' in config else 'dynamo')
    # DCLS and shaped kernels are constants of plain convolutions (Mask2Former's
    # head combines class scores and masks with an einsum)
    if 'mask2former' not in config:
        assert not ops & {'Einsum', 'ScatterElements', 'Exp'}, ops


class _FunctionalPyramid(torch.nn.Module):
    """Adds a 3x3 adaptive pooling of its input, as a function (no module
    for segkit's check to find): its windows depend on the input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool2d(x, 3)
        return x + torch.nn.functional.interpolate(pooled, x.shape[-2:], mode='nearest')


def test_dynamic_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FCN: batch, height and width dynamic; UPerNet's adaptive pyramid pooling
    fixes the spatial size, so only its batch is: known from its modules
    (one export), or, for a functional pooling, from the exported graph's
    answers at other sizes (a second export, batch only)."""
    import onnxruntime as ort

    import segkit.apis.export

    exports = []
    export = segkit.apis.export._export
    monkeypatch.setattr(segkit.apis.export, '_export',
                        lambda *args: exports.append(args[-1]) or export(*args))
    fcn = export_onnx(randomised_segmentor('fcn_dense-r18_sample-128x128'), tmp_path / 'fcn.onnx',
                      (128, 128), dynamic=True)
    assert fcn['dynamic'] == ['batch', 'height', 'width']
    session = ort.InferenceSession(str(tmp_path / 'fcn.onnx'))
    out = session.run(None, {'image': np.random.rand(3, 3, 96, 160).astype(np.float32) * 255})
    assert out[0].shape == (3, 7, 96, 160)
    uper = export_onnx(randomised_segmentor('upernet_convnext-c16-dcls_sample-128x128'),
                       tmp_path / 'uper.onnx', (128, 128), dynamic=True)
    assert uper['dynamic'] == ['batch'] and uper['random_max_rel_diff'] < 1e-4
    assert exports == [('batch', 'height', 'width'), ('batch',)]
    model = randomised_segmentor('fcn_r18_sample-128x128')
    model.backbone.layer4.append(_FunctionalPyramid())
    hidden = export_onnx(model, tmp_path / 'hidden.onnx', (64, 64), dynamic=True)
    assert hidden['dynamic'] == ['batch'] and hidden['random_max_rel_diff'] < 1e-4
    assert exports[2:] == [('batch', 'height', 'width'), ('batch',)]


class _Unexportable(torch.nn.Module):
    """Reads raw memory, as a kernel called through ctypes does: torch.export
    cannot trace it, and the TorchScript exporter would bake its result
    (computed out of the tracer's sight) in as a constant."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.data_ptr() != 0
        return x * float(x.detach().abs().max())  # a Python number to a tracer


def test_an_unexportable_layer_is_named(tmp_path: Path) -> None:
    model = randomised_segmentor('fcn_r18_sample-128x128')
    model.backbone.layer2[0].relu = _Unexportable()
    with pytest.raises(ExportError, match=r'ONNX export failed at layer '
                                          r'backbone\.layer2\.0\.relu \(_Unexportable\)'):
        export_onnx(model, tmp_path / 'model.onnx', (128, 128))
    assert not (tmp_path / 'model.onnx').exists()


def test_export_tool_and_inference_through_onnxruntime(sample_root: Path,
                                                       tmp_path: Path) -> None:
    config = SAMPLE_CONFIG.parent / 'upernet_internimage-c16_sample-128x128.py'
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': randomised_segmentor(config.stem).state_dict()}, checkpoint)
    onnx_file = tmp_path / 'model.onnx'
    result = run_tool_in_process('tools/export.py', config, checkpoint, '--out', onnx_file)
    assert 'largest difference to PyTorch' in result.stdout
    images = sample_root / 'ade' / 'images' / 'validation'
    run_tool_in_process('tools/infer.py', config, checkpoint, images, '--out', tmp_path / 'pt')
    run_tool_in_process('tools/infer.py', config, onnx_file, images, '--out', tmp_path / 'ort',
                        '--backend', 'onnxruntime')
    from PIL import Image

    labels = sorted((tmp_path / 'pt' / 'labels').glob('*.png'))
    assert len(labels) == 6
    differing = total = 0
    for path in labels:
        a = np.array(Image.open(path))
        b = np.array(Image.open(tmp_path / 'ort' / 'labels' / path.name))
        differing, total = differing + int((a != b).sum()), total + a.size
    assert differing <= 0.001 * total
    summary = json.loads((tmp_path / 'ort' / 'summary.json').read_text())
    assert summary['processed'] == 6 and not summary['failed']


def test_the_onnx_segmentor_answers_as_the_pytorch_one(tmp_path: Path, monkeypatch) -> None:
    """Both are Segmentors; test_step gives SegDataSamples with the same
    fields, shapes and (to export precision) values, at the original size.
    (And the export writes its file once.)"""
    from mmseg.structures import SegDataSample

    import segkit.apis.export
    from segkit.apis.export import OnnxSegmentor
    from segkit.evaluation import Segmentor
    from segkit.evaluation.predict import test_pipeline

    writes = []
    write = segkit.apis.export.atomic_write_bytes
    monkeypatch.setattr(segkit.apis.export, 'atomic_write_bytes',
                        lambda path, data: writes.append(path) or write(path, data))
    model = randomised_segmentor('fcn_r18_sample-128x128')
    # spatially dynamic: the graph runs at the pipeline's working size, as PyTorch
    assert export_onnx(model, tmp_path / 'model.onnx', (64, 64), dynamic=True)['dynamic'] == [
        'batch', 'height', 'width']
    assert writes == [tmp_path / 'model.onnx']
    onnx_model = OnnxSegmentor(tmp_path / 'model.onnx', model.cfg)
    assert isinstance(model, Segmentor) and isinstance(onnx_model, Segmentor)
    assert onnx_model.dataset_meta['classes'] == tuple(model.dataset_meta['classes'])
    image = np.random.default_rng(0).integers(0, 256, (80, 96, 3), dtype=np.uint8)
    pipeline = test_pipeline(model)

    def batch(ori_shape: tuple[int, int] | None = None) -> dict:
        item = pipeline(dict(img=image))
        if ori_shape is not None:  # as predict_logits does: the working size
            item['data_samples'].set_metainfo(dict(ori_shape=ori_shape))
        return dict(inputs=[item['inputs']], data_samples=[item['data_samples']])

    for ori_shape in (None, (64, 64)):
        with torch.no_grad():
            (ref,) = model.test_step(batch(ori_shape))
        (got,) = onnx_model.test_step(batch(ori_shape))
        assert type(got) is type(ref) is SegDataSample
        assert set(got.keys()) == set(ref.keys()) >= {'seg_logits', 'pred_sem_seg'}
        assert set(got.metainfo_keys()) == set(ref.metainfo_keys())
        for field in ('seg_logits', 'pred_sem_seg'):
            assert got.get(field).shape == ref.get(field).shape, (field, ori_shape)
            assert got.get(field).data.dtype == ref.get(field).data.dtype, field
        torch.testing.assert_close(got.seg_logits.data, ref.seg_logits.data, rtol=1e-4,
                                   atol=1e-4 * float(ref.seg_logits.data.abs().max()))
        same = (got.pred_sem_seg.data == ref.pred_sem_seg.data).float().mean()
        assert same > 0.999, (ori_shape, same)
