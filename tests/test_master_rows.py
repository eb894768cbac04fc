"""The master's streamed sheets (Per enhet, unit tables, Inlämning, Valideringslogg, Data): rows are
written as XML in one go, so the XML itself is checked, and the text people chose (file names,
comments, typed values) comes back exactly, markup characters included."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import in_plan

PERIOD = Period(2025, 2)
MARKUP = 'Nytt arbetssätt <b>från</b> maj & "Trygg hemgång" > 3 < 4 ]]> &amp; slut'
ODD_FILE = f"{PERIOD}_vuxen & <kopia>.xlsx"
MISSING = "forebyggande"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _col_number(ref: str) -> int:
    number = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):  # type: ignore[union-attr]
        number = number * 26 + ord(ch) - 64
    return number


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
           catalog: Catalog,
           invoke_module: Callable[..., Any]) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Every unit but forebyggande delivers (so some board values are partial, with a comment);
    beroende comments with markup, vuxen's file has markup in its name, and a second barn_unga
    file is rejected for '<40' typed into a number cell."""
    from conftest import fill

    folder = tmp_path_factory.mktemp("rader") / "inlämnat"
    typed: dict[str, dict[str, Any]] = {}
    for unit in catalog.unit_ids():
        values = unit_values(catalog, load_seeds(), unit, PERIOD)
        if unit == "beroende":
            comment = next(n for n in values
                           if n.endswith(("_varde", "_taljare"))).rsplit("_", 1)[0] + "_kommentar"
            values[comment] = MARKUP
        typed[unit] = values
        if unit == MISSING:
            continue
        name = ODD_FILE if unit == "vuxen" else f"{PERIOD}_{unit}.xlsx"
        fill(template_cache(unit, str(PERIOD)), values, folder / name)
    bad = dict(typed["barn_unga"])
    number = next(n for n in bad if n.endswith(("_varde", "_taljare")))
    bad[number] = "<40"
    fill(template_cache("barn_unga", str(PERIOD)), bad, folder / f"{PERIOD}_barn_unga_andra.xlsx")
    out = folder.parent / "sammanställning.xlsx"
    result = invoke_module("run", folder, "--out", out)
    assert result.exit_code in (0, 1), result.output
    return out, typed


@pytest.fixture(scope="module")
def invoke_module() -> Callable[..., Any]:
    from click.testing import CliRunner

    from consolidate.cli import cli

    def run(*args: Any) -> Any:
        return CliRunner().invoke(cli, [str(a) for a in args])

    return run


def test_every_sheet_is_well_formed_with_rows_and_cells_in_order(master: tuple[Path, Any]) -> None:
    """Excel calls a workbook damaged when a row comes twice or out of order, or a cell sits in
    another row than its reference says; ElementTree refuses XML that is not well formed."""
    path, _ = master
    with zipfile.ZipFile(path) as archive:
        parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(parts) >= 10
        for part in parts:
            root = ElementTree.fromstring(archive.read(part))
            numbers = [int(row.get("r", "0")) for row in root.iter(f"{NS}row")]
            assert numbers == sorted(set(numbers)), (part, numbers[:20])
            for row in root.iter(f"{NS}row"):
                # A cell without its optional reference follows the one before it.
                columns, column = [], 0
                for cell in row.iter(f"{NS}c"):
                    ref = cell.get("r")
                    if ref is not None:
                        assert re.fullmatch(rf"[A-Z]+{row.get('r')}", ref), (part, ref)
                    column = _col_number(ref) if ref is not None else column + 1
                    columns.append(column)
                assert columns == sorted(set(columns)), (part, row.get("r"), columns)


def test_text_people_chose_comes_back_exactly(master: tuple[Path, Any]) -> None:
    path, _ = master
    wb = openpyxl.load_workbook(path)
    data = wb["Data"]
    heads = [c.value for c in data[1]]
    text = [r[heads.index("Text")] for r in data.iter_rows(min_row=2)
            if r[heads.index("Text")].value == MARKUP]
    assert text and all(c.data_type == "s" for c in text)
    assert ODD_FILE in {r[heads.index("Fil")] for r in data.iter_rows(min_row=2, values_only=True)}
    register = wb["Inlämning"]
    files = {r[2]: r[1] for r in register.iter_rows(min_row=5, values_only=True)}
    assert files[ODD_FILE] == "levererad"
    assert files[f"{PERIOD}_barn_unga_andra.xlsx"] == "dubblett"
    log = wb["Valideringslogg"]
    heads = [c.value for c in log[4]]
    rows = [r for r in log.iter_rows(min_row=5, values_only=True)
            if r[heads.index("Fil")] == f"{PERIOD}_barn_unga_andra.xlsx"
            and r[heads.index("Värde")] == "<40"]
    assert rows and rows[0][heads.index("Allvarlighet")] == "fel"
    summary = wb["Sammanställning"]
    assert any(MARKUP in str(c.value) for row in summary.iter_rows() for c in row if c.value)


def test_per_enhet_holds_what_each_unit_typed(master: tuple[Path, Any], catalog: Catalog) -> None:
    """Counts as typed; a unit that does not report an indicator gets a grey blank, a missing one
    "ej rapporterad"; the board column is the sum of the typed counts, and a partial sum says in a
    comment which unit it lacks."""
    path, typed = master
    ws = openpyxl.load_workbook(path)["Per enhet"]
    heads = [c.value for c in ws[4]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=5) if r[0].value}
    checked = partial = 0
    for ind in catalog.indicators:
        if ind.kind != "antal" or not ind.asked_in(PERIOD.tertial) or not in_plan(ind, PERIOD):
            continue
        row = rows[ind.name]
        expected = 0.0
        for unit in catalog.units:
            cell = row[heads.index(unit.name)]
            if unit.id not in ind.units:
                assert (cell.value is None
                        and cell.fill.fgColor.rgb.endswith("F2F2F2")), (ind.id, unit.id)
            elif unit.id == MISSING:
                assert cell.value == "ej rapporterad", (ind.id, cell.value)
            else:
                value = typed[unit.id][f"ind_{ind.id}_varde"]
                assert cell.value == value and cell.data_type == "n", (ind.id, unit.id, cell.value)
                expected += value
        board = row[heads.index("Nämnden")]
        assert board.value == pytest.approx(expected)
        if MISSING in ind.units:
            assert board.comment is not None and "saknar Förebyggande enheten" in board.comment.text
            partial += 1
        else:
            assert board.comment is None
        checked += 1
    assert checked >= 2 and partial >= 1


def test_unit_tables_sum_what_the_units_typed(master: tuple[Path, Any], catalog: Catalog) -> None:
    path, typed = master
    wb = openpyxl.load_workbook(path)
    table = next(t for t in catalog.tables if t.kind == "manad")
    ws = wb[table.sheet]
    row_id = table.rows[0].id
    months = [c.value for c in ws[4]][1:-1]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=5) if r[0].value}
    totals = [0.0] * len(months)
    for unit in catalog.units:
        row = rows[unit.name]
        for offset, month in enumerate(months, start=1):
            value = typed[unit.id].get(f"tab_{table.id}_{row_id}_{month.lower()}")
            if unit.id == MISSING or value is None:
                assert row[offset].value == "–", (unit.id, month, row[offset].value)
            else:
                assert row[offset].value == value and row[offset].data_type == "n", (unit.id, month)
                totals[offset - 1] += value
    for offset, total in enumerate(totals, start=1):
        assert rows["Totalt"][offset].value == (pytest.approx(total) if total else "–")


def test_more_data_rows_than_a_sheet_holds_is_refused_in_swedish(
        tmp_path: Path, template_cache: Callable[[str, str], Path], catalog: Catalog,
        invoke_module: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder with years of a region's history can hold more values than Excel's 1 048 576 rows;
    the run stops with a message and no half workbook (the limit is lowered to make such a
    folder)."""
    import consolidate.master

    from conftest import fill

    folder = tmp_path / "inlämnat"
    for unit in ("vuxen", "myren"):
        fill(template_cache(unit, str(PERIOD)), unit_values(catalog, load_seeds(), unit, PERIOD),
             folder / f"{PERIOD}_{unit}.xlsx")
    monkeypatch.setattr(consolidate.master, "EXCEL_ROWS", 10)
    out = tmp_path / "sammanställning.xlsx"
    result = invoke_module("run", folder, "--out", out)
    assert result.exit_code == 2, result.output
    assert "Fliken Data skulle få" in result.output and "rymmer 9 under rubriken" in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["inlämnat"]
