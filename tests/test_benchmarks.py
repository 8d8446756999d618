"""The benchmark scripts run (tiny sizes; no timing is asserted)."""
from __future__ import annotations

import pytest

from tests.helpers import run_tool

pytestmark = pytest.mark.slow  # tools and training end to end, in subprocesses


def test_equivalent_stride_benchmark_runs() -> None:
    result = run_tool('benchmarks/equivalent_stride.py', '--size', '64', '--repeats', '1')
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith('| ') and 'variant' not in line]
    assert len(rows) == 5
    assert any(line.startswith('shift-and-stitch / dense OS8:') for line in lines)
    for row in rows:
        seconds, ratio, megabytes = (float(v) for v in row.strip('|').split('|')[1:])
        assert seconds > 0 and ratio > 0 and megabytes >= 0


def test_dcls_and_dcnv3_benchmarks_run() -> None:
    result = run_tool('benchmarks/dcls.py', '--repeats', '1', '--batches', '1',
                      '--model-size', '64')
    assert 'train speed-up' in result.stdout and 'throughput at 64x64' in result.stdout
    result = run_tool('benchmarks/dcnv3.py', '--repeats', '1', '--scale', '0.125')
    assert result.stdout.count('\n| ') >= 5
