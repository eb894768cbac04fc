"""The master workbook read back with openpyxl: the board's 004 table, status rule, sheets,
layout."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.cli import cli
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period, parse_period

from conftest import fill, in_plan, sha256

ROOT = Path(__file__).resolve().parent.parent
T3_2023 = Period(2023, 3)

# The board's table in 004_…txt, as printed in the report: nuläge, utfall 2023, börläge,
# uppföljning, riktning. Numbers are the displayed text; börläge None = no number (text target).
TABLE_004 = {
    "forebyggande_insatser": ("1 400", "1 931", "1 600", "Tertial", "Ökning"),
    "icke_bistandsbedomda_vuxen": ("37", "35", "60", "Tertial", "Ökning"),
    "andel_barn_utredning": ("5,00 %", "4,20 %", "4,50 %", "Tertial", "Minskning"),
    "andel_vuxna_utredning": ("1,30 %", "0,80 %", "1,15 %", "Tertial", "Minskning"),
    "andel_insats_under_utredning": ("20 %", "17 %", "35 %", "Tertial", "Ökning"),
    "utredningar_60_dagar_vuxen": ("63 %", "60 %", "85 %", "Tertial", "Ökning"),
    "utredningar_90_dagar_barn": ("19 %", "20 %", "30 %", "Tertial", "Ökning"),
    "medarbetare_utredning": ("169,0", "170,2", "144,0", "Tertial", "Minskning"),
    "medarbetare_tidiga_insatser": ("106,0", "108,3", "122,0", "Tertial", "Ökning"),
    "belaggning_myren": ("60 %", "63 %", "93 %", "Månatligen", "Ökning"),
    "kostnad_externa_placeringar": ("177,2 mnkr", "177,9 mnkr", None, "Tertial", "Minskning"),
    "belaggning_stodboende": ("92,0 %", "92,4 %", "90,0 %", "Tertial", "Ökning"),
    "stod_hemmaplan": ("43", "43", "51", "Årsbasis", "Ökning"),
}

# The number format each figure must be shown with (Excel codes; Swedish Excel shows "," and " ").
# The space before "%" and "mnkr" is escaped or quoted, so a Swedish LibreOffice keeps it
# (test_number_formats).
FORMATS = {
    "forebyggande_insatser": "#,##0", "icke_bistandsbedomda_vuxen": "#,##0",
    "andel_barn_utredning": r"0.00\ %", "andel_vuxna_utredning": r"0.00\ %",
    "andel_insats_under_utredning": r"0\ %", "utredningar_60_dagar_vuxen": r"0\ %",
    "utredningar_90_dagar_barn": r"0\ %", "medarbetare_utredning": "#,##0.0",
    "medarbetare_tidiga_insatser": "#,##0.0", "belaggning_myren": r"0\ %",
    "kostnad_externa_placeringar": '#,##0.0" mnkr"', "belaggning_stodboende": r"0.0\ %",
    "stod_hemmaplan": "#,##0",
}

# Status by the rule, worked out by hand from the report (outcome vs nuläge and börläge):
EXPECTED_STATUS = {
    "forebyggande_insatser": "Grön",         # 1 931 ≥ 1 600, ökning: target reached
    "icke_bistandsbedomda_vuxen": "Röd",     # 35 < nuläge 37: moved away from 60
    "andel_barn_utredning": "Grön",          # 4,20 % ≤ 4,50 %, minskning
    "andel_vuxna_utredning": "Grön",         # 0,80 % ≤ 1,15 %, minskning
    "andel_insats_under_utredning": "Röd",   # 17 % < nuläge 20 %: away from 35 %
    "utredningar_60_dagar_vuxen": "Röd",     # 60 % < nuläge 63 %
    "utredningar_90_dagar_barn": "Gul",      # 19 % -> 20 %, towards 30 %, 1 p.p. > tolerance 0,5
    "medarbetare_utredning": "Röd",          # 169 -> 170,2 while the target is 144 (minskning)
    "medarbetare_tidiga_insatser": "Gul",    # 106 -> 108,3 towards 122 (tolerance 0,5)
    "belaggning_myren": "Gul",               # 60 % -> 63 % towards 93 %
    "kostnad_externa_placeringar": "Röd",    # 177,2 -> 177,9, no numeric target, minskning wanted
    "belaggning_stodboende": "Grön",         # 92,4 % ≥ 90 %
    "stod_hemmaplan": "Röd",                 # 43 -> 43: unchanged
}


def excel_sv(value: float, code: str) -> str:
    """How Swedish Excel shows a number with one of the simple format codes used for indicators."""
    # A quoted literal after the number is shown as it stands: " mnkr", " kr/vårddygn (2025)".
    match = re.fullmatch(r'(#,##)?0(?:\.(0+))?(\\ %)?(?:"([^"]+)")?', code)
    assert match, f"unexpected number format {code!r}"
    grouped, decimals, percent, suffix = (match.group(1), len(match.group(2) or ""), match.group(3),
                                          match.group(4))
    number = value * 100 if percent else value
    text = f"{number:,.{decimals}f}" if grouped else f"{number:.{decimals}f}"
    text = text.replace(",", " ").replace(".", ",")
    return text + (" %" if percent else "") + (suffix or "")


def build_board(folder: Path, catalog: Catalog, template: Callable[[str, str], Path],
                period: Period, skip: tuple[str, ...] = (),
                change: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Every unit's workbook for the period, filled with the seed figures; returns what was
    typed."""
    seeds = load_seeds()
    typed = {}
    for unit in catalog.unit_ids():
        if unit in skip:
            continue
        values = {**unit_values(catalog, seeds, unit, period), **(change or {}).get(unit, {})}
        fill_as_text(fill(template(unit, str(period)), values,
                          folder / str(period) / f"{period}_{unit}.xlsx"),
                     {k: v for k, v in values.items() if isinstance(v, str) and v.startswith("=")})
        typed[unit] = values
    return typed


def fill_as_text(path: Path, texts: dict[str, str]) -> Path:
    """Text typed with a leading apostrophe in Excel: stored as a string even when it starts with
    '='."""
    if texts:
        wb = openpyxl.load_workbook(path)
        for name, text in texts.items():
            for sheet, ref in wb.defined_names[name].destinations:
                cell = wb[sheet][ref.replace("$", "")]
                cell.value = text
                cell.data_type = "s"
        wb.save(path)
    return path


def run_cli(*args: Any) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


class Summary:
    """The Sammanställning sheet, indexed by indicator id and column heading."""

    def __init__(self, ws: Any, catalog: Catalog) -> None:
        self.ws = ws
        header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Målområde")
        self.header_row = header
        # Period columns are headed as the board writes them ("T3 2023"); tests name them 2023-T3.
        self.col = {re.sub(r"^T([123]) (\d{4})$", r"\2-T\1", str(ws.cell(header, c).value)): c
                    for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
        self.headings = [ws.cell(header, c).value for c in range(1, ws.max_column + 1)]
        self.row: dict[str, int] = {}
        # The board's period is the last period column; an indicator that starts later has no row.
        current = [parse_period(h) for h in self.col if re.fullmatch(r"\d{4}-T[123]", str(h))][-1]
        for ind in catalog.indicators:
            if ind.span.start is not None and current < ind.span.start:
                continue
            hits = [r for r in range(header + 1, ws.max_row + 1)
                    if isinstance(ws.cell(r, 2).value, str)
                    and ws.cell(r, 2).value.startswith(ind.name)]
            assert len(hits) == 1, f"{ind.id}: {len(hits)} rows in Sammanställning"
            self.row[ind.id] = hits[0]

    def cell(self, indicator: str, heading: str) -> Any:
        return self.ws.cell(self.row[indicator], self.col[heading])


@pytest.fixture(scope="module", params=["snabb", "publik"])
def board_2023(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
               catalog: Catalog,
               template_cache: Callable[[str, str], Path]) -> Iterator[tuple[Path, Any]]:
    """The 2023 board; every test on it runs on xlsxwriter's fast internals and on its public
    API."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "publik":
            patch.setenv("CONSOLIDATE_XLSX_PUBLIC", "1")
        yield _board_2023(tmp_path_factory, catalog, template_cache)


def _board_2023(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
                template_cache: Callable[[str, str], Path]) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("delad")
    build_board(folder, catalog, template_cache, T3_2023, change={
        "vuxen": {"ind_kostnad_externa_placeringar_kommentar": "=HYPERLINK(\"http://x\";\"klicka\")",
                  "ind_medarbetare_utredning_kommentar": "-2 vakanser tillsatta"},
        "barn_unga": {"ind_kostnad_externa_placeringar_kommentar": "+3 placeringar hemtagna",
                      "ind_medarbetare_utredning_kommentar": "@sektionens prognos"},
    })
    result = run_cli("run", folder)
    assert result.exit_code == 0, result.output
    master = folder / "sammanställning_2023-T3.xlsx"
    assert master.is_file()
    return folder, openpyxl.load_workbook(master)


def test_summary_shows_the_004_table(board_2023: tuple[Path, Any], catalog: Catalog) -> None:
    summary = Summary(board_2023[1]["Sammanställning"], catalog)
    assert summary.ws.cell(summary.header_row, 3).value.startswith("Nuläge")
    assert "2023-T3" in summary.col and "T3 2023" in summary.headings
    for ind_id, (baseline, outcome, target, frequency, direction) in TABLE_004.items():
        cell = summary.cell(ind_id, "2023-T3")
        assert isinstance(cell.value, float | int), (ind_id, cell.value)
        assert cell.number_format == FORMATS[ind_id], ind_id
        assert excel_sv(cell.value, cell.number_format) == outcome, ind_id
        base = summary.ws.cell(summary.row[ind_id], 3)
        assert base.number_format == FORMATS[ind_id]
        assert excel_sv(base.value, base.number_format) == baseline, ind_id
        goal = summary.cell(ind_id, "Börläge")
        if target is None:
            assert goal.value == "Minska kostnaderna för externa placeringar"
        else:
            assert excel_sv(goal.value, goal.number_format) == target, ind_id
        assert summary.cell(ind_id, "Uppföljning").value == frequency
        assert summary.cell(ind_id, "Riktning").value == direction


def test_summary_status_follows_the_rule(board_2023: tuple[Path, Any], catalog: Catalog) -> None:
    summary = Summary(board_2023[1]["Sammanställning"], catalog)
    fills: dict[str, set[str]] = {}
    for ind_id, expected in EXPECTED_STATUS.items():
        cell = summary.cell(ind_id, "Status")
        assert cell.value.split("\n")[0] == f"● {expected}", (ind_id, cell.value)
        fills.setdefault(expected, set()).add(cell.fill.fgColor.rgb)
        # One period only: no trend can be judged yet.
        assert "bedömning saknas" in summary.cell(ind_id, "Trend").value
    # One colour per state, and different colours for different states.
    assert all(len(colours) == 1 for colours in fills.values())
    assert len({next(iter(c)) for c in fills.values()}) == 3
    rule = " ".join(str(c.value) for row in summary.ws.iter_rows() for c in row
                    if isinstance(c.value, str))
    assert ("Statusregel" in rule and "Grön" in rule and "Gul" in rule and "Röd" in rule
            and "Grå" in rule)


def test_unit_comments_are_text_never_formulas(board_2023: tuple[Path, Any],
                                               catalog: Catalog) -> None:
    wb = board_2023[1]
    summary = Summary(wb["Sammanställning"], catalog)
    cost = summary.cell("kostnad_externa_placeringar", "Kommentarer från enheterna")
    staff = summary.cell("medarbetare_utredning", "Kommentarer från enheterna")
    for cell, typed in ((cost, "=HYPERLINK(\"http://x\";\"klicka\")"),
                        (cost, "+3 placeringar hemtagna"),
                        (staff, "-2 vakanser tillsatta"), (staff, "@sektionens prognos")):
        assert cell.data_type == "s" and typed in cell.value
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.data_type == "f"]
    assert formulas == []
    data_texts = {c.value for row in wb["Data"].iter_rows() for c in row
                  if isinstance(c.value, str)}
    assert "=HYPERLINK(\"http://x\";\"klicka\")" in data_texts


def test_sheets_layout_and_properties(board_2023: tuple[Path, Any]) -> None:
    wb = board_2023[1]
    for name in ("Sammanställning", "Per enhet", "Ärenden per källa", "Avslutade per månad",
                 "Personalomsättning",
                 "Diagram", "Inlämning", "Valideringslogg", "Data", "Om sammanställningen"):
        assert name in wb.sheetnames
    assert wb.sheetnames[0] == "Sammanställning"
    assert wb["Sammanställning"].freeze_panes == "C5"
    for name in ("Sammanställning", "Per enhet", "Inlämning", "Valideringslogg", "Data"):
        ws = wb[name]
        assert ws.freeze_panes is not None, name
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        # One page wide (fitToWidth absent means its OOXML default, 1), as many pages tall as
        # needed.
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
        assert ws.column_dimensions["A"].width > 8, name
    assert "2023-T3" in wb.properties.title
    assert "tertial 3 2023" in wb.properties.subject
    assert "Socialnämnden" in wb.properties.title
    about = " ".join(str(c.value) for row in wb["Om sammanställningen"].iter_rows() for c in row
                     if c.value)
    assert "Statusregel" in about and "täljare och nämnare" in about


def test_per_unit_sheet_has_each_units_value(board_2023: tuple[Path, Any],
                                             catalog: Catalog) -> None:
    ws = board_2023[1]["Per enhet"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Indikator")
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    row = {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1)}
    forebyggande = row["Antal som tar del av förebyggande insatser"]
    # Seeds: Förebyggande enheten 1 412 + Barn- och ungdomssektionen 519 = 1 931.
    assert ws.cell(forebyggande, col["Förebyggande enheten"]).value == 1412
    assert ws.cell(forebyggande, col["Barn- och ungdomssektionen"]).value == 519
    assert ws.cell(forebyggande, col["Nämnden"]).value == 1931
    stodboende = row[next(i.name for i in catalog.indicators if i.id == "belaggning_stodboende")]
    assert ws.cell(stodboende, col["Beroendeenheten"]).value == pytest.approx(18560 / 20075)
    assert ws.cell(stodboende, col["Socialpsykiatrin"]).value == pytest.approx(5723 / 6205)
    assert (ws.cell(stodboende, col["Nämnden"]).value
            == pytest.approx((18560 + 5723) / (20075 + 6205)))


def test_native_charts_one_per_indicator(board_2023: tuple[Path, Any], catalog: Catalog) -> None:
    master = board_2023[0] / "sammanställning_2023-T3.xlsx"
    with zipfile.ZipFile(master) as archive:
        charts = [n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        titles = [archive.read(n).decode("utf-8") for n in charts]
    assert len(charts) == len([i for i in catalog.indicators if in_plan(i, T3_2023)])
    assert any("Antal som tar del av förebyggande insatser" in t for t in titles)
    assert all("Utfall" in t for t in titles)


def test_data_sheet_is_an_excel_table_of_every_value(board_2023: tuple[Path, Any]) -> None:
    ws = board_2023[1]["Data"]
    assert "Data" in ws.tables
    ref = ws.tables["Data"].ref
    last_row = int(re.search(r"(\d+)$", ref).group(1))
    assert last_row == ws.max_row
    heads = [c.value for c in ws[1]]
    rows = [dict(zip(heads, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    hit = [r for r in rows if r["Enhets-id"] == "forebyggande"
           and r["Id"] == "forebyggande_insatser" and r["Fält-id"] == "varde"]
    assert len(hit) == 1 and hit[0]["Värde"] == 1412 and hit[0]["Period"] == "2023-T3"
    # Names where a reader expects them, ids in their own columns.
    assert (hit[0]["Enhet"], hit[0]["Fält"]) == ("Förebyggande enheten", "Värde")
    assert hit[0]["Indikator eller tabell"] == "Antal som tar del av förebyggande insatser"
    assert hit[0]["Flik"] == "Indikatorer" and re.fullmatch(r"[A-Z]+\d+", hit[0]["Cell"])
    assert {r["Enhets-id"] for r in rows} == {"forebyggande", "barn_unga", "vuxen", "myren",
                                              "beroende", "socialpsykiatri"}


def test_register_and_log_sheets(board_2023: tuple[Path, Any]) -> None:
    folder, wb = board_2023
    ws = wb["Inlämning"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Enhet")
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1)
            if ws.cell(r, 1).value}
    assert len(rows) == 6
    vuxen = rows["Vuxensektionen"]
    assert ws.cell(vuxen, col["Status"]).value == "levererad"
    assert ws.cell(vuxen, col["Fil"]).value == "2023-T3/2023-T3_vuxen.xlsx"
    assert (sha256(folder / "2023-T3" / "2023-T3_vuxen.xlsx")
            == ws.cell(vuxen, col["SHA-256"]).value)  # all 64
    assert ws.cell(vuxen, col["Fel"]).value == 0
    assert "0 fynd" in wb["Valideringslogg"]["A1"].value


def test_same_inputs_give_the_same_bytes(board_2023: tuple[Path, Any], tmp_path: Path) -> None:
    folder = board_2023[0]
    first, second = tmp_path / "a" / "m.xlsx", tmp_path / "b" / "m.xlsx"
    first.parent.mkdir()
    second.parent.mkdir()
    assert run_cli("run", folder, "--out", first).exit_code == 0
    assert run_cli("run", folder, "--out", second).exit_code == 0
    assert sha256(first) == sha256(second)


def test_master_is_replaced_by_rename_and_leaves_no_temp_files(board_2023: tuple[Path, Any],
                                                               tmp_path: Path) -> None:
    folder = board_2023[0]
    out = tmp_path / "m.xlsx"
    assert run_cli("run", folder, "--out", out).exit_code == 0
    before, inode = sha256(out), out.stat().st_ino
    umask = os.umask(0o027)
    try:
        assert run_cli("run", folder, "--out", out).exit_code == 0
    finally:
        os.umask(umask)
    assert out.stat().st_ino != inode
    # Not the temp file's owner-only mode: what any new file in the folder would get.
    assert out.stat().st_mode & 0o777 == 0o640
    assert sha256(out) == before
    leftovers = [p.name for p in list(tmp_path.iterdir()) + list(folder.rglob("*"))
                 if p.name.startswith(".~")]
    assert leftovers == []


def test_failed_run_leaves_the_previous_master_untouched(board_2023: tuple[Path, Any],
                                                         tmp_path: Path) -> None:
    folder = board_2023[0]
    out = tmp_path / "m.xlsx"
    assert run_cli("run", folder, "--out", out).exit_code == 0
    before = sha256(out)
    blocker = tmp_path / "export_is_a_file"
    blocker.write_text("x")
    result = run_cli("run", folder, "--out", out, "--export", blocker)
    assert result.exit_code == 2
    assert "Fel:" in result.output
    assert sha256(out) == before
    as_folder = tmp_path / "a_folder"
    as_folder.mkdir()
    result = run_cli("run", folder, "--out", as_folder)
    assert result.exit_code == 2 and as_folder.is_dir() and list(as_folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")] == []


def test_unit_tables_are_summed_and_shares_recomputed(tmp_path: Path) -> None:
    """A catalog where two units report 'ärenden per källa': counts add up, shares come from the
    sums."""
    text = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
    text = text.replace('id = "arenden_per_kalla"\ntyp = "fordelning"\nflik = "Ärenden per källa"\n'
                        'rubrik = "Varifrån kommer ärendena"\n'
                        'beskrivning = "Avslutade ärenden under perioden '
                        'fördelade på varifrån de kom."\nenheter = ["forebyggande"]',
                        'id = "arenden_per_kalla"\ntyp = "fordelning"\nflik = "Ärenden per källa"\n'
                        'rubrik = "Varifrån kommer ärendena"\n'
                        'beskrivning = "Avslutade ärenden under perioden '
                        'fördelade på varifrån de kom."\nenheter = ["forebyggande", "barn_unga"]')
    assert 'enheter = ["forebyggande", "barn_unga"]\nrader = ["Polis"' in text
    catalog_path = tmp_path / "katalog.toml"
    catalog_path.write_text(text, encoding="utf-8")
    catalog = load_catalog(catalog_path)
    templates = tmp_path / "mallar"
    assert run_cli("template", "--period", "2023-T3", "--out", templates, "--katalog",
                   catalog_path).exit_code == 0
    # Seed 001: Resurscentrum 2009 for one unit and 2011 for the other (counts, rounded shares,
    # SUMMA).
    polis_to_ovriga = {
        "forebyggande": ([184, 150, 89, 85, 137, 47, 43, 38], [24, 19, 12, 11, 18, 6, 6, 5], 773),
        "barn_unga": ([226, 1244, 101, 76, 201, 101, 43, 42], [11, 61, 5, 4, 10, 5, 2, 2], 2034),
    }
    rows = ["polis", "bun", "anhoriga_bekanta", "sjukvard_psykiatrivard", "berord_vardnadshavare",
            "socialtjansten", "anonym", "ovriga"]
    folder = tmp_path / "delad"
    typed = {}
    for unit in catalog.unit_ids():
        values = unit_values(catalog, load_seeds(), unit, T3_2023)
        if unit in polis_to_ovriga:
            counts, shares, total = polis_to_ovriga[unit]
            for row, count, share in zip(rows, counts, shares, strict=True):
                values[f"tab_arenden_per_kalla_{row}_antal"] = count
                values[f"tab_arenden_per_kalla_{row}_andel"] = share / 100
            values["tab_arenden_per_kalla_summa_antal"] = total
            values["tab_arenden_per_kalla_summa_andel"] = 1
        fill(templates / f"2023-T3_{unit}.xlsx", values, folder / f"2023-T3_{unit}.xlsx")
        typed[unit] = values
    out = tmp_path / "m.xlsx"
    result = run_cli("run", folder, "--out", out, "--katalog", catalog_path)
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    ws = wb["Ärenden per källa"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Kategori")
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    lines = {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1)}
    sums = [a + b for a, b in zip(polis_to_ovriga["forebyggande"][0],
                                  polis_to_ovriga["barn_unga"][0], strict=True)]
    grand = 773 + 2034
    assert sum(sums) == grand
    for label, expected in zip(["Polis", "BUN", "Anhöriga/bekanta", "Sjukvård/Psykiatrivård",
                                "Berörd/Vårdnadshavare",
                                "Socialtjänsten", "Anonym", "Övriga"], sums, strict=True):
        assert ws.cell(lines[label], col["Totalt"]).value == expected
        assert ws.cell(lines[label], col["Andel"]).value == pytest.approx(expected / grand)
    assert ws.cell(lines["SUMMA"], col["Totalt"]).value == grand
    assert ws.cell(lines["SUMMA"], col["Andel"]).value == pytest.approx(1.0)
    # BUN: 1 394 of 2 807 = 49,7 %, not the mean of 19 % and 61 % (40 %).
    assert ws.cell(lines["BUN"], col["Andel"]).value == pytest.approx(1394 / 2807)
    # The monthly series and the varav-table are summed over all six units.
    months = wb["Avslutade per månad"]
    mhead = next(r for r in range(1, 10) if months.cell(r, 1).value == "Avslutade anställningar")
    mcol = {months.cell(mhead, c).value: c for c in range(1, months.max_column + 1)}
    total_row = next(r for r in range(mhead + 1, months.max_row + 1)
                     if months.cell(r, 1).value == "Totalt")
    for month in ("jan", "sep", "dec"):
        expected = sum(v[f"tab_avslutade_per_manad_avslutade_anstallningar_{month}"]
                       for v in typed.values())
        assert months.cell(total_row, mcol[month.capitalize()]).value == expected
    staff = wb["Personalomsättning"]
    total = sum(v["tab_personalomsattning_total_antal"] for v in typed.values())
    assert total in [c.value for row in staff.iter_rows() for c in row]


def test_incomplete_underlag_is_named_not_judged(
        tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path]) -> None:
    """Vuxensektionen did not deliver: its share of multi-unit sums is missing, and the board must
    see that."""
    folder = tmp_path / "delad"
    typed = build_board(folder, catalog, template_cache, T3_2023, skip=("vuxen",))
    out = tmp_path / "m.xlsx"
    result = run_cli("run", folder, "--out", out)
    assert result.exit_code == 1
    wb = openpyxl.load_workbook(out)
    summary = Summary(wb["Sammanställning"], catalog)
    staff = summary.cell("medarbetare_utredning", "2023-T3")
    assert staff.value == pytest.approx(
        typed["barn_unga"]["ind_medarbetare_utredning_varde"])  # 98,5 of 170,2
    assert (staff.font.i and staff.comment is not None
            and "saknar Vuxensektionen" in staff.comment.text)
    for ind_id in ("medarbetare_utredning", "medarbetare_tidiga_insatser",
                   "kostnad_externa_placeringar"):
        status = summary.cell(ind_id, "Status").value
        assert status == "● Grå\nOfullständigt underlag: saknar Vuxensektionen", ind_id
        assert summary.cell(ind_id, "Trend").value == "– bedömning saknas"
    assert (summary.cell("icke_bistandsbedomda_vuxen", "Status").value
            == "● Grå\nEj rapporterad: saknar Vuxensektionen")
    # Complete indicators keep their status and plain style.
    assert summary.cell("forebyggande_insatser", "Status").value.startswith("● Grön")
    whole = summary.cell("forebyggande_insatser", "2023-T3")
    assert whole.value == 1931 and not whole.font.i and whole.comment is None
    # Per enhet marks the board total the same way.
    ws = wb["Per enhet"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Indikator")
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    row = next(r for r in range(header + 1, ws.max_row + 1)
               if ws.cell(r, 1).value
               == next(i.name for i in catalog.indicators if i.id == "medarbetare_utredning"))
    assert ws.cell(row, col["Vuxensektionen"]).value == "ej rapporterad"
    total = ws.cell(row, col["Nämnden"])
    assert total.comment is not None and "Vuxensektionen" in total.comment.text
    # The chart leaves the partial value out rather than plotting a fall to 98,5.
    with zipfile.ZipFile(out) as archive:
        charts = [archive.read(n).decode("utf-8") for n in archive.namelist()
                  if n.startswith("xl/charts/chart")]
    staff_chart = next(c for c in charts if "Antal medarbetare som arbetar med utredningar" in c)
    assert "98.5" not in staff_chart
    prevent_chart = next(c for c in charts if "Antal som tar del av förebyggande insatser" in c)
    assert "<c:v>1931</c:v>" in prevent_chart
