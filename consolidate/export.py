"""Long-format export of the accepted values for BI tools: Parquet and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from .catalog import Catalog
from .atomic import write_atomically

if TYPE_CHECKING:
    from .model import RunResult

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def filled_cells(values: pl.DataFrame) -> pl.DataFrame:
    """The cells that hold something; empty optional cells carry nothing to pivot on."""
    return values.filter(pl.col("value").is_not_null() | (pl.col("text").fill_null("") != ""))


def long_values(values: pl.DataFrame, catalog: Catalog, areas: tuple[str, str] = ("indikator", "tabell"),
                sort: tuple[str, ...] = ("period", "unit", "file", "sheet", "cell")) -> pl.DataFrame:
    """The filled cells in long format, with unit names: the master's Data sheet and the export."""
    names = {u.id: u.name for u in catalog.units}
    return filled_cells(values).sort(*sort).select(
        "period", "unit",
        pl.col("unit").replace_strict(names, default=None, return_dtype=pl.String).alias("unit_name"),
        pl.when(pl.col("name").str.starts_with("ind_")).then(pl.lit(areas[0])).otherwise(pl.lit(areas[1]))
        .alias("area"),
        "scope", "item", "field", "value", "text", "sheet", "cell", "file",
    )


def long_frame(result: RunResult, catalog: Catalog) -> pl.DataFrame:
    return long_values(result.values, catalog)


def _csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(p) for p in _FORMULA_START]))
        .then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


def export_long(result: RunResult, catalog: Catalog, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    frame = long_frame(result, catalog)
    stem = f"data_{result.period}"
    written = []
    for suffix, writer in ((".parquet", lambda p: frame.write_parquet(p)),
                           (".csv", lambda p: _csv_safe(frame).write_csv(p, separator=";", include_bom=True))):
        written.append(write_atomically(folder / f"{stem}{suffix}", writer))
    return written
