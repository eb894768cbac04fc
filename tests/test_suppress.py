"""Tests for disclosure control of small counts (consolidate.suppress)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.suppress import masked_text, suppress


def with_totals(inner: list[list[int]], *, total_row: bool, total_col: bool) -> list[list[int]]:
    table = [list(row) for row in inner]
    if total_col:
        table = [row + [sum(row)] for row in table]
    if total_row:
        table.append([sum(col) for col in zip(*table)])
    return table


def recoverable_lines(
    values: list[list[int]], mask: list[list[bool]], *, total_row: bool, total_col: bool
) -> list[str]:
    """Independent check: lines with a total where exactly one cell is masked."""
    bad: list[str] = []
    if total_col:
        for i, row in enumerate(mask):
            if sum(row) == 1:
                bad.append(f"row {i}")
    if total_row:
        for j in range(len(values[0])):
            if sum(mask[i][j] for i in range(len(values))) == 1:
                bad.append(f"column {j}")
    return bad


def masked_cells(mask: list[list[bool]]) -> list[tuple[int, int]]:
    return [(i, j) for i, row in enumerate(mask) for j, m in enumerate(row) if m]


def test_masked_text() -> None:
    assert masked_text() == "<5"
    assert masked_text(3) == "<3"


def test_one_column_distribution_with_summa() -> None:
    values = [[184], [3], [89], [0], [276]]
    mask = suppress(values, total_row=True, total_col=False)
    assert mask[1][0]  # the small count
    assert masked_cells(mask) == [(1, 0), (2, 0)]  # 89 is the smallest other non-zero cell
    assert not mask[3][0]  # zero stays visible
    assert not mask[4][0]  # the total stays visible
    assert recoverable_lines(values, mask, total_row=True, total_col=False) == []


def test_units_by_months_with_both_totals() -> None:
    inner = [
        [12, 3, 15, 20],  # unit A
        [8, 9, 11, 10],  # unit B
        [30, 25, 2, 28],  # unit C
    ]
    values = with_totals(inner, total_row=True, total_col=True)
    mask = suppress(values, total_row=True, total_col=True)
    assert mask[0][1] and mask[2][2]
    assert recoverable_lines(values, mask, total_row=True, total_col=True) == []
    # Totals are kept when inner cells can protect each other.
    assert not any(mask[-1]) and not any(row[-1] for row in mask)
    # Rows are settled before columns; each line takes its smallest inner cell.
    assert masked_cells(mask) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]


def test_small_total_is_masked_and_protected() -> None:
    values = with_totals([[1, 0], [0, 20]], total_row=True, total_col=True)
    mask = suppress(values, total_row=True, total_col=True)
    assert mask[0][0] and mask[0][2] and mask[2][0]  # 1 and the small totals 1, 1
    assert not mask[0][1] and not mask[1][0]  # zeros stay visible
    assert recoverable_lines(values, mask, total_row=True, total_col=True) == []


def test_no_small_numbers_masks_nothing() -> None:
    values = with_totals([[10, 0, 7], [0, 25, 5]], total_row=True, total_col=True)
    mask = suppress(values, total_row=True, total_col=True)
    assert not any(any(row) for row in mask)


def test_none_is_never_masked_and_no_total_no_secondary() -> None:
    mask = suppress([[3, None, 40], [None, 12, 9]], total_row=False, total_col=False)
    assert mask == [[True, False, False], [False, False, False]]


def test_deterministic_tie_break() -> None:
    values = [[2], [10], [10], [22]]
    mask = suppress(values, total_row=True, total_col=False)
    assert masked_cells(mask) == [(0, 0), (1, 0)]
    assert suppress(values, total_row=True, total_col=False) == mask


def test_custom_limit() -> None:
    values = [[3], [9], [12]]
    assert masked_cells(suppress(values, total_row=True, total_col=False, limit=3)) == []
    assert masked_cells(suppress(values, total_row=True, total_col=False, limit=4)) == [
        (0, 0),
        (1, 0),
    ]


def test_empty_and_invalid() -> None:
    assert suppress([], total_row=True, total_col=True) == []
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]], total_row=False, total_col=False)
    with pytest.raises(ValueError):
        suppress([[-1]], total_row=False, total_col=False)
    with pytest.raises(ValueError):
        suppress([[1]], total_row=False, total_col=False, limit=0)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[int]], bool, bool, int]:
    n_rows = draw(st.integers(1, 5))
    n_cols = draw(st.integers(1, 5))
    cell = st.one_of(st.integers(0, 6), st.integers(0, 60))
    row = st.lists(cell, min_size=n_cols, max_size=n_cols)
    inner = draw(st.lists(row, min_size=n_rows, max_size=n_rows))
    total_row = draw(st.booleans())
    total_col = draw(st.booleans())
    limit = draw(st.integers(1, 6))
    table = with_totals(inner, total_row=total_row, total_col=total_col)
    return table, total_row, total_col, limit


@settings(max_examples=500, deadline=None)
@given(tables())
def test_property_no_small_count_shown_or_recoverable(
    table: tuple[list[list[int]], bool, bool, int],
) -> None:
    values, total_row, total_col, limit = table
    mask = suppress(values, total_row=total_row, total_col=total_col, limit=limit)
    assert len(mask) == len(values)
    assert all(len(m) == len(v) for m, v in zip(mask, values))
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if 0 < v < limit:
                assert mask[i][j], f"primary cell ({i}, {j}) = {v} is shown"
            if v == 0:
                assert not mask[i][j], f"zero at ({i}, {j}) was masked"
    assert recoverable_lines(values, mask, total_row=total_row, total_col=total_col) == []
    assert suppress(values, total_row=total_row, total_col=total_col, limit=limit) == mask
