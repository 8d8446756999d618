"""segkit robustness --corruptions, --occluder objects, make-corrupted-dataset and
compare --corruptions end to end on the sample data, with a briefly trained model."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.helpers import SAMPLE_CONFIG, markdown_rows, run_tool_in_process, sample_cfg_options

pytestmark = pytest.mark.slow  # tools end to end


@pytest.fixture(scope='module')
def trained(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(config pointing at the small sample, checkpoint after 30 iterations)."""
    work = tmp_path_factory.mktemp('trained')
    run_tool_in_process('tools/train.py', SAMPLE_CONFIG, '--work-dir', work, '--cfg-options',
                        *sample_cfg_options(sample_root, max_iters=30, interval=30))
    config = work / 'config.py'
    config.write_text(f"_base_ = '{SAMPLE_CONFIG}'\n"
                      f"test_dataloader = dict(dataset=dict(data_root='{sample_root / 'ade'}'))\n")
    return config, work / 'iter_30.pth'


def test_corruption_benchmark_tables_and_plots(trained: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    config, checkpoint = trained
    other = tmp_path / 'other.py'
    other.write_text(f"_base_ = '{config}'\n")
    out = tmp_path / 'c'
    args = [config, checkpoint, other, checkpoint, '--corruptions', 'fog', 'impulse_noise',
            '--severities', '1', '3', '--baseline', 'config', '--max-images', '4']
    result = run_tool_in_process('tools/robustness.py', *args, '--out', out, '--workers', '2')
    assert 'making corrupted images' in result.stdout and 'segmenting' in result.stdout
    data = json.loads((out / 'corruptions.json').read_text())
    assert data['corruptions'] == ['fog', 'impulse_noise'] and data['severities'] == [1, 3]
    summary = data['summary']
    assert summary['config']['mCE'] == pytest.approx(100.0)  # the baseline's own
    # the same checkpoint under another name: the same images, the same figures
    assert summary['other']['mCE'] == pytest.approx(100.0)
    assert summary['other']['mRR'] == pytest.approx(summary['config']['mRR'])
    # ... and paired differences of exactly 0, with [0, 0] intervals and p = 1
    other = summary['other']['significance']
    for figure in ('clean_mIoU', 'mRR', 'mCE'):
        assert other[f'delta_{figure}'] == 0 and other[f'delta_{figure}_ci95'] == [0, 0]
        assert other[f'{figure}_p_value'] == 1, figure
    lo, hi = summary['config']['significance']['mRR_ci95']
    assert lo <= summary['config']['mRR'] <= hi
    assert (out / 'corruption_forest.png').read_bytes()[:4] == b'\x89PNG'
    assert sorted(p.name for p in (out / 'per_image_stats').iterdir()) == ['config.npz',
                                                                          'other.npz']
    table = data['results']['config']['table']
    rr = sum(sum(per.values()) / 2 for per in table.values()) / 2 / data['results']['config'][
        'clean'] * 100
    assert summary['config']['mRR'] == pytest.approx(rr)
    rows = list(csv.DictReader((out / 'corruptions.csv').open()))
    assert len(rows) == 2 * (2 * 2 + 1)
    for picture in ('corruptions.png', 'corruption_summary.png'):
        assert (out / picture).read_bytes()[:4] == b'\x89PNG'
    assert ['config', 'fog'] in [row[:2] for row in markdown_rows(
        (out / 'corruptions.md').read_text())]
    # without workers: the same numbers (each image's seed is its own)
    again = tmp_path / 'c0'
    run_tool_in_process('tools/robustness.py', *args, '--out', again)
    redone = json.loads((again / 'corruptions.json').read_text())['results']
    for model in ('config', 'other'):
        assert redone[model]['table'] == data['results'][model]['table']


def test_bad_choices_are_one_line(trained: tuple[Path, Path], tmp_path: Path) -> None:
    config, checkpoint = trained
    cases = [(['--corruptions', 'rain'], "unknown corruption 'rain': choose 'all', 'benchmark'"),
             (['--corruptions', 'fog', '--severities', '6'],
              'corruption severities are integers from 1 to 5'),
             (['--corruptions', 'fog', '--baseline', 'nope'],
              "--baseline 'nope' is not one of the models: config")]
    for extra, message in cases:
        result = run_tool_in_process(
            'tools/robustness.py', config, checkpoint, *extra, '--out', tmp_path,
            check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and message in lines[0], lines


def test_corrupted_dataset_on_disk_gives_the_on_the_fly_miou(trained: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    config, checkpoint = trained
    out = tmp_path / 'disk'
    run_tool_in_process('tools/make_corrupted_dataset.py', config, '--out', out, '--corruptions',
                        'glass_blur', 'snow', '--severities', '2', '--workers', '2')
    root = out / 'ade-c'
    info = json.loads((root / 'dataset.json').read_text())
    assert info['images'] == 6 and info['written_now'] == 12
    images = sorted((root / 'snow' / '2' / 'images' / 'validation').glob('*.png'))
    labels = sorted((root / 'snow' / '2' / 'annotations' / 'validation').glob('*.png'))
    assert len(images) == len(labels) == 6
    # resumable: a second run writes nothing
    run_tool_in_process('tools/make_corrupted_dataset.py', config, '--out', out, '--corruptions',
                        'glass_blur', 'snow', '--severities', '2')
    assert json.loads((root / 'dataset.json').read_text())['written_now'] == 0
    on_the_fly = tmp_path / 'fly'
    run_tool_in_process(
        'tools/robustness.py', config, checkpoint, '--corruptions', 'glass_blur', 'snow',
        '--severities', '2', '--out', on_the_fly)
    table = json.loads((on_the_fly / 'corruptions.json').read_text())['results']['config'][
        'table']
    for name in ('glass_blur', 'snow'):
        metrics = tmp_path / f'{name}.json'
        run_tool_in_process('tools/test.py', config, checkpoint, '--work-dir', tmp_path / name,
                            '--metrics-json', metrics, '--cfg-options',
                            f'test_dataloader.dataset.data_root={root / name / "2"}',
                            'test_dataloader.dataset.img_suffix=.png')
        miou = json.loads(metrics.read_text())['metrics']['mIoU']
        assert miou == pytest.approx(table[name]['2'], abs=0.01), name


def test_object_occlusion_tool(trained: tuple[Path, Path], tmp_path: Path) -> None:
    config, checkpoint = trained
    out = tmp_path / 'objects'
    run_tool_in_process('tools/robustness.py', config, checkpoint, '--occluder', 'objects',
                        '--severities', '0', '30', '--out', out)
    data = json.loads((out / 'robustness.json').read_text())
    assert data['occluder'] == 'objects'
    zero, thirty = data['results']
    assert zero['coverage'] == 0 and 0 < thirty['coverage'] < 30  # objects are part of images
    assert thirty['mIoU_occluded'] == thirty['mIoU_occluded']  # measured (not NaN)
    assert '% of each object covered' in (out / 'robustness.md').read_text()


def test_compare_with_corruptions(trained: tuple[Path, Path], tmp_path: Path) -> None:
    config, checkpoint = trained
    out = tmp_path / 'cmp'
    result = run_tool_in_process('tools/compare.py', '--models', config, checkpoint, '--out', out,
                                 '--size', '64', '64', '--max-images', '2', '--repeats', '1',
                                 '--corruptions', 'contrast', '--corruption-severities', '2')
    header = markdown_rows(result.stdout)[0]
    assert header[header.index('mRR (%) [95 % CI]') + 1] == 'mCE (%) [95 % CI]'
    row = json.loads((out / 'comparison.json').read_text())[0]
    assert row['mCE'] == pytest.approx(100.0) and 0 < row['mRR']
    assert row['mCE_ci95'] == [100, 100]  # the baseline against itself, in every resample
