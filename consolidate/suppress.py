"""Disclosure control for small counts: primary and secondary suppression of table cells."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_LIMIT = 5

Cell = tuple[int, int]


@dataclass(frozen=True)
class Line:
    """One row or column of the table whose cells add up to a known total cell."""

    cells: tuple[Cell, ...]  # every cell of the line, the total included
    total: Cell  # the cell holding the line's total


def masked_text(limit: int = DEFAULT_LIMIT) -> str:
    """The text shown instead of a masked count, e.g. "<5"."""
    return f"<{limit}"


def is_primary(value: int | None, limit: int = DEFAULT_LIMIT) -> bool:
    """Whether a count is small enough (1..limit-1) to be masked on its own."""
    return value is not None and 0 < value < limit


def _check(values: Sequence[Sequence[int | None]], limit: int) -> tuple[int, int]:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    n_rows = len(values)
    n_cols = len(values[0]) if n_rows else 0
    for i, row in enumerate(values):
        if len(row) != n_cols:
            raise ValueError(f"row {i} has {len(row)} cells, expected {n_cols}")
        for j, v in enumerate(row):
            if v is not None and v < 0:
                raise ValueError(f"cell ({i}, {j}) is negative: {v}")
    return n_rows, n_cols


def table_lines(n_rows: int, n_cols: int, *, total_row: bool, total_col: bool) -> list[Line]:
    """Every line with a total cell: rows when total_col, columns when total_row."""
    lines: list[Line] = []
    if total_col and n_cols >= 1:
        for i in range(n_rows):
            lines.append(Line(tuple((i, j) for j in range(n_cols)), (i, n_cols - 1)))
    if total_row and n_rows >= 1:
        for j in range(n_cols):
            lines.append(Line(tuple((i, j) for i in range(n_rows)), (n_rows - 1, j)))
    return lines


def suppress(
    values: Sequence[Sequence[int | None]],
    *,
    total_row: bool,
    total_col: bool,
    limit: int = DEFAULT_LIMIT,
) -> list[list[bool]]:
    """Which cells to mask (True) so that no small count is shown or recoverable by subtraction.

    Primary suppression masks every count in 1..limit-1 (totals included); zeros and
    None are never masked primarily. Secondary suppression then makes sure that no line
    with a known (non-None) total has exactly one masked cell: the smallest unmasked
    non-zero cell of that line is masked too, preferring inner cells, then other totals,
    and the line's own total last. Ties are broken by position (row, then column).
    This repeats until stable.
    """
    n_rows, n_cols = _check(values, limit)
    mask = [[is_primary(v, limit) for v in row] for row in values]
    lines = [
        line
        for line in table_lines(n_rows, n_cols, total_row=total_row, total_col=total_col)
        if values[line.total[0]][line.total[1]] is not None
    ]

    def is_marginal(cell: Cell) -> bool:
        return (total_row and cell[0] == n_rows - 1) or (total_col and cell[1] == n_cols - 1)

    def pick(line: Line) -> Cell | None:
        best: tuple[int, int, int, int, int] | None = None
        for cell in line.cells:
            i, j = cell
            v = values[i][j]
            if v is None or mask[i][j]:
                continue
            # Zeros reveal nothing; only used as a last resort (inconsistent input).
            rank = 2 if cell == line.total else 1 if is_marginal(cell) else 0
            key = (int(v == 0), rank, v, i, j)
            if best is None or key < best:
                best = key
        return None if best is None else (best[3], best[4])

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(mask[i][j] for i, j in line.cells) != 1:
                continue
            cell = pick(line)
            if cell is not None:
                mask[cell[0]][cell[1]] = True
                changed = True
                break
    return mask
