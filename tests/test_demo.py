"""`consolidate demo`: several periods, one unit missing, one file with errors, and the master."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result
from test_master import TABLE_004, Summary, excel_sv

from consolidate.catalog import Catalog


def table(ws: Any, first: str) -> tuple[dict[str, int], list[int]]:
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == first)
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
    return col, list(range(header + 1, ws.max_row + 1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any]:
    from click.testing import CliRunner

    from consolidate.cli import cli

    folder = tmp_path_factory.mktemp("demo") / "exempel"
    result = CliRunner().invoke(cli, ["demo", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    master = folder / "sammanställning_2025-T2.xlsx"
    return folder, result.output, openpyxl.load_workbook(master)


def test_demo_folder_has_three_periods_one_missing_unit_and_one_faulty_file(demo: tuple[Path, str, Any]) -> None:
    folder, output, _ = demo
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["2023-T3", "2025-T1", "2025-T2"]
    assert len(list((folder / "2023-T3").glob("*.xlsx"))) == 6
    assert len(list((folder / "2025-T2").glob("*.xlsx"))) == 5
    assert str(folder / "sammanställning_2025-T2.xlsx") in output
    assert "Socialpsykiatrin" in output and "Vuxensektionen" in output


def test_demo_master_register_and_log(demo: tuple[Path, str, Any]) -> None:
    wb = demo[2]
    ws = wb["Inlämning"]
    col, rows = table(ws, "Enhet")
    state = {ws.cell(r, 1).value: (ws.cell(r, col["Status"]).value, ws.cell(r, col["Fel"]).value,
                                   ws.cell(r, col["Fil"]).value) for r in rows}
    assert state["Socialpsykiatrin"][0] == "saknas"
    assert state["Vuxensektionen"][0] == "underkänd" and state["Vuxensektionen"][1] >= 1
    assert state["Vuxensektionen"][2] == "2025-T2/2025-T2_vuxen.xlsx"
    assert sum(1 for s in state.values() if s[0] == "levererad") == 4
    log = wb["Valideringslogg"]
    lcol, lrows = table(log, "Allvarlighet")
    errors = [(log.cell(r, lcol["Fil"]).value, log.cell(r, lcol["Cell"]).value) for r in lrows
              if log.cell(r, lcol["Allvarlighet"]).value == "fel"]
    assert errors and all(f == "2025-T2/2025-T2_vuxen.xlsx" and c for f, c in errors)
    assert len(errors) == state["Vuxensektionen"][1]


def test_demo_summary_has_history_and_the_004_outcomes(demo: tuple[Path, str, Any], catalog: Catalog) -> None:
    summary = Summary(demo[2]["Sammanställning"], catalog)
    assert [h for h in summary.col if str(h).startswith("20")] == ["2023-T3", "2025-T1", "2025-T2"]
    for ind_id, (_, outcome, *_rest) in TABLE_004.items():
        cell = summary.cell(ind_id, "2023-T3")
        assert excel_sv(cell.value, cell.number_format) == outcome, ind_id


def test_demo_summary_says_which_units_are_missing(demo: tuple[Path, str, Any], catalog: Catalog) -> None:
    summary = Summary(demo[2]["Sammanställning"], catalog)
    for ind_id in ("medarbetare_utredning", "medarbetare_tidiga_insatser", "kostnad_externa_placeringar"):
        status = summary.cell(ind_id, "Status").value
        assert status.startswith("● Grå") and "Ofullständigt underlag: saknar Vuxensektionen" in status, ind_id
    status = summary.cell("belaggning_stodboende", "Status").value
    assert "Ofullständigt underlag: saknar Socialpsykiatrin" in status
    # Only the vuxen section reports this one: no value at all.
    status = summary.cell("icke_bistandsbedomda_vuxen", "Status").value
    assert status.startswith("● Grå") and "Ej rapporterad" in status and "Vuxensektionen" in status
    assert summary.cell("icke_bistandsbedomda_vuxen", "2025-T2").value == "–"
    # Indicators whose units all delivered are judged as usual.
    assert not summary.cell("forebyggande_insatser", "Status").value.startswith("● Grå")
    assert not summary.cell("belaggning_myren", "Status").value.startswith("● Grå")


def test_demo_twice_in_the_same_folder(tmp_path: Path, invoke: Callable[..., Result],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = invoke("demo")
    assert first.exit_code == 0, first.output
    master = tmp_path / "exempel" / "sammanställning_2025-T2.xlsx"
    assert master.is_file()
    second = invoke("demo")
    assert second.exit_code == 0, second.output
    assert "underkända: 1" in second.output and "saknas: 1" in second.output
    assert len(list((tmp_path / "exempel").rglob("*.xlsx"))) == 18
