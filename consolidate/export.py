"""Long-format export of the board's data for BI tools: Parquet and CSV, masked when the board
is."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .atomic import write_atomically
from .boardmodel import Board

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("period", "unit", "unit_name", "area", "scope", "scope_name", "item", "item_label",
           "field", "field_label", "value", "text", "sheet", "cell", "file")


def long_frame(board: Board) -> pl.DataFrame:
    """The rows of the master's Data sheet; a masked board adds the mark of each hidden value."""
    frame = board.data.select(*COLUMNS)
    if board.masked:
        limit = board.catalog.settings.suppression_limit
        frame = frame.with_columns(board.data["mark"].replace_strict(
            {"primär": f"<{limit}", "sekundär": ".."}, default=None, return_dtype=pl.String)
            .alias("mask"))
    return frame


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(p) for p in _FORMULA_START]))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


def export_long(board: Board, folder: Path) -> list[Path]:
    """data_PERIOD.parquet and data_PERIOD.csv (semicolons, UTF-8 with BOM for Excel) in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = long_frame(board)
    stem = f"data_{board.period}"
    written = []
    for suffix, writer in ((".parquet", lambda p: frame.write_parquet(p)),
                           (".csv", lambda p: _csv_safe(frame).write_csv(
                               p, separator=";", include_bom=True))):
        written.append(write_atomically(folder / f"{stem}{suffix}", writer))
    return written
