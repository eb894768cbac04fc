"""Workbooks as Excel and LibreOffice really save them: error cells, percent cells, Strict Open XML,
packages with other part names, templates and other spreadsheet formats, the three size limits.
Each file is a real filled template, its package rewritten the way the named program writes it."""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.layout import build_layout
from consolidate.model import Finding, Submission
from consolidate.periods import Period
from consolidate.read import read_submission
from consolidate.run import check_files
from test_validate import SURVEY_Q1, base_values

import hostile as H
from conftest import ROOT

T2 = Period(2025, 2)
F = "forebyggande"
CATALOG = ROOT / "schemas" / "katalog.toml"
POLIS = "tab_arenden_per_kalla_polis_antal"
POLIS_ANDEL = "tab_arenden_per_kalla_polis_andel"
COMMENT = "ind_forebyggande_insatser_kommentar"
STAFF = "ind_medarbetare_tidiga_insatser_varde"
SURVEY_Q2 = "tab_enkat_familjer_hur_nojd_ar_du_med_det_bemotande_du_fatt_andel"
SURVEY_Q3 = "tab_enkat_familjer_hur_val_har_hjalpen_radgivningen_uppfyll_andel"


def where(catalog: Catalog, name: str, unit: str = F) -> tuple[str, str]:
    """The sheet and cell of an input cell in the template."""
    cell = next(c for c in build_layout(catalog, unit, T2).cells if c.name == name)
    return cell.sheet, cell.ref


def values_of(sub: Submission) -> dict[str, tuple[str, str, float | None, str]]:
    return {c.name: (c.sheet, c.cell, c.value, c.raw) for c in sub.cells}


def codes_at(found: list[Finding], place: tuple[str, str]) -> list[str]:
    return [f.code for f in found if (f.sheet, f.cell) == place]


@pytest.fixture
def filled_f(filled: Callable[..., Path], catalog: Catalog) -> Callable[..., Path]:
    """A valid filled forebyggande workbook, with changes typed over it."""
    def make(changes: dict[str, Any] | None = None, name: str | None = None,
             folder: Path | None = None) -> Path:
        return filled(F, str(T2), {**base_values(catalog, F, T2), **(changes or {})}, name=name,
                      folder=folder)
    return make


@pytest.fixture
def plain(filled_f: Callable[..., Path], catalog: Catalog) -> Submission:
    """How the valid file reads: what every rewritten package must read the same as."""
    sub = read_submission(filled_f(name="vanlig.xlsx"), catalog)
    assert sub.readable and sub.findings == () and sub.cells
    return sub


def same_values(sub: Submission, plain: Submission) -> None:
    assert sub.readable and sub.findings == (), sub.findings
    assert (sub.unit, sub.period) == (plain.unit, plain.period)
    assert [c[3:] for c in sub.cells] == [c[3:] for c in plain.cells]


# ---- error cells -------------------------------------------------------------------------------

def as_error_cell(xml: bytes, ref: str, shown: str, formula: str | None) -> bytes:
    """The cell as Excel saves one showing an error: type "e", its formula if any, the error value
    as the cached value (ECMA-376 Part 1, §18.3.1.4 c and §18.18.11 ST_CellType "e"); style kept."""
    match = re.search(rb'<c r="' + ref.encode() + rb'"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', xml,
                      re.DOTALL)
    assert match, ref
    style = re.search(rb'\bs="(\d+)"', match.group("attrs"))
    body = (f"<f>{formula}</f>" if formula else "") + f"<v>{shown}</v>"
    cell = (f'<c r="{ref}"' + (f' s="{style.group(1).decode()}"' if style else "")
            + f' t="e">{body}</c>')
    return xml[:match.start()] + cell.encode() + xml[match.end():]


# input cell -> (what it shows, its formula; None for an error value typed as a constant)
ERRORS = {
    POLIS: ("#DIV/0!", "B7/0"),                                 # a required count
    POLIS_ANDEL: ("#N/A", "VLOOKUP(A6,A20:B30,2,FALSE)"),       # an optional share in a table
    COMMENT: ("#REF!", "#REF!&amp;A1"),                         # a comment
    STAFF: ("#VALUE!", None),                                   # typed: Excel stores an error value
    SURVEY_Q1: ("#SPILL!", "_xlfn.SEQUENCE(3)"),                # Excel 365; calamine refuses it
}
MEANING = {"#DIV/0!": "delar med noll", "#N/A": "saknas", "#REF!": "tagits bort",
           "#VALUE!": "fel sorts värde", "#SPILL!": "får inte plats"}


@pytest.fixture
def error_file(filled_f: Callable[..., Path], catalog: Catalog) -> Path:
    # Swedish LibreOffice shows #N/A as #SAKNAS!; pasted as text, that is what the cell holds.
    path = filled_f({SURVEY_Q2: "#SAKNAS!"})
    parts = H.members(path)
    changed: dict[str, bytes] = {}
    for name, (shown, formula) in ERRORS.items():
        sheet, ref = where(catalog, name)
        part = H.sheet_part(path, sheet)
        changed[part] = as_error_cell(changed.get(part, parts[part]), ref, shown, formula)
    return H.rebuild(path, path.with_name("fel_" + path.name), replace=dict(changed))


def test_error_cells_are_named_with_what_they_mean(error_file: Path, catalog: Catalog) -> None:
    checked = check_files([error_file], catalog)
    found = checked.of(checked.submissions[0])
    shows = {**{name: shown for name, (shown, _) in ERRORS.items()}, SURVEY_Q2: "#SAKNAS!"}
    errors = {(f.sheet, f.cell): f for f in found if f.code == "excel_fel"}
    assert set(errors) == {where(catalog, name) for name in shows}
    for name, shown in shows.items():
        sheet, ref = where(catalog, name)
        item = errors[(sheet, ref)]
        assert item.severity == "fel" and item.value == shown and item.file == error_file.name
        assert f"cellen {ref} visar {shown}:" in item.message
        assert MEANING.get(shown, "saknas") in item.message
    # An error cell is not also a missing value: no other finding points at these cells.
    assert not [f for f in found if (f.sheet, f.cell) in errors and f.code != "excel_fel"]


def test_a_sheet_with_an_error_value_calamine_does_not_know_is_read(error_file: Path,
                                                                    catalog: Catalog) -> None:
    got = values_of(read_submission(error_file, catalog))
    assert got[SURVEY_Q1][2:] == (None, "#SPILL!")
    assert got[POLIS][2:] == (None, "#DIV/0!")
    # The other cells of that sheet are read as typed.
    typed = base_values(catalog, F, T2)
    assert got[SURVEY_Q3][2] == pytest.approx(float(typed[SURVEY_Q3]))


@pytest.mark.libreoffice
def test_error_cells_saved_by_libreoffice(filled_f: Callable[..., Path], catalog: Catalog,
                                          tmp_path: Path) -> None:
    """LibreOffice (Swedish locale) computes the formulas and saves their errors itself."""
    from lo_helpers import SOFFICE, XLSX, convert

    if SOFFICE is None:
        pytest.skip("LibreOffice Calc (soffice) is not installed")
    path = filled_f(name="lo_fel.xlsx", folder=tmp_path / "in")
    wb = openpyxl.load_workbook(path)
    formulas = {POLIS: ("=1/0", "#DIV/0!"), POLIS_ANDEL: ("=NA()", "#N/A"),
                COMMENT: ("=A1+1", "#VALUE!")}
    for name, (formula, _) in formulas.items():
        sheet, ref = where(catalog, name)
        wb[sheet][ref] = formula
    wb.save(path)
    saved = convert([path], XLSX, tmp_path / "lo")[0]
    found = check_files([saved], catalog).all_findings()
    for name, (_, shown) in formulas.items():
        hits = [f for f in found if (f.sheet, f.cell) == where(catalog, name)]
        assert [(f.code, f.value) for f in hits] == [("excel_fel", shown)], hits


# ---- a share in a percent cell -------------------------------------------------------------------

def test_105_percent_in_a_percent_cell_is_a_share_over_100(filled_f: Callable[..., Path],
                                                           catalog: Catalog,
                                                           tmp_path: Path) -> None:
    """Typing "105" or "105 %" into a cell formatted as percent, Excel stores 1,05 and shows 105 %:
    a share over 100 %, not a scale mix-up. The template's share cells are formatted "0.0\\ %"."""
    path = filled_f({SURVEY_Q1: 1.05, SURVEY_Q2: 64}, name="procent.xlsx")
    found = check_files([path], catalog).all_findings()
    over = [f for f in found if (f.sheet, f.cell) == where(catalog, SURVEY_Q1)]
    assert [f.code for f in over] == ["andel_intervall"], over
    assert "105 %" in over[0].message.replace("\u00a0", " ")
    # 64, pasted from a sheet in whole percent, shows as 6 400 %: still a scale mix-up.
    assert codes_at(found, where(catalog, SURVEY_Q2)) == ["procent_skala"]
    # Without the percent format 1,05 shows as 1,05: taken for 1,05 % typed without its sign.
    wb = openpyxl.load_workbook(path)
    sheet, ref = where(catalog, SURVEY_Q1)
    wb[sheet][ref].number_format = "General"
    wb.save(general := tmp_path / "allmant.xlsx")
    assert codes_at(check_files([general], catalog).all_findings(),
                    (sheet, ref)) == ["procent_skala"]


# ---- Strict Open XML -----------------------------------------------------------------------------

# Transitional (ECMA-376 Part 4) -> Strict (Part 1) namespace, as Excel's "Strict Open XML"
STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main":
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    # also the relationship types, which start with this namespace (.../relationships/worksheet)
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
    b"http://schemas.openxmlformats.org/drawingml/2006/main":
        b"http://purl.oclc.org/ooxml/drawingml/main",
}


def strict(src: Path, dst: Path) -> Path:
    replace = {}
    for name, data in H.members(src).items():
        if name.endswith((".xml", ".rels")):
            for old, new in STRICT.items():
                data = data.replace(old, new)
            if name == "xl/workbook.xml":
                data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            replace[name] = data
    return H.rebuild(src, dst, replace=replace)


def test_strict_open_xml_is_read(filled_f: Callable[..., Path], plain: Submission, catalog: Catalog,
                                 tmp_path: Path) -> None:
    path = strict(filled_f(), tmp_path / "2025-T2_forebyggande_strikt.xlsx")
    with zipfile.ZipFile(path) as archive:
        assert b"purl.oclc.org/ooxml/spreadsheetml/main" in archive.read("xl/workbook.xml")
        assert (b"schemas.openxmlformats.org/spreadsheetml"
                not in archive.read(H.sheet_part(path, "_meta")))
    same_values(read_submission(path, catalog), plain)


def test_strict_open_xml_gets_no_broken_feedback_copy(filled_f: Callable[..., Path], tmp_path: Path,
                                                      invoke: Callable[..., Any]) -> None:
    """openpyxl sees no sheets in Strict Open XML: a copy would hold the feedback sheet alone."""
    (tmp_path / "in").mkdir()
    path = strict(filled_f(), tmp_path / "in" / "2025-T2_forebyggande.xlsx")
    result = invoke("check", path, "--feedback", tmp_path / "ut", "--katalog", CATALOG)
    assert result.exit_code == 0, result.output
    assert "Återkopplingskopian för 2025-T2_forebyggande.xlsx skrevs inte" in result.output
    assert not list((tmp_path / "ut").iterdir())


# ---- packages Excel opens: other part names ------------------------------------------------------

def renamed(src: Path, dst: Path, name_of: Callable[[str], str],
            edit: Callable[[str, bytes], bytes] = lambda _, data: data) -> Path:
    """The same parts under other item names in the zip (contents edited where the names appear)."""
    with H.RawZip(dst) as out:
        for name, data in H.members(src).items():
            out.add(name_of(name), edit(name, data))
    return dst


def test_backslashes_in_part_names(filled_f: Callable[..., Path], plain: Submission,
                                   catalog: Catalog,
                                   tmp_path: Path) -> None:
    """Zip tools on Windows store xl\\workbook.xml; Excel opens such a file."""
    path = renamed(filled_f(), tmp_path / "bakstreck.xlsx", lambda name: name.replace("/", "\\"))
    with zipfile.ZipFile(path) as archive:
        assert "xl\\workbook.xml" in archive.namelist()
    same_values(read_submission(path, catalog), plain)


def test_part_names_in_another_letter_case(filled_f: Callable[..., Path], plain: Submission,
                                           catalog: Catalog,
                                           tmp_path: Path) -> None:
    """Part names are case-insensitive (ECMA-376 Part 2, §9.1.1.1): XL/Workbook.xml is
    xl/workbook.xml."""
    def upper(name: str) -> str:
        return (name.replace("xl/", "XL/").replace("workbook.xml", "Workbook.xml")
                .replace("sheet", "Sheet"))

    path = renamed(filled_f(), tmp_path / "versaler.xlsx", upper)
    with zipfile.ZipFile(path) as archive:
        assert ("XL/Workbook.xml" in archive.namelist()
                and "xl/workbook.xml" not in archive.namelist())
    same_values(read_submission(path, catalog), plain)


def test_workbook_found_through_the_package_relationships(filled_f: Callable[..., Path],
                                                          plain: Submission,
                                                          catalog: Catalog, tmp_path: Path) -> None:
    """The workbook is where _rels/.rels's officeDocument relationship says (ECMA-376 Part 2, §9.3),
    here in bok/ instead of xl/, and the sheets where the workbook's relationships say."""
    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"/xl/", b"/bok/").replace(b'"xl/', b'"bok/') if name in (
            "_rels/.rels", "[Content_Types].xml", "xl/_rels/workbook.xml.rels") else data

    path = renamed(filled_f(), tmp_path / "annan_plats.xlsx", lambda n: re.sub(r"^xl/", "bok/", n),
                   edit)
    with zipfile.ZipFile(path) as archive:
        assert not [n for n in archive.namelist() if n.startswith("xl/")]
    same_values(read_submission(path, catalog), plain)


def test_workbook_part_calamine_cannot_find_is_refused_with_advice(filled_f: Callable[..., Path],
                                                                   catalog: Catalog,
                                                                   tmp_path: Path) -> None:
    """A valid package whose workbook part has another name: calamine looks for xl/workbook.xml."""
    moved = {"xl/workbook.xml": "xl/bok.xml", "xl/_rels/workbook.xml.rels": "xl/_rels/bok.xml.rels"}

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"xl/workbook.xml", b"xl/bok.xml") if name in (
            "_rels/.rels", "[Content_Types].xml") else data

    path = renamed(filled_f(), tmp_path / "bok.xlsx", lambda n: moved.get(n, n), edit)
    sub = read_submission(path, catalog)
    assert [f.code for f in sub.findings] == ["ovanlig_struktur"] and not sub.readable
    assert "xl/bok.xml" in sub.findings[0].message
    assert "spara som Excel-arbetsbok (.xlsx)" in sub.findings[0].message


def test_a_zip_that_is_another_office_document(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "rapport.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_rels/.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml",
                         '<w:document xmlns:w="http://schemas.openxmlformats.org/'
                         'wordprocessingml/2006/main"><w:body/></w:document>')
    sub = read_submission(path, catalog)
    assert [f.code for f in sub.findings] == ["ej_excel"]
    assert "Word-dokument" in sub.findings[0].message


# ---- templates and other spreadsheet formats in a folder -----------------------------------------

def as_template(src: Path, dst: Path, macros: bool = False) -> Path:
    """Excel's "Save as Excel template": the workbook part's content type becomes template.main."""
    kind = b"template.macroEnabled.main+xml" if macros else b"template.main+xml"
    types = H.members(src)["[Content_Types].xml"].replace(b"sheet.main+xml", kind)
    assert kind in types
    return H.rebuild(src, dst, replace={"[Content_Types].xml": types})


def test_templates_and_other_formats_are_named_in_a_folder(
        filled_f: Callable[..., Path], catalog: Catalog, filled: Callable[..., Path],
        tmp_path: Path, invoke: Callable[..., Any], unchanged: Callable[[Path], None]) -> None:
    """A unit that saved "as template" was reported missing with no word about its file."""
    folder = tmp_path / "inlamning"
    good = filled_f(name="2025-T2_forebyggande.xlsx", folder=folder)
    vuxen = filled("vuxen", str(T2), base_values(catalog, "vuxen", T2), folder=tmp_path / "fyllda")
    as_template(vuxen, folder / "2025-T2_vuxen.xltx")
    as_template(good, folder / "2025-T2_forebyggande_kopia.xltm", macros=True)
    (folder / "gammal_mall.xlt").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000)
    (folder / "platt.fods").write_text('<?xml version="1.0"?><office:document/>', encoding="utf-8")
    with zipfile.ZipFile(folder / "kalkyl.numbers", "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00\x01")
    unchanged(folder)
    expected = {
        "2025-T2_vuxen.xltx": ("mallfil", "(.xltx)"),
        "2025-T2_forebyggande_kopia.xltm": ("mallfil", "(.xltm)"),
        "gammal_mall.xlt": ("gammalt_format", ".xls"),
        "platt.fods": ("ods", "OpenDocument"),
        "kalkyl.numbers": ("ej_excel", "Apple Numbers-fil"),
    }
    for command in (("check", folder), ("run", folder, "--out", tmp_path / "ut.xlsx")):
        result = invoke(*command, "--json", "--katalog", CATALOG)
        report = json.loads(result.stdout)
        for name, (code, words) in expected.items():
            reasons = [f for f in report["fynd"] if f["fil"] == name]
            assert [f["kod"] for f in reasons] == [code], (command[0], name, reasons)
            assert words in reasons[0]["meddelande"]
            if code == "mallfil":
                assert "spara som Excel-arbetsbok (.xlsx)" in reasons[0]["meddelande"]
        assert not [f for f in report["fynd"] if f["fil"] == good.name]
    # The unit is still missing, and its file is in the register beside it, refused.
    entries = {e["fil"]: e for e in report["inlamning"] if e["fil"]}
    # no unit's submission, listed apart
    assert entries["2025-T2_vuxen.xltx"]["status"] == "ej knuten"
    assert [e["status"] for e in report["inlamning"] if e["enhet"] == "vuxen"] == ["saknas"]


# ---- the three size limits -----------------------------------------------------------------------

def test_each_size_limit_says_which_it_is(filled_f: Callable[..., Path], catalog: Catalog,
                                          tmp_path: Path) -> None:
    """Unpacked total, one part's size and the packing ratio: three findings, each naming its
    limit."""
    base = filled_f()
    total = tmp_path / "summa.xlsx"
    noise = os.urandom(130_000)  # packs to about its own size: a ratio far below the limit
    with H.RawZip(total) as out:
        for name, data in H.members(base).items():
            out.add(name, data)
        for i in range(5):  # five parts of 24 MB (as declared) are within every limit but the total
            out.add(f"xl/media/bild{i}.bin", noise, declared=24_000_000)
    sub = read_submission(total, catalog)
    assert [f.code for f in sub.findings] == ["for_stor_uppackad"]
    assert "100 MB" in sub.findings[0].message and "läses inte" in sub.findings[0].message

    big = tmp_path / "del.xlsx"
    with H.RawZip(big) as out:
        for name, data in H.members(base).items():
            out.add(name, data)
        out.add("xl/media/bild.bin", os.urandom(200_000), declared=30_000_000)
    sub = read_submission(big, catalog)
    assert [f.code for f in sub.findings] == ["for_stor_del"]
    assert "xl/media/bild.bin" in sub.findings[0].message and "30 MB" in sub.findings[0].message
    assert "25 MB per del" in sub.findings[0].message

    packed = tmp_path / "packad.xlsx"
    H.zip_bomb(base, packed, size=20_000_000)
    sub = read_submission(packed, catalog)
    assert [f.code for f in sub.findings] == ["for_hart_packad"]
    assert "Mer än 200 gånger läses inte" in sub.findings[0].message
    for item in sub.findings:
        assert "Ta bort" in item.message or "Spara" in item.message  # what to do


def test_a_zip_asking_for_a_newer_zip_version_is_a_damaged_file(filled_f: Callable[..., Path],
                                                                 catalog: Catalog,
                                                                 tmp_path: Path) -> None:
    """zipfile raises NotImplementedError for "version needed to extract" above what it reads."""
    data = bytearray(filled_f().read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6:central + 8] = (84).to_bytes(2, "little")  # version 8.4 needed to extract
    (path := tmp_path / "ny_zipversion.xlsx").write_bytes(bytes(data))
    sub = read_submission(path, catalog)
    assert [f.code for f in sub.findings] == ["trasig_fil"]
