"""A real office suite in the loop: templates, returned workbooks and the master as LibreOffice sees
them.

Every LibreOffice call runs headless with a fresh profile (Swedish locale, recalculate on load), and
files are converted in batches, one soffice call per target format and folder."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.worksheet.worksheet import Worksheet

from consolidate.catalog import Catalog
from consolidate.cli import cli
from consolidate.demo import load_seeds, unit_values
from consolidate.layout import build_layout
from consolidate.template import write_templates

from conftest import PERIOD, ROOT, fill
from lo_helpers import ODS, PDF, SOFFICE, XLSX, convert, pdf_pages_text, png_size, render_pages

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice Calc (soffice) is not installed on "
                                               "this machine; .ci/run installs "
                                               "libreoffice-calc-nogui when it is missing"),
]

# kept after the run so a person can look at the pages
OUTPUT = ROOT / "test-output" / "libreoffice"
HEADER_ROW = 5  # 1-based row of the column headings in templates
SUMMARY = "Sammanställning"


# ---- helpers -------------------------------------------------------------------------------------

def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return bool(a == b)


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _missing_words(phrase: str, text: str) -> list[str]:
    """Words of a phrase not on a PDF page: wrapped cells of neighbouring columns interleave in
    extracted text, so a whole phrase cannot be searched for, but each of its words can."""
    words = set(text.split())
    return [w for w in phrase.split() if w not in words]


def _grid(ws: Worksheet) -> dict[str, Any]:
    """Every non-blank cell of a sheet by reference (values as cached in the file)."""
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if not _blank(c.value)}


def _check_column(ws: Worksheet) -> int | None:
    for cell in ws[HEADER_ROW]:
        if cell.value == "Kontroll":
            return int(cell.column)
    return None


def _check_texts(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, row label) -> text of every non-empty live check cell ("Kontroll" column)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    found: dict[tuple[str, str], str] = {}
    for ws in wb.worksheets:
        col = _check_column(ws)
        if col is None:
            continue
        label_col = 2 if ws.title == "Indikatorer" else 1
        for row in range(HEADER_ROW + 1, ws.max_row + 1):
            text = ws.cell(row, col).value
            if not _blank(text):
                found[(ws.title, str(ws.cell(row, label_col).value).strip())] = str(text)
    return found


def _check_formulas(path: Path) -> int:
    """How many cells of "Kontroll" columns hold a formula (openpyxl, formulas not values)."""
    wb = openpyxl.load_workbook(path)
    count = 0
    for ws in wb.worksheets:
        col = _check_column(ws)
        if col is not None:
            count += sum(1 for row in range(HEADER_ROW + 1, ws.max_row + 1)
                         if str(ws.cell(row, col).value or "").startswith("="))
    return count


def _row_of(ws: Worksheet, label: str, col: int = 1) -> int:
    for row in range(1, ws.max_row + 1):
        if str(ws.cell(row, col).value or "").strip() == label:
            return row
    raise AssertionError(f"no row '{label}' in column {col} of {ws.title}")


def _column_of(ws: Worksheet, head: str, row: int) -> int:
    for cell in ws[row]:
        if cell.value == head:
            return int(cell.column)
    raise AssertionError(f"no column '{head}' in row {row} of {ws.title}")


def _validation_at(ws: Worksheet, ref: str) -> tuple[Any, ...] | None:
    for dv in ws.data_validations.dataValidation:
        if ref in dv.sqref:
            # "between" is the OOXML default operator, which xlsxwriter leaves out and LibreOffice
            # writes; a second operand only means something for between / notBetween, and
            # LibreOffice writes formula2="0" for single-operand rules, which changes nothing.
            operator = dv.operator or "between"
            second = dv.formula2 if operator in ("between", "notBetween") else None
            return (dv.type, operator, dv.formula1, second, bool(dv.allow_blank),
                    bool(dv.showErrorMessage), dv.errorTitle, dv.error, bool(dv.showInputMessage),
                    dv.promptTitle, dv.prompt)
    return None


_PROTECTION = ("sheet", "objects", "scenarios", "formatCells", "formatColumns", "formatRows",
               "insertColumns", "insertRows", "insertHyperlinks", "deleteColumns", "deleteRows",
               "selectLockedCells", "selectUnlockedCells", "sort", "autoFilter", "pivotTables")


def _protection(ws: Worksheet) -> dict[str, Any]:
    return {key: bool(getattr(ws.protection, key)) for key in _PROTECTION}


def _names(wb: Any) -> dict[str, list[tuple[str, str]]]:
    return {name: sorted((sheet, ref.replace("$", "")) for sheet, ref in dn.destinations)
            for name, dn in wb.defined_names.items()}


@pytest.fixture(scope="module")
def output_dir() -> Path:
    """test-output/libreoffice/, emptied once per run; what is written there stays for a person to
    open."""
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


# ---- 1. templates --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> list[Path]:
    return write_templates(catalog, PERIOD, tmp_path_factory.mktemp("lo_mallar"))


@pytest.fixture(scope="module")
def templates_pdf(templates: list[Path], output_dir: Path) -> list[Path]:
    return convert(templates, PDF, output_dir / "mallar")


@pytest.fixture(scope="module")
def templates_round_trip(templates: list[Path],
                         tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return convert(templates, XLSX, tmp_path_factory.mktemp("lo_mallar_xlsx"))


def test_every_template_converts_to_pdf(templates: list[Path], templates_pdf: list[Path],
                                        catalog: Catalog) -> None:
    assert len(templates) == len(catalog.units)
    for template, pdf in zip(templates, templates_pdf, strict=True):
        assert pdf.read_bytes()[:5] == b"%PDF-", pdf
        pages = pdf_pages_text(pdf)
        text = " ".join(pages)
        unit = catalog.unit(template.stem.split("_", 1)[1])
        # Every visible sheet prints at least one page; the hidden _meta sheet prints none.
        visible = [ws.title for ws in openpyxl.load_workbook(template).worksheets
                   if ws.sheet_state == "visible"]
        assert len(pages) >= len(visible), (pdf.name, len(pages), visible)
        assert "_meta" not in visible
        assert "Kontroll" in text and "Kommentar till nämnden" in text, pdf.name
        for ind in catalog.indicators_for(unit.id, PERIOD):
            assert not _missing_words(ind.name, text), (pdf.name, ind.name)
        for table in catalog.tables_for(unit.id, PERIOD):
            assert not _missing_words(table.title, text), (pdf.name, table.title)


def test_instruction_page_prints_every_line_in_full(templates: list[Path],
                                                    templates_pdf: list[Path]) -> None:
    clipped = []
    for template, pdf in zip(templates, templates_pdf, strict=True):
        first_page = " ".join(pdf_pages_text(pdf)[0].split())
        ws = openpyxl.load_workbook(template)["Instruktioner"]
        for row in ws.iter_rows(min_col=1, max_col=1):
            line = " ".join(str(row[0].value or "").split())
            if line and line not in first_page:
                clipped.append((pdf.name, line))
    assert not clipped, clipped


def test_template_round_trip_keeps_names_validation_and_protection(
        templates: list[Path], templates_round_trip: list[Path], catalog: Catalog) -> None:
    for original, saved in zip(templates, templates_round_trip, strict=True):
        before, after = openpyxl.load_workbook(original), openpyxl.load_workbook(saved)
        unit = original.stem.split("_", 1)[1]
        layout = build_layout(catalog, unit, PERIOD)
        assert after.sheetnames == before.sheetnames, saved.name
        names = _names(after)
        assert names == _names(before), saved.name
        for cell in layout.cells:
            assert names[cell.name] == [(cell.sheet, cell.ref)], (saved.name, cell.name)
        assert after["_meta"].sheet_state == "hidden"
        assert _grid(after["_meta"]) == _grid(before["_meta"])
        for title in before.sheetnames:
            ws_before, ws_after = before[title], after[title]
            assert ws_after.protection.sheet, f"{saved.name}: sheet {title} lost its protection"
            assert _protection(ws_after) == _protection(ws_before), (saved.name, title)
            assert len(ws_after.conditional_formatting) == len(ws_before.conditional_formatting), \
                (saved.name, title)
        for cell in layout.cells:
            ws_before, ws_after = before[cell.sheet], after[cell.sheet]
            rule = _validation_at(ws_after, cell.ref)
            assert rule is not None, f"{saved.name}: {cell.address} lost its data validation"
            assert rule == _validation_at(ws_before, cell.ref), (saved.name, cell.address)
            assert ws_after[cell.ref].protection.locked is False, \
                f"{saved.name}: {cell.address} became locked"
        for title in layout.sheets:
            assert after[title]["A1"].protection.locked is True, (saved.name, title)
        assert _check_formulas(saved) == _check_formulas(original) > 0, saved.name


def _changed(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    for name in changes:
        assert name in values, name
    return {**values, **changes}


@pytest.fixture(scope="module")
def check_cases(templates: list[Path], catalog: Catalog,
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Templates filled with openpyxl (no cached formula values), then opened and saved by
    LibreOffice."""
    seeds = load_seeds()
    by_unit = {p.stem.split("_", 1)[1]: p for p in templates}
    fore = unit_values(catalog, seeds, "forebyggande", PERIOD)
    barn = unit_values(catalog, seeds, "barn_unga", PERIOD)
    cases = {
        "ratt_forebyggande": ("forebyggande", fore),
        "ratt_barn_unga": ("barn_unga", barn),
        # Parts do not add up to SUMMA (a table without shares: only the SUMMA row can object).
        "fel_summa": ("forebyggande", _changed(fore, tab_service_myndighet_service_antal=fore[
            "tab_service_myndighet_service_antal"] + 5)),
        # Two shares do not match their counts; counts still add up to SUMMA and shares to 100 %.
        "fel_andel": ("forebyggande", _changed(
            fore,
            tab_arenden_per_kalla_polis_andel=fore["tab_arenden_per_kalla_polis_andel"] + 0.03,
            tab_arenden_per_kalla_bun_andel=fore["tab_arenden_per_kalla_bun_andel"] - 0.03)),
        # A varav part larger than its total, so the parts do not add up either.
        "fel_varav": ("forebyggande", _changed(fore, tab_personalomsattning_egen_begaran_antal=12)),
        # Numerator larger than denominator on the indicator sheet.
        "fel_taljare": ("barn_unga", _changed(barn, ind_andel_barn_utredning_taljare=barn[
            "ind_andel_barn_utredning_namnare"] + 1)),
    }
    folder = tmp_path_factory.mktemp("lo_kontroll")
    filled = [fill(by_unit[unit], values, folder / f"{name}.xlsx")
              for name, (unit, values) in cases.items()]
    saved = convert(filled, XLSX, tmp_path_factory.mktemp("lo_kontroll_xlsx"))
    return {name: (path, cases[name][1]) for name, path in zip(cases, saved, strict=True)}


def test_check_cells_are_empty_when_the_tables_add_up(
        check_cases: dict[str, tuple[Path, dict[str, Any]]], catalog: Catalog) -> None:
    for name in ("ratt_forebyggande", "ratt_barn_unga"):
        path, values = check_cases[name]
        assert _check_formulas(path) > 0, f"{name}: LibreOffice dropped the check formulas"
        assert _check_texts(path) == {}, name
    # The same recalculation computed the other formulas: proof that the empty checks were
    # evaluated.
    path, values = check_cases["ratt_forebyggande"]
    ws = openpyxl.load_workbook(path, data_only=True)["Avslutade per månad"]
    months = sum(v for k, v in values.items() if k.startswith("tab_avslutade_per_manad_"))
    row = _row_of(ws, "Avslutade anställningar")
    assert ws.cell(row, _column_of(ws, "Summa", HEADER_ROW)).value == months
    path, values = check_cases["ratt_barn_unga"]
    ws = openpyxl.load_workbook(path, data_only=True)["Indikatorer"]
    ind = next(i for i in catalog.indicators if i.id == "andel_barn_utredning")
    share = ws.cell(_row_of(ws, ind.name, col=2),
                    _column_of(ws, "Andel (beräknas)", HEADER_ROW)).value
    expected = (values["ind_andel_barn_utredning_taljare"]
                / values["ind_andel_barn_utredning_namnare"])
    assert share == pytest.approx(expected, rel=1e-12)


def test_check_cells_object_when_the_tables_do_not_add_up(
        check_cases: dict[str, tuple[Path, dict[str, Any]]], catalog: Catalog) -> None:
    path, values = check_cases["fel_summa"]
    parts = sum(values[f"tab_service_myndighet_{r}_antal"]
                for r in ("service", "myndighetsutovning"))
    assert parts != values["tab_service_myndighet_summa_antal"]
    assert _check_texts(path) == {
        ("Service och myndighet", "SUMMA"): f"Delarna blir {parts}, inte SUMMA"}

    path, values = check_cases["fel_andel"]
    assert _check_texts(path) == {
        ("Ärenden per källa", "Polis"): "Andelen stämmer inte med antalet",
        ("Ärenden per källa", "BUN"): "Andelen stämmer inte med antalet"}

    path, values = check_cases["fel_varav"]
    table = next(t for t in catalog.tables if t.id == "personalomsattning")
    parts = sum(values[f"tab_personalomsattning_{r.id}_antal"] for r in table.rows)
    egen = next(r for r in table.rows if r.id == "egen_begaran")
    assert _check_texts(path) == {
        ("Personalomsättning", table.total_label): f"Delarna blir {parts}, inte totalen",
        ("Personalomsättning", f"varav {egen.label.lower()}"): "Större än totalen",
    }

    path, values = check_cases["fel_taljare"]
    ind = next(i for i in catalog.indicators if i.id == "andel_barn_utredning")
    assert _check_texts(path) == {("Indikatorer", ind.name): "Täljaren är större än nämnaren"}


# ---- 2. returned workbooks -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def returned(templates: list[Path], catalog: Catalog,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One shared folder filled with openpyxl, and the same files re-saved by LibreOffice (xlsx, and
    ods -> xlsx)."""
    seeds = load_seeds()
    root = tmp_path_factory.mktemp("lo_inlamning")
    original = root / "original" / str(PERIOD)
    files = [fill(t, unit_values(catalog, seeds, t.stem.split("_", 1)[1], PERIOD),
                  original / t.name)
             for t in templates]
    convert(files, XLSX, root / "libreoffice_xlsx" / str(PERIOD))
    ods = convert(files, ODS, root / "ods")
    convert(ods, XLSX, root / "libreoffice_ods" / str(PERIOD))
    # A unit head who also left the .ods beside the .xlsx.
    stray = root / "libreoffice_ods" / str(PERIOD) / ods[0].name
    shutil.copy2(ods[0], stray)
    return {"original": root / "original", "xlsx": root / "libreoffice_xlsx",
            "ods": root / "libreoffice_ods", "stray_ods": stray}


def _run_json(invoke: Callable[..., Result], folder: Path) -> tuple[Result, dict[str, Any]]:
    result = invoke("run", folder, "--json")
    assert result.exit_code in (0, 1), result.output
    return result, json.loads(result.stdout)


def _master_sheets(path: Path) -> dict[str, dict[str, Any]]:
    wb = openpyxl.load_workbook(path, data_only=True)
    # Register, log and meta name files, hashes and times; everything else is figures.
    skip = {"Inlämning", "Valideringslogg", "Om sammanställningen", "_meta"}
    return {ws.title: _grid(ws) for ws in wb.worksheets if ws.title not in skip}


def test_returned_workbooks_saved_by_libreoffice_consolidate_to_the_same_figures(
        returned: dict[str, Path], invoke: Callable[..., Result], catalog: Catalog) -> None:
    runs = {key: _run_json(invoke, returned[key]) for key in ("original", "xlsx", "ods")}
    for key, (result, report) in runs.items():
        states = {r["enhet"]: r["status"] for r in report["inlamning"] if r["enhet"]}
        assert states == {u: "levererad" for u in catalog.unit_ids()}, (key, states)
        assert result.exit_code == 0, (key, result.output)
    base_codes = sorted((f["kod"], f["cell"]) for f in runs["original"][1]["fynd"])
    assert sorted((f["kod"], f["cell"]) for f in runs["xlsx"][1]["fynd"]) == base_codes
    extra = [f for f in runs["ods"][1]["fynd"] if f["fil"].endswith(".ods")]
    assert [f["kod"] for f in extra] == ["ods"]
    assert (sorted((f["kod"], f["cell"]) for f in runs["ods"][1]["fynd"] if f not in extra)
            == base_codes)

    masters = {key: _master_sheets(Path(report["huvudarbetsbok"]))
               for key, (_, report) in runs.items()}
    original = masters["original"]
    assert SUMMARY in original and original[SUMMARY]
    for key in ("xlsx", "ods"):
        assert masters[key].keys() == original.keys(), key
        for title, grid in original.items():
            other = masters[key][title]
            diff = {ref: (value, other.get(ref)) for ref, value in grid.items()
                    if not _close(value, other.get(ref))}
            diff.update({ref: (None, value) for ref, value in other.items() if ref not in grid})
            assert not diff, \
                f"{key}: sheet {title} differs from the original folder's master: {diff}"

    # An anchor computed here, not by the tool: the board's share is pooled numerators over pooled
    # denominators of the units that report it.
    wb = openpyxl.load_workbook(Path(runs["ods"][1]["huvudarbetsbok"]), data_only=True)
    ws = wb[SUMMARY]
    head = _row_of(ws, "Indikator", col=2)
    seeds = load_seeds()
    for ind in catalog.indicators:
        if ind.id not in ("belaggning_stodboende", "forebyggande_insatser"):
            continue
        vals = [unit_values(catalog, seeds, u, PERIOD) for u in ind.units]
        if ind.is_share:
            expected = (sum(v[f"ind_{ind.id}_taljare"] for v in vals)
                        / sum(v[f"ind_{ind.id}_namnare"] for v in vals))
        else:
            expected = sum(v[f"ind_{ind.id}_varde"] for v in vals)
        row = next(r for r in range(head + 1, ws.max_row + 1)
                   if str(ws.cell(r, 2).value or "").startswith(ind.name))
        assert (ws.cell(row, _column_of(ws, PERIOD.heading, head)).value
                == pytest.approx(expected, rel=1e-12)), ind.id


def test_a_bare_ods_file_gets_a_swedish_finding(returned: dict[str, Path],
                                                invoke: Callable[..., Result]) -> None:
    result = invoke("check", "--json", returned["stray_ods"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [(f["kod"], f["allvarlighet"]) for f in report["fynd"]] == [("ods", "fel")]
    message = report["fynd"][0]["meddelande"]
    assert "OpenDocument" in message and "Spara som" in message and ".xlsx" in message


# ---- 3. master workbook --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lo_demo") / "exempel"
    result = CliRunner().invoke(cli, ["demo", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # the demo's latest period, after the 2026 plan change
    master = folder / "sammanställning_2026-T1.xlsx"
    assert master.is_file(), result.output
    return master


@pytest.fixture(scope="module")
def master_pdf(demo_master: Path, output_dir: Path) -> Path:
    (pdf,) = convert([demo_master], PDF, output_dir)
    return pdf


def _summary_pages(pages: list[str]) -> list[int]:
    """1-based pages whose running head names the Sammanställning sheet."""
    found = []
    for number, text in enumerate(pages, start=1):
        head = [line.strip() for line in text.splitlines() if line.strip()][:3]
        if SUMMARY in head:
            found.append(number)
    return found


def test_master_converts_to_pdf_and_summary_pages_render(master_pdf: Path, catalog: Catalog,
                                                         output_dir: Path) -> None:
    assert master_pdf.read_bytes()[:5] == b"%PDF-"
    pages = pdf_pages_text(master_pdf)
    summary = _summary_pages(pages)
    assert summary, f"no page with the running head {SUMMARY} among {len(pages)} pages"
    assert summary == list(range(1, len(summary) + 1)), "Sammanställning is the first sheet"
    text = " ".join(pages[p - 1] for p in summary)
    for ind in catalog.indicators:
        missing = _missing_words(ind.name, text)
        assert not missing, \
            f"indicator missing on the printed Sammanställning: {ind.name} ({missing})"
    for number in summary:
        flat = " ".join(pages[number - 1].split())
        # The heading row repeats on every page; its first and last column on the same page means
        # the sheet is printed one page wide.
        assert "Målområde" in flat and "Kommentarer från enheterna" in flat, \
            f"page {number} is not one page wide"

    pngs = render_pages(master_pdf, summary, output_dir, "sammanställning")
    for png in pngs:
        width, height = png_size(png)
        # A4 landscape at 110 dpi: about 1286 x 909
        assert width > height > 500, (png, width, height)
        assert png.stat().st_size > 30_000, f"{png} looks blank ({png.stat().st_size} bytes)"


def test_master_values_and_formulas_survive_libreoffice_recalculation(
        demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    (saved,) = convert([demo_master], XLSX, tmp_path_factory.mktemp("lo_master_xlsx"))
    formulas = openpyxl.load_workbook(demo_master)
    cached = openpyxl.load_workbook(demo_master, data_only=True)
    recalculated = openpyxl.load_workbook(saved, data_only=True)
    assert recalculated.sheetnames == cached.sheetnames
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    written = cached[ws.title][cell.coordinate].value
                    computed = recalculated[ws.title][cell.coordinate].value
                    assert _close(computed, written), (ws.title, cell.coordinate, cell.value,
                                                       written, computed)
    for ws in cached.worksheets:
        grid, other = _grid(ws), _grid(recalculated[ws.title])
        diff = {ref: (value, other.get(ref)) for ref, value in grid.items()
                if not _close(value, other.get(ref))}
        assert not diff, f"sheet {ws.title} changed in LibreOffice: {dict(list(diff.items())[:10])}"
