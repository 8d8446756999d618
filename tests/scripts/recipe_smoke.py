"""Every full config trains 2 iterations on the CPU and runs its test mode.

For each config under ``configs/`` (not ``_base_``, not ``sample``): training
through ``segkit.apis.runner.train`` (what ``segkit train`` calls) for 2
iterations at a 64x64 crop on the generated sample data in the config's own
dataset layout (ADE20K or Cityscapes), with validation at iteration 2, then
``segkit.apis.runner.test`` on the checkpoint, each in the config's own test
mode (whole image, or sliding 64x64 windows where the original slides, on
96-pixel images so that several windows run). Only what the 512-pixel
originals need to fit a small image changes: crop, resize scales, window
size, batch 2 (UPerNet's 1x1 pooled BatchNorm needs two samples), no
ImageNet file (``init_cfg=None``: nothing is downloaded).
Mixed-precision configs run as ``segkit train`` runs them on a CPU (one line
says how). Not part of ``make test`` (minutes); run by hand:

    python tests/scripts/recipe_smoke.py [CONFIG_SUBSTRING ...]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import segkit.mmseg  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402

from segkit.apis.runner import test, train  # noqa: E402
from segkit.datasets.cityscapes_converter import convert_cityscapes  # noqa: E402
from segkit.datasets.sample_data import make_sample_data  # noqa: E402
from tests.helpers import fresh_mmengine_instances  # noqa: E402

CROP, TEST_SIDE = (64, 64), 96


def options(cfg: Config, root: Path) -> dict:
    """The cfg-options that fit the config to the sample data and a small crop."""
    cityscapes = cfg.train_dataloader.dataset.type == 'CityscapesDataset'
    data_root = str(root / ('cityscapes' if cityscapes else 'ade'))
    opts: dict = {'model.data_preprocessor.size': CROP, 'train_cfg.max_iters': 2,
                  'train_cfg.val_interval': 2, 'default_hooks.checkpoint.interval': 2,
                  'default_hooks.logger.interval': 1, 'train_dataloader.batch_size': 2}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.update({f'{loader}.dataset.data_root': data_root, f'{loader}.num_workers': 0,
                     f'{loader}.persistent_workers': False,
                     f'{loader}.dataset.indices': 2 if loader == 'train_dataloader' else 1})
        for i, step in enumerate(cfg[loader].dataset.pipeline):
            key = f'{loader}.dataset.pipeline.{i}'
            if step.type == 'RandomResize':
                opts[f'{key}.scale'] = (4 * CROP[1], CROP[0])
            elif step.type == 'RandomChoiceResize':  # mmseg's Mask2Former recipes
                opts[f'{key}.scales'] = [CROP[0], 2 * CROP[0]]
            elif step.type == 'RandomCrop':
                opts[f'{key}.crop_size'] = CROP
            elif step.type == 'Resize':
                opts[f'{key}.scale'] = (4 * TEST_SIDE, TEST_SIDE)
    if cfg.model.test_cfg.get('mode') == 'slide':
        opts.update({'model.test_cfg.crop_size': CROP, 'model.test_cfg.stride': (43, 43)})
    key, backbone = 'model.backbone', cfg.model.backbone
    while backbone:  # wrappers (DenseBackbone, ShapedBackbone) hold the inner one
        if backbone.get('init_cfg'):
            opts[f'{key}.init_cfg'] = None
        key, backbone = f'{key}.backbone', backbone.get('backbone')
    return opts


def main() -> int:
    wanted = sys.argv[1:]
    configs = sorted(p for p in (REPO / 'configs').rglob('*.py')
                     if '_base_' not in p.parts and 'sample' not in p.parts
                     and (not wanted or any(w in str(p) for w in wanted)))
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        root = make_sample_data(Path(tmp) / 'sample', seed=3, num_train=4, num_val=2)
        convert_cityscapes(root / 'cityscapes')  # the train-id labels, as a user does
        for path in configs:
            name = path.stem
            start = time.perf_counter()
            try:
                cfg = Config.fromfile(str(path))
                opts = options(cfg, root)
                work_dir = Path(tmp) / name
                # each run with its own loggers and visualizer (mmengine's
                # named instances would keep writing into the first run's folder)
                with fresh_mmengine_instances():
                    train(str(path), work_dir=str(work_dir), cfg_options=opts)
                checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
                with fresh_mmengine_instances():
                    metrics = test(str(path), checkpoint, work_dir=str(work_dir / 'test'),
                                   cfg_options=opts)
                print(f'ok    {name}: {time.perf_counter() - start:.0f} s, test mode '
                      f"{cfg.model.test_cfg.get('mode')}, mIoU {metrics.get('mIoU')}",
                      flush=True)
            except Exception:  # noqa: BLE001  (report every config, then fail)
                failed.append(name)
                print(f'FAIL  {name}:\n{traceback.format_exc()}', flush=True)
            finally:  # a full model's checkpoints are ~1 GB: keep none, even if killed later
                shutil.rmtree(Path(tmp) / name, ignore_errors=True)
    print(f'{len(configs) - len(failed)} of {len(configs)} configs trained and tested'
          + (f'; failed: {", ".join(failed)}' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
