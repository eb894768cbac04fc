"""`consolidate status`: the period's register as `run` makes it, without a master, reading only the
period's files and the previous tertial's."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period
from consolidate.status import due_text, folder_status

from conftest import fill

T1, T2 = Period(2025, 1), Period(2025, 2)
UNITS = ("forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri")
NOT_A_NUMBER = {"ind_icke_bistandsbedomda_vuxen_varde": "ca 40"}
SCHEMA = json.loads(files("consolidate.schemas").joinpath("rapport.schema.json")
                    .read_text(encoding="utf-8"))
CATALOG_TEXT = (Path(__file__).resolve().parent.parent / "schemas" / "katalog.toml").read_text(
    encoding="utf-8")
DEADLINES = '[inlamning]\nT1 = "05-10"\nT2 = "09-10"\nT3 = "01-15"\n'


def hand_in(template: Callable[[str, str], Path], catalog: Catalog, folder: Path, unit: str,
            period: Period, change: dict[str, Any] | None = None, name: str = "") -> Path:
    values = {**unit_values(catalog, load_seeds(), unit, period), **(change or {})}
    return fill(template(unit, str(period)), values, folder / (name or f"{period}_{unit}.xlsx"))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
           template_cache: Callable[[str, str], Path]) -> Path:
    """2025-T1 complete; 2025-T2 with a replaced file, a jump, a rejected and a missing unit and a
    CSV; an older tertial with a file that cannot be read."""
    folder = tmp_path_factory.mktemp("status") / "delad"
    for unit in UNITS:
        hand_in(template_cache, catalog, folder / "2025-T1", unit, T1)
    old = hand_in(template_cache, catalog, folder / "2025-T2", "forebyggande", T2)
    new = hand_in(template_cache, catalog, folder / "2025-T2", "forebyggande", T2,
                  {"ind_forebyggande_insatser_varde": 1100}, "2025-T2_forebyggande_rättad.xlsx")
    os.utime(old, (1_750_000_000, 1_750_000_000))
    os.utime(new, (1_750_003_600, 1_750_003_600))
    t1 = unit_values(catalog, load_seeds(), "barn_unga", T1)["ind_forebyggande_insatser_varde"]
    hand_in(template_cache, catalog, folder / "2025-T2", "barn_unga", T2,
            {"ind_forebyggande_insatser_varde": t1 * 4})  # a jump: a warning against 2025-T1
    hand_in(template_cache, catalog, folder / "2025-T2", "vuxen", T2, NOT_A_NUMBER)
    for unit in ("myren", "beroende"):
        hand_in(template_cache, catalog, folder / "2025-T2", unit, T2)
    (folder / "2025-T2" / "lista.csv").write_text("enhet;antal\n", encoding="utf-8")
    (folder / "2023-T3").mkdir()
    (folder / "2023-T3" / "anteckningar.xlsx").write_bytes(b"ingen arbetsbok")
    return folder


def by_unit(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        out.setdefault(entry["enhet"], []).append(entry)
    return out


def test_status_is_runs_register_of_the_period(shared: Path, tmp_path: Path, catalog: Catalog,
                                               invoke: Callable[..., Result],
                                               unchanged: Callable[[Path], None]) -> None:
    unchanged(shared)
    before = sorted(p.relative_to(shared) for p in shared.rglob("*"))
    result = invoke("status", shared, "--json")
    assert result.exit_code == 1, result.output
    assert sorted(p.relative_to(shared) for p in shared.rglob("*")) == before  # nothing written
    status = json.loads(result.stdout)
    jsonschema.validate(status, SCHEMA)
    run = json.loads(invoke("run", shared, "--json", "--out", tmp_path / "m.xlsx").stdout)
    assert status["period"] == run["period"] == "2025-T2"
    ours, theirs = by_unit(status["inlamning"]), by_unit(run["inlamning"])
    first = ours["vuxen"][0].pop("forsta_fel")
    # Unit by unit the same entries as run's Inlämning, warnings against 2025-T1 included.
    assert {u: e for u, e in ours.items() if u} == {u: e for u, e in theirs.items() if u}
    assert [e["status"] for e in ours["barn_unga"]] == ["levererad"]
    assert ours["barn_unga"][0]["varningar"] >= 1
    assert sorted(e["status"] for e in ours["forebyggande"]) == ["dubblett", "levererad"]
    assert [e["status"] for e in ours["socialpsykiatri"]] == ["saknas"]
    # The rejected file's first error is the first `fel` run reports for that file.
    assert first == next(f for f in run["fynd"]
                         if f["fil"] == "2025-T2/2025-T2_vuxen.xlsx" and f["allvarlighet"] == "fel")
    # Files that are no unit's: the period's, not the unreadable file of 2023-T3 (run lists both).
    assert [e["fil"] for e in ours[""]] == ["2025-T2/lista.csv"]
    assert sorted(e["fil"] for e in theirs[""]) == ["2023-T3/anteckningar.xlsx",
                                                    "2025-T2/lista.csv"]
    listed = {e["fil"] for e in status["inlamning"] if e["fil"]}
    assert {f["fil"] for f in status["filer"]} == listed
    assert status["sista_dag"] == "2025-09-10"
    assert status["dagar_kvar"] == (dt.date(2025, 9, 10) - dt.date.today()).days


def test_status_reads_the_period_and_the_one_before_only(shared: Path, catalog: Catalog) -> None:
    result = folder_status(shared, catalog)
    in_folders = {name: len(list((shared / name).iterdir())) for name in ("2025-T1", "2025-T2",
                                                                         "2023-T3")}
    assert result.files_total == sum(in_folders.values())
    assert result.files_read == in_folders["2025-T1"] + in_folders["2025-T2"]
    # Asked for 2025-T1, 2025-T2's files are not read, and 2024-T3 has none.
    earlier = folder_status(shared, catalog, "2025-T1")
    assert earlier.files_read == in_folders["2025-T1"] and earlier.complete


def test_status_text_names_who_is_missing_and_why_a_file_is_rejected(
        shared: Path, invoke: Callable[..., Result], tmp_path: Path) -> None:
    run = json.loads(invoke("run", shared, "--json", "--out", tmp_path / "m.xlsx").stdout)
    first = next(f for f in run["fynd"]
                 if f["fil"] == "2025-T2/2025-T2_vuxen.xlsx" and f["allvarlighet"] == "fel")
    result = invoke("status", shared)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    days = (dt.date.today() - dt.date(2025, 9, 10)).days
    assert lines[1] == ("Period 2025-T2 (tertial 2 2025 (maj–aug)). Sista dag för inlämning var "
                        f"10 september 2025 (för {days} dagar sedan).")
    assert lines[2] == "Levererade: 4 av 6 enheter  saknas: 1  underkända: 1  dubbletter: 1"
    assert lines[3] == "  saknas:     Socialpsykiatrin"
    assert lines[4].startswith("  underkänd:  Vuxensektionen: 2025-T2/2025-T2_vuxen.xlsx (")
    assert lines[5] == (f"              första felet: {first['flik']}!{first['cell']}: "
                        f"{first['meddelande']}")
    assert "Filer som inte är någon enhets inlämning: 1" in lines
    assert "  2025-T2/lista.csv: " in "\n".join(lines)
    assert "sammanställning" not in result.output.lower()


def test_the_latest_period_is_found_as_run_finds_it(tmp_path: Path, catalog: Catalog,
                                                   template_cache: Callable[[str, str], Path],
                                                   invoke: Callable[..., Result]) -> None:
    # No dated names: every file is read.
    flat = tmp_path / "platt"
    for unit in UNITS:
        hand_in(template_cache, catalog, flat, unit, T2, name=f"{unit}.xlsx")
    result = folder_status(flat, catalog)
    assert str(result.period) == "2025-T2" and result.complete
    assert result.files_read == result.files_total == len(UNITS)
    assert invoke("status", flat).exit_code == 0
    # A dated folder with no unit's file in it does not make its period the latest.
    (flat / "2025-T3").mkdir()
    (flat / "2025-T3" / "lista.csv").write_text("x\n", encoding="utf-8")
    assert str(folder_status(flat, catalog).period) == "2025-T2"
    ran = json.loads(invoke("run", flat, "--json", "--out", tmp_path / "m.xlsx").stdout)
    assert ran["period"] == "2025-T2"


def test_days_left_and_no_deadline(shared: Path, tmp_path: Path,
                                   invoke: Callable[..., Result]) -> None:
    soon = dt.date.today() + dt.timedelta(days=5)
    (tmp_path / "snart").mkdir()
    near = tmp_path / "snart" / "katalog.toml"
    near.write_text(CATALOG_TEXT.replace(DEADLINES, DEADLINES + f'"2025-T2" = {soon}\n'),
                    encoding="utf-8")
    data = json.loads(invoke("status", shared, "--json", "--katalog", near).stdout)
    assert (data["sista_dag"], data["dagar_kvar"]) == (soon.isoformat(), 5)
    assert "(om 5 dagar)." in invoke("status", shared, "--katalog", near).stdout
    (tmp_path / "ingen").mkdir()
    none = tmp_path / "ingen" / "katalog.toml"
    none.write_text(CATALOG_TEXT.replace(DEADLINES, ""), encoding="utf-8")
    data = json.loads(invoke("status", shared, "--json", "--katalog", none).stdout)
    assert data["sista_dag"] is None and data["dagar_kvar"] is None
    assert ("Katalogen anger ingen sista dag för inlämning"
            in invoke("status", shared, "--katalog", none).stdout)


@pytest.mark.parametrize(("days", "text"), [
    (8, "Sista dag för inlämning är 10 maj 2026 (om 8 dagar)."),
    (1, "Sista dag för inlämning är 10 maj 2026 (i morgon)."),
    (0, "Sista dag för inlämning är 10 maj 2026 (i dag)."),
    (-1, "Sista dag för inlämning var 10 maj 2026 (i går)."),
    (-3, "Sista dag för inlämning var 10 maj 2026 (för 3 dagar sedan)."),
])
def test_due_text(days: int, text: str) -> None:
    due = dt.date(2026, 5, 10)
    assert due_text(due, due - dt.timedelta(days=days)) == text


def test_usage_errors_exit_2(tmp_path: Path, invoke: Callable[..., Result]) -> None:
    missing = invoke("status", tmp_path / "finns_inte")
    assert missing.exit_code == 2 and "finns inte" in missing.output
    (tmp_path / "tom").mkdir()
    empty = invoke("status", tmp_path / "tom")
    assert empty.exit_code == 2 and "--period" in empty.output
    everyone_missing = invoke("status", tmp_path / "tom", "--period", "2025-T2")
    assert everyone_missing.exit_code == 1 and "saknas: 6" in everyone_missing.output
