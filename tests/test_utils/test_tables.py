"""markdown_table: prettytable's Markdown, cells as given, alignment per column."""
from __future__ import annotations

import pytest

from segkit.utils.tables import markdown_table


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip('|').split('|')]


def test_cells_and_alignment() -> None:
    text = markdown_table(['model', 'corruption', 'mIoU'],
                          [['a', 'fog', '41.20'], ['model_b', 'snow', 'n/a']], align='llr')
    header, rule, *rows = text.splitlines()
    assert not text.endswith('\n')
    assert _cells(header) == ['model', 'corruption', 'mIoU']
    assert [_cells(row) for row in rows] == [['a', 'fog', '41.20'], ['model_b', 'snow', 'n/a']]
    rule_cells = _cells(rule)
    assert [c.startswith(':') for c in rule_cells] == [True, True, False]
    assert [c.endswith(':') for c in rule_cells] == [False, False, True]
    assert all('-' in c for c in rule_cells)
    assert all(len(line) == len(header) for line in text.splitlines())  # padded columns


def test_default_alignment_is_a_name_then_numbers() -> None:
    rule = markdown_table(['model', 'a', 'b'], [['x', 1, 2.5]]).splitlines()[1]
    assert [(c.startswith(':'), c.endswith(':')) for c in _cells(rule)] == [
        (True, False), (False, True), (False, True)]
    assert _cells(markdown_table(['model', 'a', 'b'], [['x', 1, 2.5]]).splitlines()[2]) == [
        'x', '1', '2.5']


def test_a_table_without_rows_is_still_markdown() -> None:
    assert [_cells(line) for line in markdown_table(['a', 'b'], []).splitlines()] == [
        ['a', 'b'], [':-', '-:']]


def test_bad_shapes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"align must be 'l' or 'r' per column \(2 columns\)"):
        markdown_table(['a', 'b'], [], align='lrr')
    with pytest.raises(ValueError, match="align must be"):
        markdown_table(['a', 'b'], [], align='c')
    with pytest.raises(ValueError, match='a row has 1 cells for 2 columns'):
        markdown_table(['a', 'b'], [['x']])
