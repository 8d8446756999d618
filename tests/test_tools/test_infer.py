"""tools/infer.py and segkit.apis.inference: odd images, failures, TTA, sliding window."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from segkit.apis.inference import labels_at, load_segmentor, predict_logits, read_image
from tests.helpers import SAMPLE_CONFIG, run_tool_in_process


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random weights of the sample model, saved like tools/train.py saves them."""
    from mmengine.config import Config
    from mmseg.registry import MODELS

    from segkit.datasets import SAMPLE_CLASSES, SAMPLE_PALETTE

    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(SAMPLE_CONFIG)).model)
    path = tmp_path_factory.mktemp('ckpt') / 'model.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': SAMPLE_CLASSES,
                                          'palette': SAMPLE_PALETTE}}}, path)
    return path


def _odd_images(root: Path) -> dict[str, tuple[int, int] | None]:
    """Writes one file per odd kind; returns name -> expected (h, w) or None (unreadable)."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    expected: dict[str, tuple[int, int] | None] = {}

    def save(name: str, image: Image.Image, size: tuple[int, int] | None, **kw) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, **kw)
        expected[name] = size

    save('gray.png', Image.fromarray(rgb[..., 0]), (40, 60))
    save('rgba.png', Image.fromarray(np.dstack([rgb, rgb[..., :1]])), (40, 60))
    save('palette.png', Image.fromarray(rgb).convert('P'), (40, 60))
    save('deep16.png', Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)), (40, 60))
    save('cmyk.jpg', Image.fromarray(rgb).convert('CMYK'), (40, 60))
    save('one_pixel.png', Image.fromarray(rgb[:1, :1]), (1, 1))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: the upright image is 60 x 40
    save('rotated.jpg', Image.fromarray(rgb), (60, 40), exif=exif)
    save('nested/dir with space/ünï côdé.JPG', Image.fromarray(rgb), (40, 60))
    (root / 'linked.png').symlink_to(root / 'gray.png')
    expected['linked.png'] = (40, 60)
    (root / 'linked').symlink_to(root / 'nested', target_is_directory=True)  # seen once
    (root / 'nested' / 'loop').symlink_to(root, target_is_directory=True)  # a link loop
    external = root.parent / f'{root.name}_external'  # a linked folder outside the input
    external.mkdir()
    (external / 'real.png').write_bytes((root / 'gray.png').read_bytes())
    (root / 'outside').symlink_to(external, target_is_directory=True)
    expected['outside/real.png'] = (40, 60)
    (root / 'empty.jpg').write_bytes(b'')
    expected['empty.jpg'] = None
    (root / 'not_an_image.png').write_text('hello')
    expected['not_an_image.png'] = None
    good = root / 'gray.png'
    (root / 'truncated.png').write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expected['truncated.png'] = None
    jpeg = root / 'cmyk.jpg'
    (root / 'truncated.jpg').write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    expected['truncated.jpg'] = None
    return expected


def test_read_image_kinds(tmp_path: Path) -> None:
    expected = _odd_images(tmp_path)
    for name, size in expected.items():
        if size is None:
            with pytest.raises(ValueError):
                read_image(tmp_path / name)
        else:
            image = read_image(tmp_path / name)
            assert image.shape == (*size, 3) and image.dtype == np.uint8, name
    deep = read_image(tmp_path / 'deep16.png')[..., 0].astype(int)
    plain = read_image(tmp_path / 'gray.png')[..., 0].astype(int)
    assert np.abs(deep - plain).max() <= 1  # 16-bit scaled back to 8 bits


@pytest.mark.slow
def test_infer_tool_end_to_end(checkpoint: Path, tmp_path: Path) -> None:
    images = tmp_path / 'images'
    expected = _odd_images(images)
    out = tmp_path / 'out'
    result = run_tool_in_process('tools/infer.py', SAMPLE_CONFIG, checkpoint, images, '--out', out,
                                 '--batch-size', '2', '--show-dir', tmp_path / 'show', check=False)
    assert result.returncode == 1, result.stderr  # some files failed
    summary = json.loads((out / 'summary.json').read_text())
    failed = {Path(p).name for p in summary['failed']}
    assert failed == {n for n, s in expected.items() if s is None}
    for name, size in expected.items():
        label = out / 'labels' / Path(name).with_suffix('.png')
        if size is None:
            assert not label.exists()
            continue
        labels = np.asarray(Image.open(label))
        assert labels.shape == size and labels.max() < 7, name
        assert (out / 'overlays' / Path(name).with_suffix('.jpg')).is_file()
        assert (tmp_path / 'show' / Path(name).with_suffix('.jpg')).is_file()
    assert not (out / 'labels' / 'linked').exists()  # the same folder as nested/
    assert 'segmented 10 images' in result.stdout and '4 failed' in result.stdout
    assert result.stderr.count('failed: ') == 4
    assert not any(p.name.endswith('.tmp') for p in out.rglob('*'))


@pytest.mark.slow
def test_infer_list_file_and_clean_exit(checkpoint: Path, sample_root: Path,
                                        tmp_path: Path) -> None:
    ade = sample_root / 'ade' / 'images' / 'validation'
    listing = tmp_path / 'list.txt'
    names = sorted(p.name for p in ade.glob('*.jpg'))[:3]
    listing.write_text(''.join(f'{ade / n}\n' for n in names))
    out = tmp_path / 'out'
    result = run_tool_in_process('tools/infer.py', SAMPLE_CONFIG, checkpoint, listing, '--out', out,
                                 '--flip')
    assert result.returncode == 0
    assert sorted(p.name for p in (out / 'labels').glob('*.png')) == [
        n.replace('.jpg', '.png') for n in names]


@pytest.mark.slow
def test_sliding_window_equals_whole_when_one_window_covers(checkpoint: Path) -> None:
    image = np.random.default_rng(1).integers(0, 255, (96, 112, 3), dtype=np.uint8)
    whole = load_segmentor(SAMPLE_CONFIG, checkpoint)
    slide = load_segmentor(SAMPLE_CONFIG, checkpoint, cfg_options={
        'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': (256, 256),
        'model.test_cfg.stride': (170, 170)})
    a, b = predict_logits(whole, [image])[0], predict_logits(slide, [image])[0]
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # and a real sliding window covers the image with the right shape
    small = load_segmentor(SAMPLE_CONFIG, checkpoint, cfg_options={
        'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': (64, 64),
        'model.test_cfg.stride': (48, 48)})
    probs = predict_logits(small, [image])[0]
    assert probs.shape == (7, 110, 128)  # the pipeline's working size (scale 128)
    assert labels_at(probs, (96, 112)).shape == (96, 112)


def test_one_channel_sigmoid_head_labels_as_mmseg() -> None:
    """A binary model with one output channel (use_sigmoid, mmseg's
    threshold rule): the labels equal mmseg's own pred_sem_seg. Before, the
    sigmoid mmseg had applied was applied again and the argmax of one
    channel made every pixel background."""
    image = np.random.default_rng(2).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    options = {'model.decode_head.num_classes': 2, 'model.decode_head.out_channels': 1,
               'model.decode_head.loss_decode.use_sigmoid': True}
    model = load_segmentor(SAMPLE_CONFIG, cfg_options=options)
    from segkit.evaluation.predict import test_pipeline

    item = test_pipeline(model)(dict(img=image))
    with torch.no_grad():
        (result,) = model.test_step(dict(inputs=[item['inputs']],
                                         data_samples=[item['data_samples']]))
    p = result.seg_logits.data[0]
    model.decode_head.threshold = float(p.median())  # both classes present
    expected = (p > model.decode_head.threshold).numpy()
    assert 0.2 < expected.mean() < 0.8
    labels = labels_at(predict_logits(model, [image])[0], (128, 128))
    np.testing.assert_array_equal(labels, expected)


def test_labels_at_equals_full_upsampling_in_strips() -> None:
    probs = torch.rand(5, 37, 53)
    full = torch.nn.functional.interpolate(probs[None], size=(300, 410), mode='bilinear',
                                           align_corners=False)[0].argmax(0).numpy()
    strips = labels_at(probs, (300, 410), rows=64)
    assert (strips == full).mean() > 0.999  # ties aside, the same label map
    assert labels_at(probs, (37, 53)).shape == (37, 53)


@pytest.mark.slow
def test_huge_image_memory_stays_bounded(checkpoint: Path, tmp_path: Path) -> None:
    """A 6000x4000 image: labels written at full size, logits kept at working size."""
    import cv2

    big = tmp_path / 'in' / 'big.jpg'
    big.parent.mkdir()
    cv2.imwrite(str(big), np.random.default_rng(0).integers(0, 255, (4000, 6000, 3),
                                                             dtype=np.uint8))
    model = load_segmentor(SAMPLE_CONFIG, checkpoint)
    probs = predict_logits(model, [read_image(big)])[0]
    assert probs.shape[-2:] == (85, 128)  # bounded by the pipeline's scale
    result = run_tool_in_process('tools/infer.py', SAMPLE_CONFIG, checkpoint, big.parent,
                                 '--out', tmp_path / 'out')
    labels = np.asarray(Image.open(tmp_path / 'out' / 'labels' / 'big.png'))
    assert labels.shape == (4000, 6000) and 'segmented 1 images' in result.stdout


@pytest.mark.slow
def test_flip_and_scales_average(checkpoint: Path) -> None:
    model = load_segmentor(SAMPLE_CONFIG, checkpoint)
    image = np.random.default_rng(2).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    plain = predict_logits(model, [image])[0]
    mirrored = predict_logits(model, [np.ascontiguousarray(image[:, ::-1])])[0].flip(-1)
    torch.testing.assert_close(predict_logits(model, [image], flip=True)[0],
                               (plain + mirrored) / 2)
    multi = predict_logits(model, [image], scales=(0.5, 1.0))[0]
    assert multi.shape == plain.shape and not torch.allclose(multi, plain)
