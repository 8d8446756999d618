"""The corruption report from known results: its tables, CSV, JSON and plots."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from segkit.evaluation.corruption_benchmark import CorruptionResult, write_corruption_report
from tests.helpers import markdown_rows

RESULTS = {'a': CorruptionResult(60.0, {'fog': {1: 50.0, 3: 40.123}, 'snow': {1: 30.0, 3: 20.0}},
                                 {'perturbing': 1.5}),
           'bb': CorruptionResult(58.0, {'fog': {1: 45.0, 3: 33.3}, 'snow': {1: 31.0, 3: 25.0}})}


@pytest.mark.parametrize('baseline', [None, 'a'])
def test_report_files(baseline: str | None, tmp_path: Path) -> None:
    text = write_corruption_report(RESULTS, tmp_path, baseline)
    summary = markdown_rows(text)
    # mRR of a: (45.06 / 60 + 25 / 60) / 2 = 58.4 %; mCE of bb against a: fog
    # (55 + 66.7) / (50 + 59.877) = 110.8 %, snow (69 + 75) / (70 + 80) = 96.0 %
    assert summary[1] == ['a', '60.00', '35.03', '58.4'] + (['100.0', '100.0'] if baseline
                                                            else [])
    assert summary[2][:4] == ['bb', '58.00', '33.58', '57.9']
    md = (tmp_path / 'corruptions.md').read_text()
    assert md.startswith(text) and ('mCE against a.' if baseline else 'No baseline') in md
    detail = markdown_rows(md)[len(summary):]
    assert detail[0] == ['model', 'corruption', 'severity 1', 'severity 3', 'mean', 'RR (%)'] + (
        ['CE (%)'] if baseline else [])
    assert detail[4] == ['bb', 'snow', '31.00', '25.00', '28.00', '48.3'] + (
        ['96.0'] if baseline else [])
    rows = list(csv.DictReader((tmp_path / 'corruptions.csv').open()))
    assert [(r['model'], r['corruption'], r['severity']) for r in rows[:5]] == [
        ('a', 'fog', '1'), ('a', 'fog', '3'), ('a', 'snow', '1'), ('a', 'snow', '3'),
        ('a', 'clean', '0')]
    assert len(rows) == 10 and float(rows[1]['mIoU']) == 40.123
    data = json.loads((tmp_path / 'corruptions.json').read_text())
    assert data['baseline'] == baseline and data['severities'] == [1, 3]
    assert data['results']['a']['table']['fog'] == {'1': 50.0, '3': 40.123}
    assert data['results']['a']['seconds'] == {'perturbing': 1.5}
    assert ('mCE' in data['summary']['bb']) == bool(baseline)
    for picture in ('corruptions.png', 'corruption_summary.png'):
        assert (tmp_path / picture).read_bytes()[:4] == b'\x89PNG'
