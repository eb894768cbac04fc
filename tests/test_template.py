"""Unit templates: written by the real command, opened with openpyxl and checked cell by cell."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.cli import cli
from consolidate.layout import build_layout
from consolidate.periods import Period

from conftest import in_plan

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "schemas" / "katalog.toml")
UNITS = CATALOG.unit_ids()
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
SHARE_KINDS = {"andel", "beläggningsgrad"}
CASES = [(unit, tertial) for tertial in (1, 2, 3) for unit in UNITS]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Path]:
    """Every unit's template for 2025-T1, T2 and T3, written by `consolidate template`."""
    out: dict[tuple[str, int], Path] = {}
    for tertial in (1, 2, 3):
        folder = tmp_path_factory.mktemp(f"mallar_t{tertial}")
        result = CliRunner().invoke(cli, ["template", "--period", f"2025-T{tertial}", "--out",
                                          str(folder)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        for unit in UNITS:
            out[(unit, tertial)] = folder / f"2025-T{tertial}_{unit}.xlsx"
    return out


@pytest.fixture(scope="module")
def book(written: dict[tuple[str, int], Path]) -> Callable[[str, int], Workbook]:
    @cache
    def load(unit: str, tertial: int) -> Workbook:
        return openpyxl.load_workbook(written[(unit, tertial)])

    return load


def expected_names(catalog: Catalog, unit: str, tertial: int) -> set[str]:
    """The named input cells a unit's template must have, derived here from the catalog."""
    names: set[str] = set()
    for ind in catalog.indicators:
        if unit not in ind.units or (ind.frequency == "årsbasis" and tertial != 3):
            continue
        if not in_plan(ind, Period(2025, tertial)):  # e.g. an indicator of the 2026 plan
            continue
        fields = ["taljare", "namnare"] if ind.kind in SHARE_KINDS else ["varde"]
        names |= {f"ind_{ind.id}_{f}" for f in [*fields, "kommentar"]}
    for t in catalog.tables:
        if unit not in t.units:
            continue
        rows = [r.id for r in t.rows]
        if t.kind == "fordelning":
            fields = ["antal", "andel"] if t.with_share else ["antal"]
            names |= {f"tab_{t.id}_{r}_{f}" for r in [*rows, "summa"] for f in fields}
        elif t.kind == "enkat":
            names |= {f"tab_{t.id}_{r}_andel" for r in rows} | {f"tab_{t.id}_svar_antal"}
        elif t.kind == "manad":
            names |= {f"tab_{t.id}_{r}_{m}" for r in rows for m in MONTHS}
        elif t.kind == "varav":
            names |= {f"tab_{t.id}_{r}_antal" for r in ["total", *rows]}
    return names


def named_cells(wb: Workbook) -> dict[str, tuple[str, int, int]]:
    """Defined name -> (sheet, row, column), 1-based, read from the workbook itself."""
    out = {}
    for name, defined in wb.defined_names.items():
        destinations = list(defined.destinations)
        assert len(destinations) == 1, name
        sheet, ref = destinations[0]
        match = re.fullmatch(r"\$([A-Z]+)\$(\d+)", ref)
        assert match, (name, ref)
        col = openpyxl.utils.column_index_from_string(match.group(1))
        out[name] = (sheet, int(match.group(2)), col)
    return out


def header_row(ws: Worksheet, first_head: str) -> int:
    return next(r for r in range(1, 20) if ws.cell(r, 1).value == first_head)


def validations(ws: Worksheet) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            for row, col in cell_range.cells:
                out.setdefault(f"{get_column_letter(col)}{row}", []).append(dv)
    return out


def all_cells(ws: Worksheet) -> Iterator[Any]:
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row + 3, max_col=ws.max_column + 3):
        yield from row


# --- the command --------------------------------------------------------------------------------

def test_one_template_per_unit(invoke: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "mallar"
    result = invoke("template", "--period", "2025-T2", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"2025-T2_{u}.xlsx" for u in UNITS)
    assert len(UNITS) == 6
    for unit in UNITS:
        assert str(out / f"2025-T2_{unit}.xlsx") in result.stdout


def test_one_unit_and_another_spelling_of_the_period(invoke: Callable[..., Result],
                                                     tmp_path: Path) -> None:
    result = invoke("template", "--period", "tertial 2 2025", "--unit", "vuxen", "--out",
                    tmp_path / "m")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["2025-T2_vuxen.xlsx"]
    meta = dict(openpyxl.load_workbook(tmp_path / "m" / "2025-T2_vuxen.xlsx")["_meta"].values)
    assert meta["period"] == "2025-T2" and meta["enhet"] == "vuxen"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--period", "2025-T2", "--unit", "vuxenenheten"], "Okänd enhet: vuxenenheten"),
        (["--period", "2025-T2", "--unit", "vuxen", "--unit", "okand"], "Okänd enhet: okand"),
        (["--period", "2025-T4"], "Perioden \"2025-T4\" kan inte tolkas"),
        (["--period", "andra tertialen"], "kan inte tolkas"),
    ],
)
def test_bad_unit_or_period_exits_2_and_writes_nothing(
    invoke: Callable[..., Result], tmp_path: Path, args: list[str], says: str
) -> None:
    missing, empty = tmp_path / "finns_inte", tmp_path / "tom"
    empty.mkdir()
    for out in (missing, empty):
        result = invoke("template", *args, "--out", out)
        assert result.exit_code == 2
        katalog, error = result.stderr.split("\n", 1)  # which catalog, then what is wrong
        assert katalog.startswith("Katalog: ") and error.startswith("Fel: ")
        assert says in error
        assert result.stdout == ""
    assert not missing.exists()
    assert list(empty.iterdir()) == []


def test_out_is_a_file(invoke: Callable[..., Result], tmp_path: Path) -> None:
    blocker = tmp_path / "fil"
    blocker.write_text("x")
    result = invoke("template", "--period", "2025-T2", "--out", blocker / "mallar")
    assert result.exit_code == 2
    assert "\nFel: Mallarna kan inte skrivas" in result.stderr
    assert "ingen mapp" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fil"]


def test_same_catalog_and_period_give_identical_bytes(
    invoke: Callable[..., Result], tmp_path: Path, written: dict[tuple[str, int], Path]
) -> None:
    result = invoke("template", "--period", "2025-T2", "--out", tmp_path)
    assert result.exit_code == 0
    for unit in UNITS:
        again = (tmp_path / f"2025-T2_{unit}.xlsx").read_bytes()
        assert again == written[(unit, 2)].read_bytes(), unit
    assert written[("vuxen", 1)].read_bytes() != written[("vuxen", 2)].read_bytes()


def test_templates_are_readable_by_others(written: dict[tuple[str, int], Path]) -> None:
    # Templates go to a shared folder; a private temp-file mode (0600) would hide them.
    for path in written.values():
        assert path.stat().st_mode & 0o044 == 0o044, oct(path.stat().st_mode)
    assert not [p for p in written[("vuxen", 2)].parent.iterdir() if p.name.startswith(".")]


# --- inside every template ------------------------------------------------------------------------

@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_defined_name_for_every_input_cell(book: Callable[[str, int], Workbook], unit: str,
                                           tertial: int) -> None:
    wb = book(unit, tertial)
    names = named_cells(wb)
    assert set(names) == expected_names(CATALOG, unit, tertial)
    layout = build_layout(CATALOG, unit, Period(2025, tertial))
    assert {c.name: (c.sheet, c.row + 1, c.col + 1) for c in layout.cells} == names
    for ws in wb.worksheets:
        assert not ws.defined_names, ws.title  # workbook-level names only: they survive sheet edits


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_named_cells_sit_beside_their_labels(book: Callable[[str, int], Workbook], unit: str,
                                             tertial: int) -> None:
    """Each named cell is in the row of what it asks for, under the right column heading."""
    wb = book(unit, tertial)
    names = named_cells(wb)
    heads = {"varde": "Värde / täljare", "taljare": "Värde / täljare", "namnare": "Nämnare",
             "kommentar": "Kommentar till nämnden"}
    indicators = {i.id: i for i in CATALOG.indicators}
    for name, (sheet, row, col) in names.items():
        ws = wb[sheet]
        if name.startswith("ind_"):
            ind_id, field = re.fullmatch(  # type: ignore[union-attr]
                r"ind_(.+)_([a-z]+)", name).groups()
            assert sheet == "Indikatorer"
            assert ws.cell(row, 2).value == indicators[ind_id].name
            assert ws.cell(header_row(ws, "Målområde"), col).value == heads[field]
            continue
        table = next(t for t in CATALOG.tables if name.startswith(f"tab_{t.id}_"))
        item, field = name[len(f"tab_{table.id}_"):].rsplit("_", 1)
        assert sheet == table.sheet
        label = str(ws.cell(row, 1).value)
        rows = {r.id: r.label for r in table.rows}
        if table.kind == "fordelning":
            assert label == ("SUMMA" if item == "summa" else rows[item])
            head = ws.cell(header_row(ws, "Kategori"), col).value
            assert head == (table.count_label if field == "antal" else "Andel")
        elif table.kind == "enkat":
            assert label == ("Antal inkomna enkäter" if item == "svar" else rows[item])
        elif table.kind == "manad":
            assert label == rows[item]
            assert ws.cell(header_row(ws, "Serie"), col).value == field.capitalize()
        else:
            assert label.strip() == (table.total_label if item == "total"
                                     else f"varav {rows[item].lower()}")


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_protection_and_only_inputs_unlocked(book: Callable[[str, int], Workbook], unit: str,
                                             tertial: int) -> None:
    wb = book(unit, tertial)
    by_sheet: dict[str, set[str]] = {}
    for sheet, row, col in named_cells(wb).values():
        by_sheet.setdefault(sheet, set()).add(f"{get_column_letter(col)}{row}")
    for ws in wb.worksheets:
        assert ws.protection.sheet, f"{ws.title} is not protected"
        if ws.sheet_state != "visible":
            continue
        unlocked = {c.coordinate for c in all_cells(ws) if not c.protection.locked}
        assert unlocked == by_sheet.get(ws.title, set()), ws.title
        for dim in [*ws.column_dimensions.values(), *ws.row_dimensions.values()]:
            assert dim.protection.locked, ws.title


def _expected_rule(name: str) -> tuple[str, str | None, tuple[str, ...], str]:
    """(type, operator, formulas, a word the Swedish messages must contain) for a named cell."""
    indicators = {i.id: i for i in CATALOG.indicators}
    if name.endswith("_kommentar"):
        return "textLength", "lessThanOrEqual", ("1000",), "tecken"
    if name.startswith("ind_") and name.endswith("_varde"):
        kind = indicators[name[4:-6]].kind
        if kind == "årsarbetare":
            return "decimal", "greaterThanOrEqual", ("0",), "årsarbetare"
        if kind == "mnkr":
            return "decimal", "greaterThanOrEqual", ("0",), "mnkr"
        return "whole", "greaterThanOrEqual", ("0",), "heltal"
    if name.endswith("_andel"):
        return "decimal", None, ("0", "1"), "100 %"  # None: Excel's default operator "between"
    return "whole", "greaterThanOrEqual", ("0",), "heltal"


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_validation_on_every_input_cell(book: Callable[[str, int], Workbook], unit: str,
                                        tertial: int) -> None:
    wb = book(unit, tertial)
    names = named_cells(wb)
    covered = {ws.title: validations(ws) for ws in wb.worksheets}
    for name, (sheet, row, col) in names.items():
        rules = covered[sheet].pop(f"{get_column_letter(col)}{row}", [])
        assert len(rules) == 1, name
        dv = rules[0]
        kind, operator, formulas, word = _expected_rule(name)
        assert dv.type == kind, name
        assert dv.operator == operator, name
        assert (dv.formula1, dv.formula2) == (formulas + (None,))[:2], name
        assert dv.showErrorMessage and dv.showInputMessage, name
        assert dv.errorStyle in (None, "stop"), name
        assert dv.prompt and dv.error and dv.promptTitle and dv.errorTitle, name
        assert word in (dv.prompt + " " + dv.error).lower(), (name, dv.prompt, dv.error)
        assert re.search(r"\b(ska|skriv|får)\b", (dv.prompt + " " + dv.error).lower()), name
    assert all(not left for left in covered.values()), "validation on a cell that is not an input"


def _expected_format(name: str) -> str:
    indicators = {i.id: i for i in CATALOG.indicators}
    if name.endswith("_kommentar"):
        return "@"
    if (name.startswith("ind_") and name.endswith("_varde")
            and indicators[name[4:-6]].kind in ("årsarbetare", "mnkr")):
        return "#,##0.0"
    if name.endswith("_andel"):
        return r"0.0\ %"
    return "#,##0"


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_number_formats_of_input_cells(book: Callable[[str, int], Workbook], unit: str,
                                       tertial: int) -> None:
    wb = book(unit, tertial)
    for name, (sheet, row, col) in named_cells(wb).items():
        assert wb[sheet].cell(row, col).number_format == _expected_format(name), name


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_hidden_meta_sheet(book: Callable[[str, int], Workbook], unit: str, tertial: int) -> None:
    wb = book(unit, tertial)
    ws = wb["_meta"]
    assert ws.sheet_state == "hidden"
    assert wb.sheetnames[-1] == "_meta"
    meta = {row[0]: row[1] for row in ws.values}
    assert meta["typ"] == "enhetsmall"
    assert meta["mall_id"] == "consolidate-enhetsmall"
    assert meta["mallversion"] == "1"
    assert meta["enhet"] == unit
    assert meta["enhetsnamn"] == CATALOG.unit(unit).name
    assert meta["period"] == f"2025-T{tertial}"
    assert meta["katalog"] == CATALOG.fingerprint
    assert meta["innehall"] == CATALOG.template_fingerprint(unit, Period(2025, tertial))
    assert all(isinstance(v, str) for v in meta.values())


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_instructions_first_and_in_swedish(book: Callable[[str, int], Workbook], unit: str,
                                           tertial: int) -> None:
    wb = book(unit, tertial)
    assert wb.sheetnames[0] == "Instruktioner"
    assert wb.active is not None and wb.active.title == "Instruktioner"
    text = "\n".join(str(v) for row in wb["Instruktioner"].values for v in row if v)
    assert CATALOG.unit(unit).name in text
    assert f"tertial {tertial} 2025" in text
    assert "Så fyller du i mallen" in text and "gula cellerna" in text
    assert CATALOG.board.contact in text
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    tables = [t.sheet for t in CATALOG.tables if unit in t.units]
    assert visible == ["Instruktioner", "Indikatorer", *tables]


def test_annual_indicator_only_in_the_third_tertial(book: Callable[[str, int], Workbook]) -> None:
    annual = [i for i in CATALOG.indicators if i.frequency == "årsbasis"]
    assert [i.id for i in annual] == ["stod_hemmaplan"]
    for unit in annual[0].units:
        for tertial in (1, 2, 3):
            wb = book(unit, tertial)
            shown = [ws.cell(r, 2).value for ws in [wb["Indikatorer"]]
                     for r in range(1, ws.max_row + 1)]
            assert ("ind_stod_hemmaplan_varde" in wb.defined_names) == (tertial == 3)
            assert (annual[0].name in shown) == (tertial == 3)


# --- live check cells ----------------------------------------------------------------------------

def _check_col(ws: Worksheet, first_head: str) -> int:
    row = header_row(ws, first_head)
    return next(c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value == "Kontroll")


def _turns_red(ws: Worksheet, ref: str) -> bool:
    for cf in ws.conditional_formatting:
        if ref in cf.sqref:
            for rule in cf.rules:
                fill = rule.dxf.fill if rule.dxf else None
                if (rule.type == "expression" and fill is not None
                        and str(fill.bgColor.rgb).upper().endswith("F8CBAD")):
                    return True
    return False


def test_live_checks_of_a_distribution(book: Callable[[str, int], Workbook]) -> None:
    wb = book("forebyggande", 2)
    names = named_cells(wb)
    ws = wb["Ärenden per källa"]
    col = _check_col(ws, "Kategori")
    first, last = (names["tab_arenden_per_kalla_polis_antal"][1],
                   names["tab_arenden_per_kalla_ovriga_antal"][1])
    summa = names["tab_arenden_per_kalla_summa_antal"][1]
    assert summa == last + 1 and ws.cell(summa, 1).value == "SUMMA"
    formula = str(ws.cell(summa, col).value).replace("$", "")
    assert formula.startswith("=")
    assert f"SUM(B{first}:B{last})<>B{summa}" in formula  # parts against SUMMA
    assert f"SUM(C{first}:C{last})" in formula and "100 %" in formula  # shares against 100 %
    assert f"C{summa}" in formula  # the SUMMA share itself
    for row in range(first, last + 1):  # each share against its count
        cell = str(ws.cell(row, col).value).replace("$", "")
        assert f"B{row}/B{summa}" in cell and f"C{row}" in cell
    for row in range(first, summa + 1):
        assert _turns_red(ws, f"{get_column_letter(col)}{row}"), row
    plain = wb["Service och myndighet"]
    names_rows = (names["tab_service_myndighet_service_antal"][1],
                  names["tab_service_myndighet_summa_antal"][1])
    check = str(plain.cell(names_rows[1], _check_col(plain, "Kategori")).value).replace("$", "")
    assert f"SUM(B{names_rows[0]}:B{names_rows[1] - 1})<>B{names_rows[1]}" in check


def test_live_check_of_a_complete_varav(book: Callable[[str, int], Workbook]) -> None:
    wb = book("myren", 2)
    names = named_cells(wb)
    ws = wb["Personalomsättning"]
    total = names["tab_personalomsattning_total_antal"][1]
    parts = [names[f"tab_personalomsattning_{r}_antal"][1]
             for r in ("pensionsavgang", "egen_begaran", "annan_orsak")]
    assert parts == [total + 1, total + 2, total + 3]
    formula = str(ws.cell(total, 3).value).replace("$", "")
    assert f"SUM(B{parts[0]}:B{parts[-1]})<>B{total}" in formula
    assert _turns_red(ws, f"C{total}")
    partial = wb["Tillbud och skador"]  # the parts need not add up: no sum check on the total
    assert partial.cell(names["tab_tillbud_skador_total_antal"][1], 3).value is None


def test_live_check_of_indicator_shares(book: Callable[[str, int], Workbook]) -> None:
    wb = book("barn_unga", 2)
    names = named_cells(wb)
    ws = wb["Indikatorer"]
    head = header_row(ws, "Målområde")
    share_col = next(c for c in range(1, 12) if ws.cell(head, c).value == "Andel (beräknas)")
    check_col = _check_col(ws, "Målområde")
    _, row, num_col = names["ind_andel_barn_utredning_taljare"]
    _, row2, den_col = names["ind_andel_barn_utredning_namnare"]
    assert row == row2
    num, den = f"{get_column_letter(num_col)}{row}", f"{get_column_letter(den_col)}{row}"
    assert f"{num}/{den}" in str(ws.cell(row, share_col).value)
    assert "%" in ws.cell(row, share_col).number_format
    assert f"{num}>{den}" in str(ws.cell(row, check_col).value)
    assert _turns_red(ws, f"{get_column_letter(check_col)}{row}")


@pytest.mark.parametrize(("tertial", "last_month"), [(1, "Apr"), (2, "Aug"), (3, "Dec")])
def test_live_check_of_the_monthly_series(book: Callable[[str, int], Workbook], tertial: int,
                                          last_month: str) -> None:
    wb = book("vuxen", tertial)
    ws = wb["Avslutade per månad"]
    head = header_row(ws, "Serie")
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value == last_month)
    jan = next(c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value == "Jan")
    row = named_cells(wb)["tab_avslutade_per_manad_avslutade_anstallningar_jan"][1]
    formula = str(ws.cell(row, _check_col(ws, "Serie")).value)
    assert (f"COUNT({get_column_letter(jan)}{row}:{get_column_letter(col)}{row})<{col - jan + 1}"
            in formula)
    assert f"jan–{last_month.lower()}" in formula


def assert_prints_a4_landscape(ws: Worksheet, head: str) -> None:
    """A sheet's print setup: A4 landscape, one page wide, `head` on the left of the running head
    and the sheet's name on its right."""
    setup = ws.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    # OOXML's default for a missing fitToWidth or fitToHeight is 1
    assert tuple(1 if n is None else int(n)
                 for n in (setup.fitToWidth, setup.fitToHeight)) == (1, 0), ws.title
    assert ws.oddHeader.left.text == head, ws.title
    assert ws.oddHeader.right.text == "&A" and ws.oddHeader.left.font == "Calibri,Regular"


@pytest.mark.parametrize(("unit", "tertial"), CASES)
def test_every_sheet_prints_a4_landscape_at_page_width_in_one_font(
        unit: str, tertial: int, book: Callable[[str, int], Workbook]) -> None:
    """Unit and period in the running head, the column heads frozen and repeated on paper, one
    font, and every locked text's longest word narrower than its column."""
    wb = book(unit, tertial)
    name = CATALOG.unit(unit).name
    for ws in (s for s in wb.worksheets if s.sheet_state == "visible"):
        assert_prints_a4_landscape(ws, f"{name} – T{tertial} 2025")
        fonts = {cell.font.name for row in ws.iter_rows() for cell in row if cell.value}
        assert fonts == {"Calibri"}, (ws.title, fonts)
        if ws.title == "Instruktioner":
            continue
        assert ws.freeze_panes == "A6" and ws.print_title_rows == "$5:$5", ws.title
        merged = {str(r) for r in ws.merged_cells.ranges}
        for row in ws.iter_rows(min_row=5):
            for cell in row:
                if cell.data_type == "s" and cell.value:
                    width = ws.column_dimensions[get_column_letter(cell.column)].width
                    longest = max(len(w) for w in str(cell.value).split())
                    assert width >= longest, (ws.title, cell.coordinate, width, cell.value)
        # Title and hint span the table, so a long one wraps instead of being cut at column A.
        assert {r.split(":")[0] for r in merged} >= {"A1", "A2"}, (ws.title, merged)
