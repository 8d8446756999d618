"""Markdown tables, the one way segkit's reports write them (prettytable's Markdown style).

    >>> print(markdown_table(['model', 'mIoU'], [['a', '41.20'], ['bb', '7.00']]))
    | model |  mIoU |
    | :-----|-----: |
    | a     | 41.20 |
    | bb    |  7.00 |
"""
from __future__ import annotations

from typing import Iterable, Sequence

__all__ = ['markdown_table']


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]],
                   align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table, without a trailing newline.

    Cells are written as ``str(cell)``: format numbers before (so a report
    decides its own precision).

    Args:
        headers: Column titles, unique.
        rows: One sequence of cells per row, as long as ``headers``.
        align: One letter per column, ``'l'`` (left) or ``'r'`` (right); one
            letter applies to every column. Default: the first column left,
            the others right (a name, then numbers).

    Raises:
        ValueError: ``align`` or a row does not fit the headers.
    """
    from segkit.utils.optional import require

    prettytable = require('prettytable', 'mmseg')
    headers = [str(h) for h in headers]
    if align is None:
        align = 'l' + 'r' * (len(headers) - 1)
    elif len(align) == 1:
        align = align * len(headers)
    # NOTE: no centring: prettytable 3.18 writes a centred column of a table
    # without rows as ':' alone, which Markdown does not read as a delimiter
    if len(align) != len(headers) or set(align) - set('lr'):
        raise ValueError(f"align must be 'l' or 'r' per column ({len(headers)} columns), "
                         f'got {align!r}')
    table = prettytable.PrettyTable(headers)
    table.set_style(prettytable.TableStyle.MARKDOWN)
    for header, side in zip(headers, align):
        table.align[header] = side
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) != len(headers):
            raise ValueError(f'a row has {len(cells)} cells for {len(headers)} columns: {cells}')
        table.add_row(cells)
    return table.get_string()
