"""The occlusion study: its summary by hand, and tools/robustness.py end to end."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from segkit.evaluation.occlusion_benchmark import SeverityResult, evaluate_robustness, summarise
from tests.helpers import SAMPLE_CONFIG, markdown_rows, run_tool_in_process
from tests.test_tools.test_infer import checkpoint  # noqa: F401  (fixture)


def test_summary_is_the_mean_over_occluded_severities() -> None:
    results = [SeverityResult(0, 0.0, 50.0, math.nan, 50.0),
               SeverityResult(20, 19.5, 40.0, 10.0, 45.0),
               SeverityResult(40, 40.5, 30.0, 5.0, 40.0)]
    assert summarise(results) == dict(clean_mIoU=50.0, mean_occluded_mIoU=35.0,
                                      ratio_to_clean=0.7)
    assert math.isnan(summarise(results[1:])['ratio_to_clean'])  # no clean severity


def test_unknown_occluder_is_refused() -> None:
    with pytest.raises(ValueError, match="occluder must be one of .*got 'circles'"):
        evaluate_robustness(None, occluder='circles')


@pytest.mark.slow
def test_robustness_tool(checkpoint: Path, sample_root: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / 'rob'
    # the tool reads the dataset from the config: point it at the small sample
    config = tmp_path / 'config.py'
    config.write_text(f"_base_ = '{SAMPLE_CONFIG}'\n"
                      f"test_dataloader = dict(dataset=dict(data_root='{sample_root / 'ade'}'))\n")
    result = run_tool_in_process(
        'tools/robustness.py', config, checkpoint, '--out', out,
        '--severities', '0', '20', '40', '--fill', 'noise', '--max-images', '3')
    assert 'ratio' in result.stdout
    data = json.loads((out / 'robustness.json').read_text())
    assert [r['severity'] for r in data['results']] == [0, 20, 40]
    assert all(abs(r['coverage'] - r['severity']) <= 2 for r in data['results'])
    summary = data['summary']['config']
    assert summary['clean_mIoU'] == data['results'][0]['mIoU']
    lo, hi = summary['significance']['clean_mIoU_ci95']  # over the 3 images
    assert lo <= summary['clean_mIoU'] <= hi
    assert (out / 'per_image_stats' / 'config.npz').is_file()
    rows = list(csv.DictReader((out / 'robustness.csv').open()))
    assert len(rows) == 3 and rows[1]['severity'] == '20.0'
    assert (out / 'robustness.png').read_bytes()[:4] == b'\x89PNG'
    assert ['config', '40'] in [row[:2] for row in markdown_rows(
        (out / 'robustness.md').read_text())]
