"""`consolidate run --export`: Parquet and CSV with the rows of the master's Data sheet, safe for
Excel."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import fill

T2 = Period(2025, 2)
TYPED = {"=1+2", "+46 70 123 45 67", "-2 placeringar avslutade", "@SUMMA(A1)"}


def write_board(folder: Path, catalog: Catalog, template: Callable[[str, str], Path]) -> None:
    texts = {
        "forebyggande": {"ind_forebyggande_insatser_kommentar": "=1+2",
                         "ind_medarbetare_tidiga_insatser_kommentar": "+46 70 123 45 67"},
        "vuxen": {"ind_kostnad_externa_placeringar_kommentar": "-2 placeringar avslutade",
                  "ind_medarbetare_utredning_kommentar": "@SUMMA(A1)"},
    }
    for unit in catalog.unit_ids():
        path = fill(template(unit, str(T2)), unit_values(catalog, load_seeds(), unit, T2),
                    folder / f"{T2}_{unit}.xlsx")
        if unit in texts:
            # Typed as text (in Excel with a leading apostrophe): the cell holds a string, not a
            # formula.
            wb = openpyxl.load_workbook(path)
            for name, text in texts[unit].items():
                for sheet, ref in wb.defined_names[name].destinations:
                    cell = wb[sheet][ref.replace("$", "")]
                    cell.value = text
                    cell.data_type = "s"
            wb.save(path)


def data_sheet(path: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path)["Data"]
    heads = [c.value for c in ws[1]]
    return [dict(zip(heads, (c.value for c in row), strict=True))
            for row in ws.iter_rows(min_row=2)]


def key(period: str, unit: str, scope: str, item: str | None, field: str, value: float | None,
        text: str | None, sheet: str, cell: str, file: str) -> tuple[Any, ...]:
    return (period, unit, scope, item or "", field,
            None if value is None else round(float(value), 9), text or "", sheet, cell, file)


def test_export_has_the_data_sheet_rows_and_safe_csv(tmp_path: Path, catalog: Catalog,
                                                     template_cache: Callable[[str, str], Path],
                                                     invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    write_board(folder, catalog, template_cache)
    out, export = tmp_path / "m.xlsx", tmp_path / "bi"
    result = invoke("run", folder, "--out", out, "--export", export)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in export.iterdir()) == ["data_2025-T2.csv", "data_2025-T2.parquet"]

    sheet = sorted(key(r["Period"], r["Enhets-id"], r["Id"], r["Rad-id"], r["Fält-id"], r["Värde"],
                       r["Text"], r["Flik"], r["Cell"], r["Fil"]) for r in data_sheet(out))
    parquet = pl.read_parquet(export / "data_2025-T2.parquet")
    from_parquet = sorted(key(*(r[c] for c in ("period", "unit", "scope", "item", "field", "value",
                                                "text", "sheet", "cell", "file")))
                          for r in parquet.iter_rows(named=True))
    assert len(sheet) > 100
    assert from_parquet == sheet
    assert parquet.schema["value"] == pl.Float64
    assert TYPED <= set(parquet["text"].drop_nulls())
    assert set(parquet["unit_name"]) == {u.name for u in catalog.units}

    raw = (export / "data_2025-T2.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8 (å, ä, ö)
    csv = pl.read_csv(export / "data_2025-T2.csv", separator=";", infer_schema=False)
    csv = csv.rename({c: c.lstrip("\ufeff") for c in csv.columns})
    assert csv.height == parquet.height
    texts = set(csv["text"].drop_nulls())
    # A spreadsheet opening the CSV must not run what a unit typed: each is prefixed with an
    # apostrophe.
    assert {"'" + t for t in TYPED} <= texts
    assert not any(t[0] in "=+-@" for t in texts)
    assert not TYPED & texts
    # Values are unchanged apart from that prefix.
    assert (sorted(float(v) for v in csv["value"].drop_nulls())
            == sorted(parquet["value"].drop_nulls()))
    assert set(csv["period"]) == {"2025-T2"}
    assert not [p for p in export.iterdir() if p.name.startswith(".~")]


def test_export_folder_is_created_and_rewritten(tmp_path: Path, catalog: Catalog,
                                                template_cache: Callable[[str, str], Path],
                                                invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    write_board(folder, catalog, template_cache)
    export = tmp_path / "nivå1" / "bi"
    assert invoke("run", folder, "--out", tmp_path / "m.xlsx", "--export", export).exit_code == 0
    first = (export / "data_2025-T2.parquet").read_bytes()
    assert invoke("run", folder, "--out", tmp_path / "m.xlsx", "--export", export).exit_code == 0
    assert pl.read_parquet(export / "data_2025-T2.parquet").equals(
        pl.read_parquet(io.BytesIO(first)))
    assert sorted(p.name for p in export.iterdir()) == ["data_2025-T2.csv", "data_2025-T2.parquet"]
