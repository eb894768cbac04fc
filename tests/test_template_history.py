"""Last tertial beside the input: `template --period P --historik MAPP` puts each unit's accepted
values of the previous tertial and of the same tertial a year before, greyed, beside its
indicators, and colours an input (and says so in Kontroll) when it moves more than hopp_varning.
The grey cells are never read; without history a template is what it was."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder
from consolidate.periods import Period
from consolidate.run import check_files
from test_read import shift_names

from conftest import ROOT, fill
from lo_helpers import SOFFICE, XLSX, convert

HEADER = 5  # 1-based row of the indicator sheet's headings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    folder = tmp_path_factory.mktemp("historik") / "delad"
    build_demo_folder(catalog, folder)
    return folder


def typed(path: Path, name: str) -> Any:
    """What a unit typed in a named cell, read as a person would (openpyxl)."""
    wb = openpyxl.load_workbook(path)
    [(sheet, ref)] = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")].value


def heads(ws: Any) -> dict[str, int]:
    return {str(ws.cell(HEADER, c).value): c for c in range(1, ws.max_column + 1)
            if ws.cell(HEADER, c).value}


def row_of(ws: Any, name: str) -> int:
    return next(r for r in range(HEADER + 1, ws.max_row + 1) if ws.cell(r, 2).value == name)


@pytest.fixture(scope="module")
def templates(demo: Path, tmp_path_factory: pytest.TempPathFactory,
              invoke: Callable[..., Result]) -> Path:
    out = tmp_path_factory.mktemp("mallar")
    result = invoke("template", "--period", "2026-T1", "--historik", demo, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Tidigare värden (2025-T3, 2025-T1)" in result.stderr
    return out


@pytest.fixture(scope="module")
def invoke() -> Callable[..., Result]:
    from click.testing import CliRunner

    from consolidate.cli import cli

    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_last_tertial_and_a_year_before_stand_greyed_beside_the_inputs(
        templates: Path, demo: Path, catalog: Catalog) -> None:
    ws = openpyxl.load_workbook(templates / "2026-T1_barn_unga.xlsx")["Indikatorer"]
    col = heads(ws)
    previous, year = col["T3 2025 (godkänt)"], col["T1 2025 (godkänt)"]
    assert previous > col["Kontroll"] and year == previous + 1
    t3 = demo / "2025-T3" / "2025-T3_barn_unga.xlsx"
    t1 = demo / "2025-T1" / "2025-T1_barn_unga.xlsx"
    for ind in catalog.indicators_for("barn_unga", Period(2026, 1)):
        row = row_of(ws, ind.name)
        for column, path in ((previous, t3), (year, t1)):
            cell = ws.cell(row, column)
            if ind.id == "icke_bistandsbedomda":  # new in the 2026 plan: no earlier value
                assert cell.value == "–"
            elif ind.id == "belaggning_myren":  # Myren reported it itself before the merge
                myren = path.parent / path.name.replace("barn_unga", "myren")
                assert cell.value == pytest.approx(typed(myren, "ind_belaggning_myren_taljare")
                                                   / typed(myren, "ind_belaggning_myren_namnare"))
            elif ind.is_share:
                assert cell.value == pytest.approx(typed(path, f"ind_{ind.id}_taljare")
                                                   / typed(path, f"ind_{ind.id}_namnare"))
            else:
                assert cell.value == pytest.approx(typed(path, f"ind_{ind.id}_varde"))
            assert cell.font.i and cell.fill.fgColor.rgb == "FFF2F2F2"
            assert cell.protection.locked
    instructions = openpyxl.load_workbook(templates / "2026-T1_barn_unga.xlsx")["Instruktioner"]
    text = " ".join(str(c.value) for c in instructions["A"] if c.value)
    assert "T3 2025 och T1 2025" in text and "mer än 50 %" in text


def test_a_rejected_file_is_no_history(templates: Path, demo: Path, tmp_path: Path,
                                       invoke: Callable[..., Result]) -> None:
    """Vuxen's only 2026-T1 file has errors: its 2026-T2 template shows no last tertial, but the
    accepted 2025-T2 beside it."""
    result = invoke("template", "--period", "2026-T2", "--unit", "vuxen", "--historik", demo,
                    "--out", tmp_path)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(tmp_path / "2026-T2_vuxen.xlsx")["Indikatorer"]
    col = heads(ws)
    rows = range(HEADER + 1, ws.max_row + 1)
    assert {ws.cell(r, col["T1 2026 (godkänt)"]).value for r in rows} == {"–"}
    staff = row_of(ws, "Antal medarbetare som arbetar med utredningar och uppföljning av insatser")
    assert ws.cell(staff, col["T2 2025 (godkänt)"]).value == pytest.approx(
        typed(demo / "2025-T2" / "2025-T2_vuxen.xlsx", "ind_medarbetare_utredning_varde"))


def test_without_history_a_template_is_as_before(tmp_path: Path, demo: Path,
                                                 invoke: Callable[..., Result]) -> None:
    """No --historik, or no accepted value of the unit in the folder: the same bytes as the
    committed templates of the example period."""
    plain = tmp_path / "utan"
    assert invoke("template", "--period", "2026-T1", "--out", plain).exit_code == 0
    only = tmp_path / "bara_forebyggande"
    for path in demo.glob("*/*_forebyggande.xlsx"):
        (only / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, only / path.parent.name / path.name)
    some = tmp_path / "med"
    assert invoke("template", "--period", "2026-T1", "--historik", only, "--out",
                  some).exit_code == 0
    for committed in sorted((ROOT / "templates_xlsx").glob("2026-T1_*.xlsx")):
        assert (plain / committed.name).read_bytes() == committed.read_bytes(), committed.name
        if "forebyggande" not in committed.name:
            assert (some / committed.name).read_bytes() == committed.read_bytes(), committed.name
    assert (some / "2026-T1_forebyggande.xlsx").read_bytes() != (
        plain / "2026-T1_forebyggande.xlsx").read_bytes()


def test_the_grey_cells_are_never_read(templates: Path, tmp_path: Path, catalog: Catalog) -> None:
    """Same defined names as without history; filled, and with a column and a row inserted in
    front of everything, the reader finds exactly what was typed and nothing of the grey cells."""
    path = templates / "2026-T1_barn_unga.xlsx"
    with_history = openpyxl.load_workbook(path)
    committed = openpyxl.load_workbook(ROOT / "templates_xlsx" / path.name)
    assert ({n: d.attr_text for n, d in with_history.defined_names.items()}
            == {n: d.attr_text for n, d in committed.defined_names.items()})
    values = {"ind_forebyggande_insatser_varde": 5300,       # ten times the last tertial
              "ind_kostnad_externa_placeringar_varde": 109.4}
    filled = fill(path, values, tmp_path / "2026-T1_barn_unga.xlsx")
    wb = openpyxl.load_workbook(filled)
    wb["Indikatorer"].insert_cols(2)
    shift_names(wb, "Indikatorer", col_at=2, cols=1)
    wb["Indikatorer"].insert_rows(7)
    shift_names(wb, "Indikatorer", row_at=7, rows=1)
    wb.save(filled)
    checked = check_files([filled], catalog, history=False)
    [sub] = checked.submissions
    read = {c.name: c.value for c in sub.cells if c.value is not None}
    assert read == {k: pytest.approx(v) for k, v in values.items()}
    assert not [f for f in checked.of(sub) if f.code in ("namn_saknas", "flik_saknas")]


def test_the_live_check_colours_the_input(templates: Path, catalog: Catalog) -> None:
    ws = openpyxl.load_workbook(templates / "2026-T1_barn_unga.xlsx")["Indikatorer"]
    col = heads(ws)
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    prevent = row_of(ws, "Antal som tar del av förebyggande insatser")
    share = row_of(ws, "Andel barn 0–20 år i befolkningen aktuella för utredning")
    k = openpyxl.utils.get_column_letter(col["T3 2025 (godkänt)"])
    limit = catalog.settings.jump_warning
    assert rules[f"D{prevent}"] == [
        f"AND(ISNUMBER($D{prevent}),ISNUMBER(${k}{prevent}),${k}{prevent}<>0,"
        f"ABS($D{prevent}/${k}{prevent}-1)>{limit})"]
    assert f"$D{share}/$E{share}/${k}{share}" in rules[f"D{share}:E{share}"][0]
    # No earlier value, no colour.
    new = row_of(ws, "Antal barn, unga och vuxna som tar del av icke biståndsbedömda insatser")
    assert f"D{new}" not in rules


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice Calc (soffice) is not installed")
def test_libreoffice_says_which_values_moved(templates: Path, demo: Path, tmp_path: Path) -> None:
    """Filled, recalculated and saved by LibreOffice: Kontroll names the values that moved more
    than 50 %, and the colour rules survive the round trip."""
    path = templates / "2026-T1_barn_unga.xlsx"
    t3 = demo / "2025-T3" / "2025-T3_barn_unga.xlsx"
    before = typed(t3, "ind_kostnad_externa_placeringar_varde")
    filled = fill(path, {
        "ind_kostnad_externa_placeringar_varde": before * 1000,        # tkr for mnkr
        "ind_medarbetare_utredning_varde": typed(t3, "ind_medarbetare_utredning_varde") * 1.1,
        "ind_andel_barn_utredning_taljare": typed(t3, "ind_andel_barn_utredning_taljare") * 10,
        "ind_andel_barn_utredning_namnare": typed(t3, "ind_andel_barn_utredning_namnare"),
    }, tmp_path / "ifylld" / path.name)
    [saved] = convert([filled], XLSX, tmp_path / "libreoffice")
    ws = openpyxl.load_workbook(saved, data_only=True)["Indikatorer"]
    check = heads(ws)["Kontroll"]
    said = {ws.cell(r, 2).value: ws.cell(r, check).value for r in range(HEADER + 1, ws.max_row + 1)
            if ws.cell(r, check).value}
    moved = "Stor förändring mot T3 2025: stämmer värdet? Förklara i kommentaren."
    assert said == {
        "Alla placeringar ska granskas för att undersöka om det finns bättre och mindre kostsamma "
        "alternativ": moved,
        "Andel barn 0–20 år i befolkningen aktuella för utredning": moved}
    rules = openpyxl.load_workbook(saved)["Indikatorer"].conditional_formatting
    assert sum(1 for cf in rules for r in cf.rules if "ABS(" in (r.formula or [""])[0]) >= 7
