"""segkit as a package: the wheel that ``pip wheel .`` builds installs into a
fresh virtualenv holding only torch and torchvision, where the README's
plain-PyTorch examples run; with the extras added, ``segkit infer``
finds a shipped config by name from outside the checkout. Also: a config that
still names the old ``custom_imports=['segkit']`` works."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from tests.helpers import REPO

HEAVY = ('mmseg', 'mmengine', 'mmcv', 'cv2', 'albumentations', 'matplotlib')


def _run(*cmd: str | Path, cwd: Path, timeout: float = 900) -> str:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f'{cmd}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}'
    return result.stdout


def _closure(requirements: list[str]) -> dict:
    """The distributions installed here that ``requirements`` need at run time
    (their dependencies too, with the extras named; markers evaluated)."""
    import importlib.metadata as metadata

    from packaging.requirements import Requirement

    found: dict = {}
    seen = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = re.sub(r'[-_.]+', '-', req.name).lower()
        if (key, *sorted(req.extras)) in seen:
            continue
        seen.add((key, *sorted(req.extras)))
        dist = found.setdefault(key, metadata.distribution(req.name))
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({'extra': e})
                                         for e in ('', *req.extras)):
                todo.append(sub)
    return found


def _link_distributions(dists: dict, into: Path) -> None:
    """Symlinks in ``into`` to what ``dists`` installed here (packages,
    modules, shared libraries and their ``*.dist-info``), so that a virtualenv
    with ``into`` on its path (a .pth file) has them installed: pip sees
    them and installs nothing for them, without copying gigabytes of torch."""
    into.mkdir(parents=True, exist_ok=True)
    for dist in dists.values():
        site = Path(dist.locate_file(''))
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {'..', '__pycache__'}:
            if top.endswith('.pth') or (into / top).exists():
                continue
            (into / top).symlink_to(site / top)


def readme_examples(section: str = '## Use the operators in plain PyTorch') -> list[str]:
    """The ```python blocks of one README section."""
    text = (REPO / 'README.md').read_text()
    body = text[text.index(section):]
    body = body[:body.index('\n## ', len(section))]
    return re.findall(r'```python\n(.*?)```', body, re.S)


def test_readme_has_operator_examples() -> None:
    examples = readme_examples()
    assert len(examples) >= 4
    # one example per operator
    code = '\n'.join(examples)
    for name in ('densify(', 'Dcls2d(', 'ShapedConv2d(', 'DeformConv2d(', 'DCNv3(', 'DCNv4(',
                 'ModulatedDeformConv2dPack(', 'MultiScaleDeformableAttention('):
        assert code.count(f' {name}') == 1, name


@pytest.mark.slow
def test_wheel_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    dist, venv, outside = tmp_path / 'dist', tmp_path / 'venv', tmp_path / 'elsewhere'
    outside.mkdir()
    # build from a copy of what git would commit: no stale build/ output, no
    # ignored files, as a fresh clone would
    source = tmp_path / 'source'
    files = _run('git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard',
                 cwd=REPO).split('\0')
    for name in filter(None, files):
        if (REPO / name).exists() or (REPO / name).is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name, follow_symlinks=False)
    _run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
         '-w', dist, source, cwd=tmp_path)
    (wheel,) = dist.glob('segkit-*.whl')
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ('segkit/ops/csrc/deform_sampling_cpu.cpp',
                   'segkit/configs/_base_/default_runtime.py',
                   'segkit/configs/sample/fcn_r18_sample-128x128.py', 'segkit/cli/__init__.py'):
        assert needed in names, needed
    assert not any(n.startswith('tests/') for n in names)
    assert 'segkit = segkit.cli:main' in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith('entry_points.txt'))).decode()

    # a fresh virtualenv (not this one) with only torch and torchvision, then the wheel
    base = subprocess.run([sys.executable, '-c', 'import sys; print(sys.base_prefix)'],
                          capture_output=True, text=True).stdout.strip()
    # pip from here installs into it (--python): a venv's own pip is a copy
    # of the same pip, and bootstrapping it (ensurepip) took 7.5 s
    _run(Path(base) / 'bin' / 'python3', '-m', 'venv', '--without-pip', venv, cwd=tmp_path)
    python = venv / 'bin' / 'python'
    pip = [sys.executable, '-m', 'pip', '--python', python, 'install', '-q',
           '--disable-pip-version-check', '-c', REPO / 'constraints.txt']
    # torch, torchvision and numpy (and what they need) as installed here:
    # linked, not installed again (a download and 4 minutes)
    site = next((venv / 'lib').glob('python*/site-packages'))
    _link_distributions(_closure(['torch', 'torchvision', 'numpy']), tmp_path / 'torch_only')
    (site / 'torch_only.pth').write_text(f"{tmp_path / 'torch_only'}\n")
    _run(*pip, wheel, cwd=tmp_path)
    assert not (site / 'torch').exists() and not (site / 'numpy').exists(), \
        'pip installed torch/numpy again instead of taking the linked ones'
    installed = _run(sys.executable, '-m', 'pip', '--python', python, 'list',
                     '--format=freeze', cwd=tmp_path).lower()
    assert not any(f'\n{h}' in f'\n{installed}' for h in ('mmsegmentation', 'mmengine',
                                                              'mmcv', 'opencv', 'albumentations'))
    # the examples one after the other in one process (one start-up of torch,
    # not one each), each in its own namespace; the modules loaded are checked
    # after each, so the example that pulls in a heavy one is named
    examples = readme_examples()
    for index, example in enumerate(examples):
        (outside / f'example_{index}.py').write_text(example)
    runner = outside / 'run_examples.py'
    runner.write_text(
        'import runpy, sys\n'
        f'for index in range({len(examples)}):\n'
        "    runpy.run_path(f'example_{index}.py', run_name='__main__')\n"
        "    heavy = sorted({m.split('.')[0] for m in sys.modules} & set("
        f'{HEAVY!r}))\n'
        "    assert not heavy, (f'example_{index}', heavy)\n"
        "    print('ran', f'example_{index}')\n")
    assert _run(python, runner, cwd=outside).count('ran example_') == len(examples)

    # their run-time dependencies linked as well (segkit itself excluded)
    extras = _closure(['segkit[all]'])
    extras.pop('segkit')
    _link_distributions(extras, tmp_path / 'extras')
    (site / 'extras.pth').write_text(f"{tmp_path / 'extras'}\n")
    _run(*pip, f'segkit[all] @ {wheel.as_uri()}', cwd=tmp_path)
    assert not (site / 'mmseg').exists() and not (site / 'cv2').exists()
    segkit = venv / 'bin' / 'segkit'
    assert 'sample/fcn_r18_sample-128x128' in _run(segkit, 'configs', 'sample', cwd=outside)
    _run(segkit, 'make-sample-data', '--out', 'data/sample', '--num-train', '4', '--num-val', '3',
         cwd=outside)
    from segkit.apis.inference import load_segmentor  # here: one interpreter start less

    torch.save({'state_dict': load_segmentor('fcn_r18_sample-128x128').state_dict()},
               outside / 'random.pth')
    out = _run(segkit, 'infer', 'fcn_r18_sample-128x128', 'random.pth',
               'data/sample/ade/images/validation', '--out', 'segmented', cwd=outside)
    assert 'segmented 3 images' in out
    assert len(list((outside / 'segmented' / 'labels').glob('*.png'))) == 3


@pytest.mark.slow
def test_old_custom_imports_name_still_works(tmp_path: Path) -> None:
    """Configs written before segkit.mmseg existed name 'segkit'."""
    config = tmp_path / 'old.py'
    config.write_text(
        "custom_imports = dict(imports=['segkit'], allow_failed_imports=False)\n"
        "model = dict(type='EncoderDecoder', backbone=dict(type='InternImage', arch=dict(\n"
        "    channels=8, depths=[1, 1, 1, 1], groups=[1, 2, 4, 8])),\n"
        "    decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=8,\n"
        "                     num_classes=3))\n")
    script = ('import sys\nfrom mmengine.config import Config\nfrom mmengine.registry import '
              'init_default_scope\nfrom mmseg.registry import MODELS\n'
              f'cfg = Config.fromfile({str(config)!r})\ninit_default_scope("mmseg")\n'
              'model = MODELS.build(cfg.model)\nprint(type(model.backbone).__name__)\n')
    assert _run(sys.executable, '-c', script, cwd=tmp_path).strip().endswith('InternImage')
