"""Number formats that a Swedish LibreOffice keeps (issue #16, item 8).

A bare space in a format code ("0.0 %", '#,##0 "mnkr"') is read by LibreOffice in a Swedish locale
as its thousands separator after the last digit, i.e. Excel's scaling comma: one save writes "0.0,%"
and '#,##0,"mnkr"' back, and from then on 4,2 % shows as 0,0 % and 177,9 mnkr as 0,2 mnkr (the
stored values stay right). The tool writes the space escaped ("0.0\\ %") or quoted
('#,##0.0" mnkr"').

The first tests check every format code in the files the tool writes (templates, filled templates,
a feedback copy, the master and its charts) without LibreOffice. The others save those files with
LibreOffice in a fresh sv-SE profile and compare, file by file: each cell's number format, each
chart's format codes, every sheet as LibreOffice shows it (text of every cell), the Swedish look of
every share and amount ("4,2 %", "177,9 mnkr", as Swedish Excel shows them), and what the tool reads
from the saved templates. A control workbook with the old codes shows that the harness sees the
rewrite. Run once against the old codes (templatestyle.FMT_SHARE "0.0 %", masterstyle "0 %",
"0.0 %", "0.00 %", '#,##0.0 "mnkr"'), the round-trip tests fail, e.g.:

    sammanställning_2026-T1.xlsx: number formats changed by LibreOffice: {('Sammanställning', 'C9'):
    ('0.00 %', '0.00,%'), ...}
    master: sheet Sammanställning shows differently after a save: [(9, 3, '5,00 %', '0,01%'),
    (9, 4, '4,20 %', '0,00%'), ...]   (and row 18: '177,2 mnkr' -> '0,2mnkr')
    vuxen: sheet Indikatorer shows differently after a save: [(7, 6, '0,79 %', '0,00%'),
    (8, 6, '75,0 %', '0,1%')]
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from consolidate.catalog import Catalog
from consolidate.cli import cli
from consolidate.demo import load_seeds, unit_values
from consolidate.masterstyle import num_format
from consolidate.read import read_submission
from consolidate.run import check_files
from consolidate.template import write_templates
from test_master import excel_sv

from conftest import PERIOD, ROOT, fill
from lo_helpers import SOFFICE, XLSX, convert, convert_sheets_csv

libreoffice = pytest.mark.libreoffice
needs_soffice = pytest.mark.skipif(SOFFICE is None,
                                   reason="LibreOffice Calc (soffice) is not installed on this "
                                          "machine; .ci/run installs libreoffice-calc-nogui when "
                                          "it is missing")

# The codes the tool wrote before: each has a plain space before its unit.
OLD_CODES = ["0.0 %", "0.00 %", "0 %", '#,##0 "mnkr"', '#,##0.0 "mnkr"']
NEW_CODES = [r"0.0\ %", r"0.00\ %", r"0\ %", '#,##0" mnkr"', '#,##0.0" mnkr"']
MASTER = "sammanställning_2026-T1.xlsx"  # the demo's latest period


# ---- format codes --------------------------------------------------------------------------------

# What in a format code is literal text or not a character of its own: "quoted", \escaped, _padding,
# *fill, and [colour], [condition] or [$locale].
_LITERAL = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')


def bare_space(code: str) -> bool:
    """A space (or no-break space) that is neither quoted nor escaped: LibreOffice in a locale whose
    thousands separator is a space reads it as that separator."""
    return re.search(r"\s", _LITERAL.sub("", code)) is not None


def format_codes(path: Path) -> dict[str, list[str]]:
    """The number format codes of a workbook's parts: styles.xml and each chart (unescaped XML)."""
    codes = {}
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if name == "xl/styles.xml" or re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                found = re.findall(r'formatCode="([^"]*)"', z.read(name).decode("utf-8"))
                codes[name] = [c.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                               .replace("&gt;", ">").replace("&apos;", "'") for c in found]
    return codes


def cell_formats(path: Path) -> dict[tuple[str, str], str]:
    """Every cell with a number format other than General or text, by (sheet, cell); blank input
    cells too, since a unit head types into them."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, cell.coordinate): cell.number_format
            for ws in wb.worksheets for row in ws.iter_rows() for cell in row
            if cell.number_format not in ("General", "@")}


@pytest.mark.parametrize("code", OLD_CODES)
def test_the_old_codes_have_a_bare_space(code: str) -> None:
    assert bare_space(code)
    assert bare_space(code.replace(" ", "\u00a0"))  # a no-break space is read the same way


@pytest.mark.parametrize("code", [*NEW_CODES, "#,##0", "#,##0.0", "#,##0.00", "@", "General",
                                  '_-* #,##0\\ "kr"_-;\\-* #,##0\\ "kr"_-;_-* "-"\\ "kr"_-;_-@_-'])
def test_escaped_or_quoted_spaces_are_not_bare(code: str) -> None:
    assert not bare_space(code)


def test_master_number_formats(catalog: Catalog) -> None:
    codes = {ind.id: num_format(ind) for ind in catalog.indicators}
    assert not [c for c in codes.values() if bare_space(c)], codes
    for ind in catalog.indicators:
        if ind.is_share:
            assert codes[ind.id].endswith(r"\ %"), (ind.id, codes[ind.id])
        elif ind.kind == "mnkr":
            assert codes[ind.id].endswith('" mnkr"'), (ind.id, codes[ind.id])
        else:
            assert codes[ind.id].startswith("#,##0"), (ind.id, codes[ind.id])


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> dict[str, Path]:
    """What the tool writes: a template, every unit's filled template, a feedback copy (of a
    workbook with an error) and the demo's master with its charts. All names differ."""
    root = tmp_path_factory.mktemp("format_books")
    templates = write_templates(catalog, PERIOD, root / "mallar")
    seeds = load_seeds()
    blank = root / "tom" / f"tom_{templates[0].name}"  # a name of its own beside the filled copies
    blank.parent.mkdir()
    shutil.copyfile(templates[0], blank)
    out: dict[str, Path] = {"mall": blank}
    filled = {template.stem.split("_", 1)[1]: template for template in templates}
    typed = {unit: unit_values(catalog, seeds, unit, PERIOD) for unit in filled}
    for unit, template in filled.items():
        out[unit] = fill(template, typed[unit], root / "ifyllda" / template.name)
    # A feedback copy of a workbook with a share whose numerator is larger than its denominator.
    unit = next(u for u in filled if any(k.endswith("_taljare") for k in typed[u]))
    values = dict(typed[unit])
    numerator = next(k for k in values if k.endswith("_taljare"))
    values[numerator] = values[numerator.removesuffix("_taljare") + "_namnare"] + 1
    wrong = fill(filled[unit], values, root / "fel" / filled[unit].name)
    result = CliRunner().invoke(cli,
                                ["check", str(wrong), "--feedback", str(root / "aterkoppling")],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    (out["aterkoppling"],) = (root / "aterkoppling").glob("*.xlsx")
    folder = root / "demo"
    result = CliRunner().invoke(cli, ["demo", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out["master"] = folder / MASTER
    return out


def test_no_format_code_the_tool_writes_has_a_bare_space(books: dict[str, Path]) -> None:
    committed = [*sorted((ROOT / "templates_xlsx").glob("*.xlsx")),
                 *sorted((ROOT / "seeds" / "exempel").glob("*/*.xlsx"))]
    for path in [*books.values(), *committed]:
        for part, codes in format_codes(path).items():
            assert not [c for c in codes if bare_space(c)], (path.name, part, codes)
    templates = {c for p in ("mall", "aterkoppling")
                 for c in format_codes(books[p])["xl/styles.xml"]}
    assert {r"0.0\ %", "#,##0.0"} <= templates, templates
    master = {c for codes in format_codes(books["master"]).values() for c in codes}
    assert {r"0\ %", r"0.0\ %", r"0.00\ %", '#,##0.0" mnkr"', "#,##0", "#,##0.0"} <= master, master


# ---- a save by LibreOffice in a Swedish locale ---------------------------------------------------

@pytest.fixture(scope="module")
def resaved(books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every book, and a control workbook with the old codes, saved as .xlsx by LibreOffice
    (sv-SE)."""
    root = tmp_path_factory.mktemp("format_lo")
    control = _control_book(root / "in" / "formatkoder.xlsx")
    keys = [*books, "kontroll"]
    saved = convert([*books.values(), control], XLSX, root / "libreoffice")
    return {"kontroll_in": control, **dict(zip(keys, saved, strict=True))}


def _control_book(path: Path) -> Path:
    """One row per code, old and new: 4,2 % in the share codes, 1 779,4 in the amounts."""
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Koder")
    for row, code in enumerate(OLD_CODES + NEW_CODES):
        ws.write_string(row, 0, code)
        ws.write_number(row, 1, 0.042 if "%" in code else 1779.4,
                        wb.add_format({"num_format": code}))
    wb.close()
    return path


@pytest.fixture(scope="module")
def shown(books: dict[str, Path], resaved: dict[str, Path],
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[list[str]]]]:
    """Every sheet of every book as LibreOffice (sv-SE) shows it, before ("<key>") and after
    ("<key>/lo") the save: one soffice call for all."""
    root = tmp_path_factory.mktemp("format_csv")
    sources = {**books, "kontroll": resaved["kontroll_in"]}
    inputs: dict[Path, list[str]] = {}
    keys: dict[Path, str] = {}
    for key, path in sources.items():
        sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
        inputs[path] = sheets
        keys[path] = key
        copy = root / "lo" / f"{resaved[key].stem}_lo.xlsx"  # names must differ from the originals
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(resaved[key], copy)
        inputs[copy] = sheets
        keys[copy] = f"{key}/lo"
    grids = convert_sheets_csv(inputs, root / "csv")
    return {keys[path]: grid for path, grid in grids.items()}


def _numbers(path: Path) -> dict[tuple[str, int, int], tuple[Any, str]]:
    """Cells with a number (cached) and a number format: (sheet, row, col) -> (value, code)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, cell.row, cell.column): (cell.value, cell.number_format)
            for ws in wb.worksheets for row in ws.iter_rows() for cell in row
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
            and cell.number_format not in ("General", "@")}


def _at(grid: dict[str, list[list[str]]], sheet: str, row: int, col: int) -> str:
    rows = grid[sheet]
    text = rows[row - 1][col - 1] if row <= len(rows) and col <= len(rows[row - 1]) else ""
    # LibreOffice groups with a no-break space, as Swedish Excel does
    return text.replace("\u00a0", " ")


BOOKS = ["mall", "forebyggande", "vuxen", "aterkoppling", "master"]


@libreoffice
@needs_soffice
@pytest.mark.parametrize("key", BOOKS)
def test_swedish_libreoffice_keeps_every_number_format(key: str, books: dict[str, Path],
                                                       resaved: dict[str, Path]) -> None:
    before, after = cell_formats(books[key]), cell_formats(resaved[key])
    assert before, key
    changed = {ref: (code, after.get(ref)) for ref, code in before.items()
               if after.get(ref) != code}
    assert not changed, f"{books[key].name}: number formats changed by LibreOffice: {changed}"
    charts_before, charts_after = format_codes(books[key]), format_codes(resaved[key])
    for part, codes in charts_before.items():
        if part != "xl/styles.xml":
            # LibreOffice adds "General" for the category axis; every code of the chart stays.
            assert set(charts_after.get(part, [])) - {"General"} == set(codes), (key, part)


@libreoffice
@needs_soffice
@pytest.mark.parametrize("key", BOOKS)
def test_swedish_libreoffice_shows_shares_and_amounts_as_before(
        key: str, books: dict[str, Path], resaved: dict[str, Path],
        shown: dict[str, dict[str, list[list[str]]]]) -> None:
    before, after = shown[key], shown[f"{key}/lo"]
    for sheet, rows in before.items():
        diff = [(r + 1, c + 1, text, _at(after, sheet, r + 1, c + 1))
                for r, row in enumerate(rows) for c, text in enumerate(row)
                if text.replace("\u00a0", " ") != _at(after, sheet, r + 1, c + 1)]
        assert not diff, f"{key}: sheet {sheet} shows differently after a save: {diff[:10]}"
    # The look is Swedish Excel's ("4,2 %", "1 931", "177,9 mnkr") with the codes the tool wrote, in
    # the file as written and as saved. A formula's value (a share a template computes) is the one
    # LibreOffice computed on loading, as cached in the saved file.
    codes = {(sheet, *_rowcol(ref)): code
             for (sheet, ref), code in cell_formats(books[key]).items()}
    values = {ref: value for ref, (value, _) in _numbers(resaved[key]).items()}
    values.update({ref: value for ref, (value, _) in _numbers(books[key]).items()})
    kinds = {"%": 0, "mnkr": 0, "#,##0": 0}
    for (sheet, row, col), value in values.items():
        code = codes[(sheet, row, col)]
        expected = excel_sv(value, code)
        assert ((_at(before, sheet, row, col), _at(after, sheet, row, col))
                == (expected, expected)), (key, sheet, row, col, value, code)
        kinds = {k: n + (k in code) for k, n in kinds.items()}
    needed = {"master": ["%", "mnkr", "#,##0"], "mall": ["#,##0"]}.get(key, ["%", "#,##0"])
    assert all(kinds[k] for k in needed), kinds


def _rowcol(ref: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(ref)
    return row, column_index_from_string(letters)


@libreoffice
@needs_soffice
@pytest.mark.parametrize("key", ["forebyggande", "vuxen", "aterkoppling"])
def test_the_tool_reads_a_template_saved_by_swedish_libreoffice_the_same(
        key: str, books: dict[str, Path], resaved: dict[str, Path], catalog: Catalog) -> None:
    def read(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[str, ...]]]:
        sub = read_submission(path, catalog)
        assert sub.readable, sub.findings
        cells = [(c.sheet, c.cell, c.name, c.value, c.text) for c in sub.cells]
        found = check_files([path], catalog).all_findings()
        return cells, sorted((f.code, f.sheet, f.cell, str(f.severity)) for f in found)

    cells, found = read(books[key])
    again_cells, again_found = read(resaved[key])
    assert cells and again_cells == cells
    assert again_found == found
    assert found or key != "aterkoppling"  # the copy of a workbook with an error still has it


@libreoffice
@needs_soffice
def test_control_the_old_codes_are_rewritten_and_the_new_kept(
        resaved: dict[str, Path], shown: dict[str, dict[str, list[list[str]]]]) -> None:
    """The harness sees the bug: before the save the old and the new codes look the same (Swedish,
    "4,2 %"); LibreOffice (sv-SE) turns each old code's space into a scaling comma, so after the
    save it shows a thousandth, while the new codes come back unchanged. Should a later LibreOffice
    keep the old codes, this control has done its job and can go."""
    saved = openpyxl.load_workbook(resaved["kontroll"])["Koder"]
    before, after = shown["kontroll"], shown["kontroll/lo"]
    for row, (old, new) in enumerate(zip(OLD_CODES, NEW_CODES, strict=True), start=1):
        new_row = row + len(OLD_CODES)
        look = excel_sv(0.042 if "%" in new else 1779.4, new)
        assert _at(before, "Koder", row, 2) == _at(before, "Koder", new_row, 2) == look, (old, new)
        assert saved.cell(new_row, 2).number_format == new
        assert _at(after, "Koder", new_row, 2) == look, new
        assert saved.cell(row, 2).number_format == old.replace(" ", ","), old
        assert _at(after, "Koder", row, 2) != look, old
