"""Öppna jämförelser: `consolidate run … --jamforelse FIL` puts Kolada's latest figures for the
municipality, Riket and the similar municipalities beside the board's, from Kolada's API answer
(JSON, v2 and v3) or a CSV export; bad comparison files are warnings, and the master is written.

The shared folder is the seed figures of 2025-T3 in templates made by our own code; the comparison
files are written here in Kolada's documented shape with figures chosen by hand, and every expected
value below is worked out by hand from them."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.periods import Period
from test_catalog import REAL_TEXT
from test_master import Summary, build_board

import audit as A

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "rapport.schema.json")
                    .read_text(encoding="utf-8"))
PERIOD = Period(2025, 3)
SHARE = "andel_barn_utredning"           # a share with two decimals: 0.00 %
COST = "kostnad_externa_placeringar"     # N33100, in Kolada's unit kr/vårddygn
SHARE_KPI = "N31999"                     # a constructed id for the share, in this test only
OWN, COUNTRY, PEERS = "Exempelkommun i Kolada", "Riket", "Liknande kommuner (IFO)"

# (kpi, municipality, year, value as Kolada gives it: percent for shares)
ROWS = [
    (SHARE_KPI, "9999", 2023, 4.1), (SHARE_KPI, "9999", 2024, 3.9), (SHARE_KPI, "9999", 2025, None),
    (SHARE_KPI, "0000", 2023, 4.4), (SHARE_KPI, "0000", 2024, 4.6), (SHARE_KPI, "0000", 2025, 4.5),
    # 2025: two of five peers (too few for a mean); 2024: three of five -> (4 + 5 + 6) / 3 = 5.0
    (SHARE_KPI, "9991", 2025, 5.0), (SHARE_KPI, "9992", 2025, 6.0),
    (SHARE_KPI, "9991", 2024, 4.0), (SHARE_KPI, "9992", 2024, 5.0), (SHARE_KPI, "9993", 2024, 6.0),
    ("N33100", "9999", 2025, 4790), ("N33100", "0000", 2025, 4470), ("N33100", "0000", 2024, 4330),
    # four of five peers -> (4150 + 4640 + 4380 + 4960) / 4 = 4532.5
    ("N33100", "9991", 2025, 4150), ("N33100", "9992", 2025, 4640), ("N33100", "9993", 2025, 4380),
    ("N33100", "9994", 2025, 4960),
]
# What the master must show: (indicator, column) -> (value, number format)
EXPECTED = {
    (SHARE, OWN): (0.039, '0.00\\ %" (2024)"'),
    (SHARE, COUNTRY): (0.045, '0.00\\ %" (2025)"'),
    (SHARE, PEERS): (0.05, '0.00\\ %" (2024)"'),
    (COST, OWN): (4790, '#,##0.0" kr/vårddygn (2025)"'),
    (COST, COUNTRY): (4470, '#,##0.0" kr/vårddygn (2025)"'),
    (COST, PEERS): (4532.5, '#,##0.0" kr/vårddygn (2025)"'),
}


def catalog_text(jamforelse: str | None = None, cost_keys: str | None = None) -> str:
    """The real catalog, the share given a Kolada id, and its comparison keys as given."""
    text = REAL_TEXT.replace("decimaler = 2\ntolerans = 0.05\n",
                             f'decimaler = 2\ntolerans = 0.05\nkolada = "{SHARE_KPI}"\n', 1)
    if jamforelse is not None:
        start = text.index("[jamforelse]\n")
        end = text.index("\n\n", start)
        text = text[:start] + jamforelse.rstrip("\n") + text[end:]
    if cost_keys is not None:
        start = text.index('kolada = "N33100"\n')
        end = text.index("\n", text.index("kolada_skillnad", start))
        text = text[:start] + cost_keys.rstrip("\n") + text[end:]
    return text


def kolada_values(rows: list[tuple[str, str, int, float | None]]) -> list[dict[str, Any]]:
    """Kolada's API v3 data records: per kpi, municipality and period, values split by gender."""
    return [{"kpi": kpi, "municipality": place, "period": year,
             "values": [{"gender": "T", "count": 1, "status": "", "value": value,
                         "isdeleted": False}]}
            for kpi, place, year, value in rows]


def kolada_json(path: Path, rows: list[tuple[str, str, int, float | None]],
                **top: Any) -> Path:
    """An answer of Kolada's API v3, saved as a controller saves it."""
    values = kolada_values(rows)
    doc = {"count": len(values), "next_url": None, "previous_url": None, "values": values, **top}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
           template_cache: Callable[[str, str], Path]) -> tuple[Path, Path, Catalog]:
    """The folder of 2025-T3, every unit delivered, and the catalog with the share's Kolada id."""
    root = tmp_path_factory.mktemp("jamforelse")
    folder = root / "delad"
    build_board(folder, catalog, template_cache, PERIOD)
    path = root / "katalog.toml"
    path.write_text(catalog_text(), encoding="utf-8")
    return folder, path, load_catalog(path)


def run(invoke: Callable[..., Result], shared: tuple[Path, Path, Catalog], out: Path,
        *args: Any, katalog: Path | None = None) -> tuple[Result, dict[str, Any]]:
    folder, catalog_path, _ = shared
    result = invoke("run", folder, "--out", out, "--katalog", katalog or catalog_path, "--json",
                    *args)
    assert result.exit_code == 0, result.output  # every unit delivered: comparisons never change it
    assert "Traceback" not in result.output
    assert out.is_file()
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)  # the comparison's warnings are findings like any other
    return result, report


def comparison_findings(report: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in report["fynd"]:
        if item["kod"].startswith("jamforelse_"):
            assert item["allvarlighet"] == "varning", item  # never an error: mail still sends
            found.setdefault(item["kod"], []).append(item["meddelande"])
    return found


def test_the_master_shows_kolada_beside_the_board(invoke: Callable[..., Result],
                                                  shared: tuple[Path, Path, Catalog],
                                                  tmp_path: Path) -> None:
    data = kolada_json(tmp_path / "kolada.json", ROWS)
    out = tmp_path / "sammanställning.xlsx"
    _, report = run(invoke, shared, out, "--jamforelse", data)
    assert comparison_findings(report) == {}
    wb = openpyxl.load_workbook(out)
    summary = Summary(wb["Sammanställning"], shared[2])
    heads = summary.headings
    # the comparison stands after the periods, before Börläge
    assert heads.index("T3 2025") + 1 == heads.index(OWN) < heads.index(COUNTRY) < heads.index(
        PEERS) < heads.index("Börläge")
    for (ind, column), (value, code) in EXPECTED.items():
        cell = summary.cell(ind, column)
        assert cell.value == pytest.approx(value), (ind, column)
        assert cell.number_format == code, (ind, column)
        assert "RKA/Kolada" in cell.comment.text or column == PEERS
    assert "3 av 5 kommuner" in summary.cell(SHARE, PEERS).comment.text
    assert "Egen bearbetning" in summary.cell(SHARE, PEERS).comment.text
    assert "Annan definition" in summary.cell(COST, COUNTRY).comment.text
    # an indicator without a Kolada id has nothing beside it
    assert summary.cell("forebyggande_insatser", COUNTRY).value is None
    notes = [c.value for c in wb["Sammanställning"]["A"] if isinstance(c.value, str)]
    assert any("Källa: RKA/Kolada" in n and "egen bearbetning" in n for n in notes)
    assert any(n.startswith("†)") and "N33100" in n and "vårddygn" in n for n in notes)
    about = " ".join(str(c.value) for c in wb["Om sammanställningen"]["A"] if c.value)
    assert "Källa: RKA/Kolada" in about and "kolada.json" in about
    assert "9991, 9992, 9993, 9994, 9995" in about and "Riket (0000)" in about


def test_the_charts_get_kolada_lines(invoke: Callable[..., Result],
                                     shared: tuple[Path, Path, Catalog], tmp_path: Path) -> None:
    data = kolada_json(tmp_path / "kolada.json", ROWS)
    out = tmp_path / "sammanställning.xlsx"
    run(invoke, shared, out, "--jamforelse", data)
    wb = openpyxl.load_workbook(out)
    lines = [(r[0], r[1:]) for r in wb["_diagramdata"].iter_rows(values_only=True)
             if isinstance(r[0], str) and r[0].endswith("(Kolada)")]
    # the share: Riket 2025 and the peers' 2024 mean; the cost: Riket and the peers, 2025
    assert sorted(name for name, _ in lines) == sorted([
        "Riket 2025 (Kolada)", f"{PEERS} 2024 (Kolada)", "Riket 2025 (Kolada)",
        f"{PEERS} 2025 (Kolada)"])
    levels = {(name, round(values[0], 4)) for name, values in lines}
    assert levels == {("Riket 2025 (Kolada)", 0.045), (f"{PEERS} 2024 (Kolada)", 0.05),
                      ("Riket 2025 (Kolada)", 4470), (f"{PEERS} 2025 (Kolada)", 4532.5)}
    assert all(len(set(values)) == 1 for _, values in lines)  # a level line across the periods
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in z.namelist()
                  if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    share_chart = next(c for c in charts if f"{PEERS} 2024 (Kolada)" in c)
    cost_chart = next(c for c in charts if f"{PEERS} 2025 (Kolada)" in c)
    assert share_chart.count("<c:valAx>") == 1     # Kolada's share on the chart's own axis
    assert cost_chart.count("<c:valAx>") == 2      # kr/vårddygn on a second axis, named
    assert "Kolada: kr/vårddygn" in cost_chart


def test_kolada_v2_answer_reads_the_same(invoke: Callable[..., Result],
                                         shared: tuple[Path, Path, Catalog],
                                         tmp_path: Path) -> None:
    """API v2: period as a string, next_page, and the values split by gender (only T is read)."""
    values = []
    for kpi, place, year, value in ROWS:
        genders = [{"count": 1, "gender": "K", "status": "", "value": 99.0},
                   {"count": 1, "gender": "T", "status": "", "value": value},
                   {"count": 1, "gender": "M", "status": "", "value": 1.0}]
        values.append({"kpi": kpi, "municipality": place, "period": str(year), "values": genders})
    data = tmp_path / "v2.json"
    data.write_text(json.dumps({"values": values, "count": len(values), "next_page": None,
                                "previous_page": None}), encoding="utf-8")
    out = tmp_path / "sammanställning.xlsx"
    _, report = run(invoke, shared, out, "--jamforelse", data)
    assert comparison_findings(report) == {}
    summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], shared[2])
    for (ind, column), (value, _) in EXPECTED.items():
        assert summary.cell(ind, column).value == pytest.approx(value), (ind, column)


CSV_LONG = """\ufeffNyckeltal från Kolada, exporterade 2026-02-01
Nyckeltal;Kommun;År;Kön;Värde
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});Exempelkommun;2024;Totalt;3,9
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});Exempelkommun;2024;Kvinnor;3,1
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});Riket;2025;Totalt;4,5
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});Borås (9991);2024;Totalt;4,0
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});9992;2024;Totalt;5,0
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});9993;2024;Totalt;6,0
Barn 0–20 år aktuella för utredning, andel (%) ({kpi});Alla kommuner (ovägt medel);2024;Totalt;4,7
N33100 Kostnad per vårddygn;Exempelkommun;2025;Totalt;4 790
N33100 Kostnad per vårddygn;Riket;2025;Totalt;4 470
N33100 Kostnad per vårddygn;9991;2025;Totalt;4 150
N33100 Kostnad per vårddygn;9992;2025;Totalt;4 640
N33100 Kostnad per vårddygn;9993;2025;Totalt;4 380
N33100 Kostnad per vårddygn;9994;2025;Totalt;4 960
N33100 Kostnad per vårddygn;9995;2025;Totalt;..
"""


def test_a_csv_export_reads_the_same(invoke: Callable[..., Result],
                                     shared: tuple[Path, Path, Catalog], tmp_path: Path) -> None:
    """A long table with a title line, semicolons, decimal comma, a thousands space, women and men
    beside the total, municipalities by name or id, a municipality nobody compares with, ".."."""
    data = tmp_path / "kolada.csv"
    data.write_text(CSV_LONG.format(kpi=SHARE_KPI), encoding="utf-8")
    out = tmp_path / "sammanställning.xlsx"
    _, report = run(invoke, shared, out, "--jamforelse", data)
    assert comparison_findings(report) == {}
    summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], shared[2])
    for (ind, column), (value, code) in EXPECTED.items():
        assert summary.cell(ind, column).value == pytest.approx(value), (ind, column)
        assert summary.cell(ind, column).number_format == code


def test_a_wide_csv_with_a_column_per_year(tmp_path: Path, shared: tuple[Path, Path, Catalog]
                                           ) -> None:
    """Comma-separated, a column per year, ids and names side by side, Windows-1252, and a figure
    written with a thousands comma and a decimal point."""
    from consolidate.kolada import place_names, read_kolada

    data = tmp_path / "kolada.csv"
    data.write_text("Kommun-id,Kommun,Nyckeltals-id,Nyckeltal,2023,2024,2025\n"
                    f'0000,Riket,{SHARE_KPI},"Barn, andel (%)",4.4,4.6,"4,5"\n'
                    '9999,Exempelkommun,N33100,"Kostnad, kr/vårddygn",,"4,790.0",\n',
                    encoding="cp1252")
    read = read_kolada(data, place_names(shared[2]))
    assert read.findings == []
    assert read.values == {(SHARE_KPI, "0000", 2023): 4.4, (SHARE_KPI, "0000", 2024): 4.6,
                           (SHARE_KPI, "0000", 2025): 4.5, ("N33100", "9999", 2024): 4790.0}


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # name: (make the file, finding code, a word of its message)
    "an Excel workbook": (lambda p: _workbook(p / "kolada.xlsx"), "jamforelse_fil",
                          "Excel-arbetsbok"),
    "Kolada's metadata": (
        lambda p: _text(p / "kpi.json", json.dumps({"values": [{"id": "N33100", "title": "x"}]})),
        "jamforelse_fil", "metadata"),
    "some other JSON": (
        lambda p: _text(p / "annat.json", json.dumps({"data": [1, 2]})), "jamforelse_fil",
        "\"values\""),
    "broken JSON": (
        lambda p: _text(p / "trasig.json", '{"values": [{"kpi": "N33100",'), "jamforelse_fil",
        "ingen giltig JSON"),
    "the first page of several": (
        lambda p: kolada_json(p / "sida1.json", ROWS, next_url="https://api.kolada.se/v3/x?page=2"),
        "jamforelse_fil", "nästa sida"),
    "a CSV of something else": (
        lambda p: _text(p / "annat.csv", "Datum;Belopp\n2025-01-01;12\n"), "jamforelse_fil",
        "rubrikrad"),
    "an old export naming key figures without ids": (
        lambda p: _text(p / "gammal.csv", "Kommun/Landsting;Nyckeltal;År;Visat Värde\n"
                                          "Riket;Kostnad individ- och familjeomsorg, kr/inv;2011;"
                                          "3314.03\n"), "jamforelse_fil", "utan Kolada-id"),
    "an empty file": (lambda p: _text(p / "tom.json", ""), "jamforelse_fil", "tom"),
    "rows that are no numbers": (
        lambda p: _text(p / "delvis.csv", CSV_LONG.format(kpi=SHARE_KPI).replace(
            "Totalt;4 470", "Totalt;ca 4470")), "jamforelse_rader", "ca 4470"),
    "unknown key figures": (
        lambda p: kolada_json(p / "okand.json", [r for r in ROWS if r[0] == "N33100"]
                              + [("N99999", "0000", 2025, 1.0)]),
        "jamforelse_okant_nyckeltal", "N99999"),
    "a key figure of the catalog missing": (
        lambda p: kolada_json(p / "utan.json", [r for r in ROWS if r[0] == "N33100"]),
        "jamforelse_nyckeltal_saknas", SHARE_KPI),
    "the municipality absent": (
        lambda p: kolada_json(p / "utan_kommunen.json", [r for r in ROWS if r[1] != "9999"]),
        "jamforelse_kommun_saknas", "Exempelkommun (9999)"),
    "the country absent": (
        lambda p: kolada_json(p / "utan_riket.json", [r for r in ROWS if r[1] != "0000"]),
        "jamforelse_kommun_saknas", "Riket (0000)"),
    "old years only": (
        lambda p: kolada_json(p / "gammal.json", [("N33100", "0000", 2019, 3900.0)]
                              + [r for r in ROWS if not (r[0] == "N33100" and r[1] == "0000")]),
        "jamforelse_gammalt_ar", "2020–2024 saknas"),
    "no value up to the board's year": (
        lambda p: kolada_json(p / "framtid.json", [(SHARE_KPI, "0000", 2026, 4.0)]
                              + [r for r in ROWS if not (r[0] == SHARE_KPI and r[1] == "0000")]),
        "jamforelse_varde_saknas", "till och med 2025"),
}


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["Nyckeltal", "Kommun", "År", "Värde"])
    wb.save(path)
    return path


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_comparison_file_is_a_warning_and_the_master_is_written(
        invoke: Callable[..., Result], shared: tuple[Path, Path, Catalog], tmp_path: Path,
        case: str) -> None:
    make, code, words = BAD_FILES[case]
    data = make(tmp_path)
    before = data.read_bytes()
    out = tmp_path / "sammanställning.xlsx"
    _, report = run(invoke, shared, out, "--jamforelse", data)
    found = comparison_findings(report)
    assert code in found, found
    assert any(words in message for message in found[code]), found[code]
    assert data.read_bytes() == before  # the comparison file is never changed
    wb = openpyxl.load_workbook(out)
    log = " ".join(str(c.value) for row in wb["Valideringslogg"].iter_rows() for c in row)
    assert words in log
    # the board's own figures are all there, with or without the comparison
    summary = Summary(wb["Sammanställning"], shared[2])
    assert summary.cell(SHARE, "2025-T3").value is not None
    result = invoke("run", shared[0], "--out", tmp_path / "text.xlsx", "--katalog", shared[1],
                    "--jamforelse", data)
    lines = [line for line in result.output.splitlines() if line.startswith("Jämförelse: ")]
    assert any(words in line for line in lines), result.output


def test_the_group_of_kolada_gives_its_own_mean(invoke: Callable[..., Result],
                                               shared: tuple[Path, Path, Catalog],
                                               tmp_path: Path) -> None:
    katalog = tmp_path / "katalog.toml"
    katalog.write_text(catalog_text('[jamforelse]\nkommun = "9999"\nliknande_grupp = "G33857"\n'),
                       encoding="utf-8")
    rows = [r for r in ROWS if r[1] in ("9999", "0000")] + [(SHARE_KPI, "G33857", 2025, 5.5)]
    data = tmp_path / "kolada.json"
    kolada_json(data, rows)
    doc = json.loads(data.read_text(encoding="utf-8"))
    doc["values"][-1]["values"][0]["count"] = 7  # Kolada's count: members with a value
    data.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "sammanställning.xlsx"
    _, report = run(invoke, shared, out, "--jamforelse", data, katalog=katalog)
    # N33100 has no value for the group: said, and the cell shows "–"
    assert list(comparison_findings(report)) == ["jamforelse_varde_saknas"]
    wb = openpyxl.load_workbook(out)
    summary = Summary(wb["Sammanställning"], load_catalog(katalog))
    cell = summary.cell(SHARE, "Liknande kommuner")
    assert cell.value == pytest.approx(0.055) and cell.number_format == '0.00\\ %" (2025)"'
    assert "kommungruppen G33857 (7 kommuner med värde)" in cell.comment.text
    assert "Källa: RKA/Kolada" in cell.comment.text  # Kolada's own mean: Kolada is the source
    assert summary.cell(COST, "Liknande kommuner").value == "–"
    about = " ".join(str(c.value) for c in wb["Om sammanställningen"]["A"] if c.value)
    assert "kommungrupp G33857" in about and "egen bearbetning" not in about


def test_a_key_figure_that_is_not_comparable_is_not_shown(invoke: Callable[..., Result],
                                                         shared: tuple[Path, Path, Catalog],
                                                         tmp_path: Path) -> None:
    katalog = tmp_path / "katalog.toml"
    katalog.write_text(catalog_text(cost_keys='kolada = "N33100"\nkolada_jamforbar = false\n'
                                              'kolada_skillnad = "Kostnad per vårddygn, inte '
                                              'nämndens totala kostnad."\n'), encoding="utf-8")
    data = kolada_json(tmp_path / "kolada.json", ROWS)
    out = tmp_path / "sammanställning.xlsx"
    run(invoke, shared, out, "--jamforelse", data, katalog=katalog)
    wb = openpyxl.load_workbook(out)
    summary = Summary(wb["Sammanställning"], load_catalog(katalog))
    for column in (OWN, COUNTRY, PEERS):
        cell = summary.cell(COST, column)
        assert cell.value == "ej jämförbar"
        assert "Inte jämförbart: Kostnad per vårddygn" in cell.comment.text
    names = [r[0] for r in wb["_diagramdata"].iter_rows(values_only=True)]
    assert f"{PEERS} 2025 (Kolada)" not in names  # only the share's lines
    assert summary.cell(SHARE, COUNTRY).value == pytest.approx(0.045)


def test_both_a_file_and_a_fetch_is_a_usage_error(invoke: Callable[..., Result],
                                                  shared: tuple[Path, Path, Catalog],
                                                  tmp_path: Path) -> None:
    data = kolada_json(tmp_path / "kolada.json", ROWS)
    result = invoke("run", shared[0], "--out", tmp_path / "x.xlsx", "--katalog", shared[1],
                    "--jamforelse", data, "--hamta")
    assert result.exit_code == 2 and "antingen --jamforelse FIL eller --hamta" in result.output
    result = invoke("run", shared[0], "--out", tmp_path / "x.xlsx", "--katalog", shared[1],
                    "--jamforelse", tmp_path / "saknas.json")
    assert result.exit_code == 2 and "Jämförelsefilen" in result.output and "finns inte" in (
        result.output)
    assert not (tmp_path / "x.xlsx").exists()


def test_a_masked_master_with_comparisons_leaks_no_small_count(
        invoke: Callable[..., Result], shared: tuple[Path, Path, Catalog], tmp_path: Path) -> None:
    """Kolada's figures are public and shown as they are in the masked master; the attacker's audit
    (tests/audit.py) still finds every "<5" as wide as 1 … roj_grans − 1."""
    folder, katalog, catalog = shared
    data = kolada_json(tmp_path / "kolada.json", ROWS)
    pubs = {}
    for name, extra in (("omaskerad", []), ("maskerad", ["--maskera"])):
        out, export = tmp_path / f"{name}.xlsx", tmp_path / f"export_{name}"
        result = invoke("run", folder, "--out", out, "--export", export, "--katalog", katalog,
                        "--jamforelse", data, *extra)
        assert result.exit_code == 0, result.output
        pubs[name] = A.read_files(out, catalog, export)
        summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], catalog)
        assert summary.cell(SHARE, COUNTRY).value == pytest.approx(0.045)
    plain, masked = pubs["omaskerad"], pubs["maskerad"]
    assert not plain.problems, plain.problems
    assert not A.clear_leaks(masked, A.truth_of(plain))
    result = A.audit(masked)
    assert result.ok, result.report()


def test_the_library_gives_the_comparison_in_the_board_model(shared: tuple[Path, Path, Catalog],
                                                             tmp_path: Path) -> None:
    from consolidate import consolidate_folder
    from consolidate.comparemodel import Place

    folder, _, catalog = shared
    board = consolidate_folder(folder, catalog, comparison=kolada_json(tmp_path / "k.json", ROWS))
    assert board.comparison is not None
    row = board.comparison.rows[SHARE]
    country = row.get(Place.COUNTRY)
    assert country is not None and (country.value, country.year) == (pytest.approx(0.045), 2025)
    peers = row.get(Place.SIMILAR)
    assert peers is not None and (peers.value, peers.year) == (pytest.approx(0.05), 2024)
    assert not (folder / "sammanställning_2025-T3.xlsx").exists()  # nothing written
