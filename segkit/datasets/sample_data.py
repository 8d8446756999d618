"""Deterministic synthetic scenes: segkit's embedded sample dataset.

Each scene is a stack of polygons drawn in order: a background "stuff" class,
a few stuff blobs, a few "things" and a few occluders. Stuff classes differ by
texture, so a small receptive field tells them apart. The three thing classes
(disc, box, triangle) share one texture and a random colour per instance: only
the outline separates them, so labelling the middle of a large disc needs
context well beyond a 7x7 window. Occluders are labelled 0 ("other"), which
ADE20K-style loading ignores (``reduce_zero_label``).

The same scenes are written in two real layouts:

* ADE20K: ``ade/images/{training,validation}/*.jpg`` and
  ``ade/annotations/{training,validation}/*.png`` (0 = other, classes 1..7);
* Cityscapes: ``cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png``
  and ``cityscapes/gtFine/{train,val}/<city>/*_gtFine_polygons.json`` plus
  ``*_gtFine_labelIds.png`` drawn from the polygons by ``cityscapesscripts``,
  so that the Cityscapes converter turns them into ``*_labelTrainIds.png``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from segkit.utils.io import atomic_save_dir
from segkit.utils.optional import require

__all__ = ['SAMPLE_CLASSES', 'SAMPLE_PALETTE', 'CITYSCAPES_NAMES', 'Scene',
           'make_scene', 'render_scene', 'make_sample_data']

GENERATOR_VERSION = 1

# Label 0 is "other" (occluders), as in ADE20K; classes are 1..7 on disk.
SAMPLE_CLASSES = ('ground', 'grass', 'water', 'brick', 'disc', 'box', 'triangle')
SAMPLE_PALETTE = [[140, 100, 60], [60, 160, 60], [50, 90, 200], [170, 60, 50],
                  [230, 200, 40], [200, 80, 220], [40, 210, 210]]
STUFF = (1, 2, 3, 4)
THINGS = (5, 6, 7)
OTHER = 0
# The Cityscapes label each sample class is written as (occluders: 'static',
# which Cityscapes ignores like ADE20K's "other").
CITYSCAPES_NAMES = {0: 'static', 1: 'road', 2: 'vegetation', 3: 'terrain',
                    4: 'building', 5: 'car', 6: 'truck', 7: 'person'}


@dataclass
class Shape:
    label: int
    polygon: np.ndarray  # (V, 2) float (x, y)
    color: tuple[float, float, float] | None = None  # things and occluders


@dataclass
class Scene:
    height: int
    width: int
    shapes: list[Shape]
    seed: int


def _star_polygon(rng: np.random.Generator, cx: float, cy: float, radius: float,
                  vertices: int, jitter: float) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = radius * (1 + rng.uniform(-jitter, jitter, vertices))
    return np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)


def _regular_polygon(cx: float, cy: float, radius: float, sides: int,
                     phase: float = 0.0, aspect: float = 1.0,
                     rotation: float = 0.0) -> np.ndarray:
    """A regular polygon, stretched by ``aspect`` along x, then rotated."""
    angles = phase + np.arange(sides) * 2 * np.pi / sides
    points = np.stack([radius * aspect * np.cos(angles), radius * np.sin(angles)], 1)
    return _rotate(points + [cx, cy], cx, cy, rotation)


def make_scene(seed: int, height: int = 128, width: int = 128) -> Scene:
    """Builds the polygon stack of one scene from a seed."""
    rng = np.random.default_rng(seed)
    size = min(height, width)
    shapes = [Shape(int(rng.choice(STUFF)),
                    np.array([[0, 0], [width, 0], [width, height], [0, height]], float))]
    for _ in range(rng.integers(2, 5)):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        shapes.append(Shape(int(rng.choice(STUFF)),
                            _star_polygon(rng, cx, cy, rng.uniform(0.2, 0.45) * size,
                                          int(rng.integers(8, 16)), 0.35)))
    for _ in range(rng.integers(2, 5)):
        label = int(rng.choice(THINGS))
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        radius = rng.uniform(0.08, 0.2) * size
        rotation = rng.uniform(0, 2 * np.pi)
        if label == 5:
            polygon = _regular_polygon(cx, cy, radius, 40)
        elif label == 6:  # a rectangle: a stretched square at any angle
            polygon = _regular_polygon(cx, cy, radius, 4, np.pi / 4,
                                       rng.uniform(0.7, 1.4), rotation)
        else:
            polygon = _regular_polygon(cx, cy, radius * 1.2, 3, rotation)
        color = tuple(float(v) for v in rng.uniform(40, 230, 3))
        shapes.append(Shape(label, polygon, color))
    for _ in range(rng.integers(0, 3)):
        # occluders: thin bars or small blobs of neutral grey
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        if rng.random() < 0.5:
            length, thick = rng.uniform(0.3, 0.8) * size, rng.uniform(3, 7)
            bar = np.array([[-length / 2, -thick / 2], [length / 2, -thick / 2],
                            [length / 2, thick / 2], [-length / 2, thick / 2]])
            polygon = _rotate(bar + [cx, cy], cx, cy, rng.uniform(0, np.pi))
        else:
            polygon = _star_polygon(rng, cx, cy, rng.uniform(0.04, 0.1) * size, 7, 0.3)
        grey = float(rng.uniform(90, 170))
        shapes.append(Shape(OTHER, polygon, (grey, grey, grey)))
    return Scene(height, width, shapes, seed)


def _rotate(points: np.ndarray, cx: float, cy: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    d = points - [cx, cy]
    return np.stack([cx + c * d[:, 0] - s * d[:, 1], cy + s * d[:, 0] + c * d[:, 1]], 1)


def _stuff_texture(label: int, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """RGB float texture of a stuff class, with per-image colour jitter."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.array(SAMPLE_PALETTE[label - 1], np.float32) + rng.normal(0, 18, 3)
    if label == 1:  # ground: blotchy low-frequency noise
        noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 4)
        pattern = 25 * noise / (noise.std() + 1e-6)
    elif label == 2:  # grass: vertical streaks
        streaks = cv2.blur(rng.normal(0, 1, (h, w)).astype(np.float32), (1, 7))
        pattern = 30 * streaks / (streaks.std() + 1e-6)
    elif label == 3:  # water: horizontal waves
        period = rng.uniform(5, 8)
        pattern = 28 * np.sin(2 * np.pi * (yy + 2 * np.sin(xx / 9)) / period
                              + rng.uniform(0, 2 * np.pi))
    else:  # brick: mortar lines, offset every other row
        bh, bw = 8, 16
        row = (yy // bh).astype(int)
        mortar = (yy % bh < 1.5) | (((xx + (row % 2) * bw / 2) % bw) < 1.5)
        pattern = np.where(mortar, 60.0, -10.0)
    return base[None, None, :] + pattern[..., None]


def _thing_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Shared thing texture: a dot lattice (identical for disc, box, triangle)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    step = 6
    dots = ((xx % step - step / 2) ** 2 + (yy % step - step / 2) ** 2) < 2.5
    return np.where(dots, -45.0, 15.0)[..., None].astype(np.float32)


def _draw(shapes: list[Shape], size: tuple[int, int], values: list[int]) -> np.ndarray:
    canvas = Image.new('L', (size[1], size[0]), 0)
    draw = ImageDraw.Draw(canvas)
    for shape, value in zip(shapes, values):
        draw.polygon([tuple(p) for p in shape.polygon.tolist()], fill=value)
    return np.asarray(canvas)


def render_scene(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Renders a scene to (BGR uint8 image, uint8 label map with 0 = other)."""
    h, w = scene.height, scene.width
    rng = np.random.default_rng([scene.seed, 1])
    # NOTE: PIL's polygon filling is what cityscapesscripts uses, so both
    # layouts rasterise the polygons identically.
    label = _draw(scene.shapes, (h, w), [s.label for s in scene.shapes])
    instance = _draw(scene.shapes, (h, w), list(range(1, len(scene.shapes) + 1)))
    image = np.zeros((h, w, 3), np.float32)
    textures = {c: _stuff_texture(c, rng, h, w) for c in STUFF}
    thing = _thing_texture(rng, h, w)
    grey_noise = rng.normal(0, 12, (h, w, 1)).astype(np.float32)
    for index, shape in enumerate(scene.shapes, start=1):
        mask = instance == index
        if not mask.any():
            continue
        if shape.label in STUFF:
            image[mask] = textures[shape.label][mask]
        elif shape.label in THINGS:
            image[mask] = (np.array(shape.color, np.float32) + thing)[mask]
        else:
            image[mask] = (np.array(shape.color, np.float32) + grey_noise)[mask]
    # global illumination gradient and sensor noise
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.3, 0.3, 2)
    image *= (1 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5))[..., None]
    image += rng.normal(0, 6, image.shape)
    image = cv2.GaussianBlur(np.clip(image, 0, 255), (3, 3), 0.6)
    return image.astype(np.uint8)[..., ::-1].copy(), label


def _cityscapes_json(scene: Scene) -> dict:
    return {'imgHeight': scene.height, 'imgWidth': scene.width,
            'objects': [{'label': CITYSCAPES_NAMES[s.label],
                         'polygon': np.round(s.polygon, 2).tolist()}
                        for s in scene.shapes]}


def _write_ade(root: Path, splits: dict[str, int], seed: int) -> None:
    for split_index, (split, count) in enumerate(splits.items()):
        (root / 'images' / split).mkdir(parents=True)
        (root / 'annotations' / split).mkdir(parents=True)
        for i in range(count):
            scene = make_scene(seed * 1_000_003 + split_index * 100_000 + i)
            image, label = render_scene(scene)
            name = f'sample_{split}_{i:05d}'
            cv2.imwrite(str(root / 'images' / split / f'{name}.jpg'), image,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            cv2.imwrite(str(root / 'annotations' / split / f'{name}.png'), label)


def _write_cityscapes(root: Path, splits: dict[str, list[str]], per_city: int,
                      seed: int) -> None:
    Annotation = require('cityscapesscripts.helpers.annotation', 'cityscapes').Annotation
    createLabelImage = require('cityscapesscripts.preparation.json2labelImg',
                               'cityscapes').createLabelImage

    for split_index, (split, cities) in enumerate(splits.items()):
        for city_index, city in enumerate(cities):
            img_dir = root / 'leftImg8bit' / split / city
            gt_dir = root / 'gtFine' / split / city
            img_dir.mkdir(parents=True)
            gt_dir.mkdir(parents=True)
            for i in range(per_city):
                scene = make_scene(seed * 7_000_003 + split_index * 100_000
                                   + city_index * 1_000 + i, height=128, width=256)
                image, _ = render_scene(scene)
                stem = f'{city}_{i:06d}_000019'
                cv2.imwrite(str(img_dir / f'{stem}_leftImg8bit.png'), image)
                json_path = gt_dir / f'{stem}_gtFine_polygons.json'
                json_path.write_text(json.dumps(_cityscapes_json(scene)))
                annotation = Annotation()
                annotation.fromJsonFile(str(json_path))
                createLabelImage(annotation, 'ids').save(
                    str(gt_dir / f'{stem}_gtFine_labelIds.png'))


def make_sample_data(out_dir: str | os.PathLike = 'data/sample', seed: int = 0,
                     num_train: int = 400, num_val: int = 100,
                     force: bool = False) -> Path:
    """Writes the sample datasets under ``out_dir`` (``ade/`` and ``cityscapes/``).

    The data is a pure function of ``seed`` and the counts. A finished dataset
    carries a stamp; calling again with the same arguments does nothing. The
    data is built in a temporary folder beside ``out_dir`` and moved in place
    at the end, so an interrupted run never leaves a partial dataset.

    Returns:
        The output folder.
    """
    out = Path(out_dir)
    stamp = {'generator_version': GENERATOR_VERSION, 'seed': seed,
             'num_train': num_train, 'num_val': num_val}
    stamp_file = out / 'sample_data.json'
    if not force and stamp_file.is_file():
        try:
            if json.loads(stamp_file.read_text()) == stamp:
                return out
        except ValueError:
            pass

    def write(tmp: Path) -> None:
        _write_ade(tmp / 'ade', {'training': num_train, 'validation': num_val}, seed)
        _write_cityscapes(tmp / 'cityscapes',
                          {'train': ['aachen', 'bremen'], 'val': ['frankfurt']},
                          per_city=max(2, num_val // 10), seed=seed)
        (tmp / 'sample_data.json').write_text(json.dumps(stamp))

    return atomic_save_dir(out, write)
