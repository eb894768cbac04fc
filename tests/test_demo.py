"""`consolidate demo`: five periods, the last after a plan change, one unit missing, one file with
errors, and the master."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from test_master import TABLE_004, Summary, excel_sv

PERIODS = ["2023-T3", "2025-T1", "2025-T2", "2025-T3", "2026-T1"]


def table(ws: Any, first: str) -> tuple[dict[str, int], list[int]]:
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == first)
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)
           if ws.cell(header, c).value}
    return col, list(range(header + 1, ws.max_row + 1))


def typed(folder: Path, period: str, unit: str, name: str) -> Any:
    """What the example typed into a named cell of a unit's workbook, read back with openpyxl."""
    wb = openpyxl.load_workbook(folder / period / f"{period}_{unit}.xlsx")
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")].value


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any]:
    from click.testing import CliRunner

    from consolidate.cli import cli

    folder = tmp_path_factory.mktemp("demo") / "exempel"
    result = CliRunner().invoke(cli, ["demo", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    master = folder / "sammanställning_2026-T1.xlsx"
    return folder, result.output, openpyxl.load_workbook(master)


def test_demo_folder_has_five_periods_one_missing_unit_and_one_faulty_file(
        demo: tuple[Path, str, Any]) -> None:
    folder, output, _ = demo
    # a folder per tertial, and the example's comparison file where --hamta keeps Kolada's answers
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == PERIODS + ["jamforelse"]
    for period in PERIODS[:-1]:
        assert len(list((folder / period).glob("*.xlsx"))) == 6, period
    # 2026-T1: Myren has merged into barn_unga and hands in nothing; socialpsykiatri is missing.
    assert sorted(p.name for p in (folder / "2026-T1").glob("*.xlsx")) == [
        "2026-T1_barn_unga.xlsx", "2026-T1_beroende.xlsx", "2026-T1_forebyggande.xlsx",
        "2026-T1_vuxen.xlsx"]
    assert str(folder / "sammanställning_2026-T1.xlsx") in output
    assert "Socialpsykiatrin" in output and "Vuxensektionen" in output and "Myren" not in output


def test_demo_master_register_and_log(demo: tuple[Path, str, Any]) -> None:
    wb = demo[2]
    ws = wb["Inlämning"]
    col, rows = table(ws, "Enhet")
    state = {ws.cell(r, 1).value: (ws.cell(r, col["Status"]).value, ws.cell(r, col["Fel"]).value,
                                   ws.cell(r, col["Fil"]).value)
             for r in rows if ws.cell(r, 1).value}
    assert state["Socialpsykiatrin"][0] == "saknas"
    assert state["Vuxensektionen"][0] == "underkänd" and state["Vuxensektionen"][1] >= 1
    assert state["Vuxensektionen"][2] == "2026-T1/2026-T1_vuxen.xlsx"
    assert sum(1 for s in state.values() if s[0] == "levererad") == 3
    assert "Ungdomsboendet Myren" not in state  # merged: not expected, so not missing
    log = wb["Valideringslogg"]
    lcol, lrows = table(log, "Allvarlighet")
    errors = [(log.cell(r, lcol["Fil"]).value, log.cell(r, lcol["Cell"]).value) for r in lrows
              if log.cell(r, lcol["Allvarlighet"]).value == "fel"]
    assert errors and all(f == "2026-T1/2026-T1_vuxen.xlsx" and c for f, c in errors)
    assert len(errors) == state["Vuxensektionen"][1]


def test_demo_summary_has_history_and_the_004_outcomes(demo: tuple[Path, str, Any],
                                                       catalog: Catalog) -> None:
    summary = Summary(demo[2]["Sammanställning"], catalog)
    assert [h for h in summary.col if str(h).startswith("20")] == PERIODS
    for ind_id, (_, outcome, *_rest) in TABLE_004.items():
        cell = summary.cell(ind_id, "2023-T3")
        assert excel_sv(cell.value, cell.number_format) == outcome, ind_id


def test_demo_summary_says_which_units_are_missing(demo: tuple[Path, str, Any],
                                                   catalog: Catalog) -> None:
    summary = Summary(demo[2]["Sammanställning"], catalog)
    for ind_id in ("medarbetare_utredning", "medarbetare_tidiga_insatser",
                   "kostnad_externa_placeringar", "icke_bistandsbedomda"):
        status = summary.cell(ind_id, "Status").value
        # Vuxensektionen handed in a file with errors: underkänd, not missing.
        assert (status.startswith("● Grå")
                and "Ofullständigt underlag: underkänd: Vuxensektionen" in status), ind_id
    status = summary.cell("belaggning_stodboende", "Status").value
    assert "Ofullständigt underlag: saknar Socialpsykiatrin" in status
    # Only the vuxen section reports this one: no value at all.
    status = summary.cell("andel_vuxna_utredning", "Status").value
    assert status.startswith("● Grå") and "Ej rapporterad" in status and "Vuxensektionen" in status
    assert summary.cell("andel_vuxna_utredning", "2026-T1").value == "–"
    # Indicators whose units all delivered are judged as usual; Myren's is reported by barn_unga
    # now.
    assert not summary.cell("forebyggande_insatser", "Status").value.startswith("● Grå")
    assert not summary.cell("belaggning_myren", "Status").value.startswith("● Grå")


def test_demo_shows_the_2026_plan_change(demo: tuple[Path, str, Any], catalog: Catalog) -> None:
    folder, _, wb = demo
    summary = Summary(wb["Sammanställning"], catalog)
    name = summary.ws.cell
    # Retired after 2025-T3: history kept, not judged, "ej aktuell" after.
    retired = "icke_bistandsbedomda_vuxen"
    assert summary.cell(retired, "Status").value == "● Grå\nAvslutad 2025-T3"
    assert summary.cell(retired, "2026-T1").value == "ej aktuell"
    assert summary.cell(retired, "2025-T3").value == typed(folder, "2025-T3", "vuxen",
                                                           f"ind_{retired}_varde")
    # New from 2026-T1: "ej aktuell" before, a note, and the part barn_unga typed (vuxen was
    # rejected).
    new = "icke_bistandsbedomda"
    assert [summary.cell(new, p).value for p in PERIODS[:-1]] == ["ej aktuell"] * 4
    assert summary.cell(new, "2026-T1").value == typed(folder, "2026-T1", "barn_unga",
                                                       f"ind_{new}_varde")
    assert "Ny från 2026-T1." in name(summary.row[new], 2).value.split("\n")
    # the börläge for 2026 of { 2026 = 110, 2027 = 130 }
    assert summary.cell(new, "Börläge").value == 110
    # Re-targeted: 30 % for 2025, 35 % for 2026, new nuläge 28 % per 2025-12-31; judged against
    # those.
    retarget = "utredningar_90_dagar_barn"
    assert summary.cell(retarget, "Börläge").value == pytest.approx(0.35)
    assert summary.cell(retarget, "Nuläge*").value == pytest.approx(0.28)
    notes = name(summary.row[retarget], 2).value.split("\n")[1:]
    assert notes == ["Börläge ändrat 2026: 30 % → 35 %.",
                     "Nuläge ändrat 2026: 19 % → 28 % (per 2025-12-31)."]
    num = typed(folder, "2026-T1", "barn_unga", f"ind_{retarget}_taljare")
    den = typed(folder, "2026-T1", "barn_unga", f"ind_{retarget}_namnare")
    value = num / den
    assert summary.cell(retarget, "2026-T1").value == pytest.approx(value)
    expected = "● Grön" if value >= 0.35 else "● Gul" if value - 0.28 > 0.005 else "● Röd"
    assert summary.cell(retarget, "Status").value.startswith(expected)
    # Myren merged into barn_unga: its own figure up to 2025-T3, barn_unga's after.
    myren = "belaggning_myren"
    for period, unit in (("2025-T3", "myren"), ("2026-T1", "barn_unga")):
        share = (typed(folder, period, unit, f"ind_{myren}_taljare")
                 / typed(folder, period, unit, f"ind_{myren}_namnare"))
        assert summary.cell(myren, period).value == pytest.approx(share), period
    assert ("Ungdomsboendet Myren ingår i Barn- och ungdomssektionen från 2026-T1."
            in name(summary.row[myren], 2).value)
    per_unit = wb["Per enhet"]
    heads = [c.value for c in per_unit[4]]
    assert "Ungdomsboendet Myren" not in heads and "Barn- och ungdomssektionen" in heads
    assert "Underlag från 3 av 5 enheter" in str(summary.ws.cell(2, 1).value)


def test_demo_compares_with_example_data_marked_as_such(demo: tuple[Path, str, Any],
                                                       catalog: Catalog) -> None:
    """The bundled comparison file (constructed values in Kolada's v3 form) gives the columns
    Exempelkommun i Kolada, Riket and Liknande kommuner, each headed and sourced as example data."""
    folder, output, wb = demo
    example = json.loads((folder / "jamforelse" / "kolada_exempeldata.json").read_text("utf-8"))
    assert example["exempeldata"] is True and "inte Koladas statistik" in example["anmarkning"]
    # Worked out by hand from the file: 2025 is the latest year up to 2026; the peers' mean is of
    # the four of five with a 2025 value.
    by = {(v["municipality"], v["period"]): v["values"][0]["value"] for v in example["values"]}
    peers = [by[(m, 2025)] for m in ("9991", "9992", "9993", "9994", "9995") if (m, 2025) in by]
    assert len(peers) == 4
    summary = Summary(wb["Sammanställning"], catalog)
    for column, value in (("Exempelkommun i Kolada (exempeldata)", by[("9999", 2025)]),
                          ("Riket (exempeldata)", by[("0000", 2025)]),
                          ("Liknande kommuner (IFO) (exempeldata)", sum(peers) / 4)):
        cell = summary.cell("kostnad_externa_placeringar", column)
        assert cell.value == pytest.approx(value), column
        assert cell.number_format == '#,##0.0" kr/vårddygn (2025)"'
        assert "Exempeldata" in cell.comment.text and "RKA/Kolada" in cell.comment.text
    notes = [str(c.value) for c in wb["Sammanställning"]["A"] if c.value]
    assert any(n.startswith("EXEMPELDATA") for n in notes)
    about = [str(c.value) for c in wb["Om sammanställningen"]["A"] if c.value]
    assert any("inte RKA/Kolada" in line for line in about)
    assert any(line.startswith("EXEMPELDATA") for line in about)
    assert "EXEMPELDATA, inte Koladas värden" in output


def test_demo_twice_in_the_same_folder(tmp_path: Path, invoke: Callable[..., Result],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = invoke("demo")
    assert first.exit_code == 0, first.output
    master = tmp_path / "exempel" / "sammanställning_2026-T1.xlsx"
    assert master.is_file()
    second = invoke("demo")
    assert second.exit_code == 0, second.output
    assert "underkända: 1" in second.output and "saknas: 1" in second.output
    # workbooks and the master
    assert len(list((tmp_path / "exempel").rglob("*.xlsx"))) == 4 * 6 + 4 + 1
