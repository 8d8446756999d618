"""The benchmark scripts run (tiny sizes; no timing is asserted)."""
from __future__ import annotations

import pytest

from tests.helpers import run_tool_in_process

pytestmark = pytest.mark.slow  # tools and training end to end


def test_equivalent_stride_benchmark_runs() -> None:
    result = run_tool_in_process(
        'benchmarks/equivalent_stride.py', '--size', '64', '--repeats', '1')
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith('| ') and 'variant' not in line]
    assert len(rows) == 5
    assert any(line.startswith('shift-and-stitch / dense OS8:') for line in lines)
    for row in rows:
        seconds, ratio, megabytes = (float(v) for v in row.strip('|').split('|')[1:])
        assert seconds > 0 and ratio > 0 and megabytes >= 0


def test_dcls_and_dcnv3_benchmarks_run() -> None:
    result = run_tool_in_process('benchmarks/dcls.py', '--repeats', '1', '--batches', '1',
                                 '--scale', '0.25', '--model-size', '64')
    assert 'train speed-up' in result.stdout and 'throughput at 64x64' in result.stdout
    result = run_tool_in_process('benchmarks/dcnv3.py', '--repeats', '1', '--scale', '0.125')
    assert result.stdout.count('\n| ') >= 5


def test_deformable_benchmark_runs() -> None:
    result = run_tool_in_process('benchmarks/deformable.py', '--repeats', '1', '--scale', '0.0625')
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')
            and line.split('|')[1].strip()[:1].isdigit()]
    assert len(rows) == 20  # 4 stages x (conv, DCNv2 x 3, DCNv3)
    assert all(float(row.split('|')[4].strip()[:-1]) > 0 for row in rows)
    models = [line for line in result.stdout.splitlines() if line.startswith('| UPerNet')]
    assert len(models) == 2 and models[0].split('|')[-2].strip() == '1.00x'


def test_shaped_conv_and_model_sizes_benchmarks_run() -> None:
    result = run_tool_in_process('benchmarks/shaped_conv.py', '--repeats', '1', '--scale', '0.1')
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ResNet')
            or line.startswith('| ConvNeXt')]
    assert len(rows) == 8
    assert {row.split('|')[4].strip() for row in rows[:4]} == {'0.778'}  # 7/9 of the weights
    assert 'worst training step ratio' in result.stdout
    result = run_tool_in_process('benchmarks/model_sizes.py',
                                 'configs/sample/upernet_convnext-c16-qh_sample-128x128.py',
                                 '--size', '64', '64')
    assert result.stdout.strip().splitlines()[-1].startswith(
        '| upernet_convnext-c16-qh_sample-128x128 |')


def test_export_benchmark_runs() -> None:
    result = run_tool_in_process(
        'benchmarks/export.py', '--configs', 'fcn_dense-r18_sample-128x128',
        '--sample-size', '64', '64', '--repeats', '1', '--compile-backend', 'aot_eager')
    rows = [line for line in result.stdout.splitlines()
            if line.startswith('| fcn_dense-r18_sample-128x128 |')]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip('|').split('|')]
    assert cells[1] == '64x64' and float(cells[2]) > 0
    assert all(c.endswith('x') and float(c[:-1]) > 0 for c in cells[3:6])
    diffs = [float(d) for d in cells[7].split(' / ')]
    assert diffs[0] < 1e-5 and diffs[1] < 1e-4 and diffs[2] < 0.05, diffs


def test_deformable_attention_and_mask2former_benchmarks_run() -> None:
    result = run_tool_in_process('benchmarks/deformable_attention.py', '--repeats', '1',
                                 '--scale', '0.125', '--no-first-calls')
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')
            and ('segkit' in line or 'mmcv' in line)]
    assert len(rows) == 4 and rows[0].split('|')[4].strip() == '1.00x'
    result = run_tool_in_process('benchmarks/mask2former.py', '--repeats', '1', '--batch', '1')
    assert 'training step' in result.stdout and 'matching' in result.stdout


def test_bootstrap_benchmark_runs() -> None:
    result = run_tool_in_process('benchmarks/bootstrap.py', '--images', '50', '--classes', '5',
                                 '--resamples', '100', '--models', '2', '--seeds', '2',
                                 '--repeats', '1')
    rows = [line for line in result.stdout.splitlines() if line.startswith('| ')][2:]
    assert len(rows) == 3 and all(float(row.split('|')[2]) >= 0 for row in rows)
