"""The benchmark scripts run (tiny sizes; no timing is asserted)."""
from __future__ import annotations

from tests.conftest import run_tool


def test_equivalent_stride_benchmark_runs() -> None:
    result = run_tool('benchmarks/equivalent_stride.py', '--size', '64', '--repeats', '1')
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith('| ') and 'variant' not in line]
    assert len(rows) == 5
    assert any(line.startswith('shift-and-stitch / dense OS8:') for line in lines)
    for row in rows:
        seconds, ratio, megabytes = (float(v) for v in row.strip('|').split('|')[1:])
        assert seconds > 0 and ratio > 0 and megabytes >= 0
