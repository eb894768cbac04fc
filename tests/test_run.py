"""`consolidate run` on a shared folder: register, exit codes, skipped files, history, pooled
shares."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import fill, sha256

T1, T2 = Period(2025, 1), Period(2025, 2)
NAMES = {"forebyggande": "Förebyggande enheten", "barn_unga": "Barn- och ungdomssektionen",
         "vuxen": "Vuxensektionen", "myren": "Ungdomsboendet Myren", "beroende": "Beroendeenheten",
         "socialpsykiatri": "Socialpsykiatrin"}
STODBOENDE = "Beläggningsgraden i stödboende och träningslägenheter ska öka"


def board(folder: Path, catalog: Catalog, template: Callable[[str, str], Path], period: Period,
          change: dict[str, dict[str, Any]] | None = None, skip: tuple[str, ...] = (),
          subfolder: bool = True) -> dict[str, dict[str, Any]]:
    """One workbook per unit, filled from the seed figures with some cells changed; returns what was
    typed."""
    typed = {}
    for unit in NAMES:
        if unit in skip:
            continue
        values = {**unit_values(catalog, load_seeds(), unit, period),
                  **(change or {}).get(unit, {})}
        target = (folder / str(period) if subfolder else folder) / f"{period}_{unit}.xlsx"
        fill(template(unit, str(period)), values, target)
        typed[unit] = values
    return typed


def register_of(result: Result) -> dict[str, list[dict[str, Any]]]:
    data = json.loads(result.stdout)
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for entry in data["inlamning"]:
        by_unit.setdefault(entry["enhet"], []).append(entry)
    return by_unit


def sheet_rows(path: Path, sheet: str, first: str) -> tuple[Any, dict[str, int], list[int]]:
    ws = openpyxl.load_workbook(path)[sheet]
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == first)
    # Period columns are headed "T1 2025", as the board writes them; the tests name them 2025-T1.
    col = {re.sub(r"^T([123]) (\d{4})$", r"\2-T\1", str(ws.cell(header, c).value)): c
           for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
    return ws, col, list(range(header + 1, ws.max_row + 1))


def test_register_delivered_missing_rejected_duplicate(tmp_path: Path, catalog: Catalog,
                                                       template_cache: Callable[[str, str], Path],
                                                       invoke: Callable[..., Result],
                                                       unchanged: Callable[[Path], None]) -> None:
    folder = tmp_path / "delad"
    board(folder, catalog, template_cache, T2, skip=("socialpsykiatri",), change={
        "forebyggande": {"ind_forebyggande_insatser_varde": 1000},
        "barn_unga": {"ind_forebyggande_insatser_varde": 25000},     # outside 0–20 000: a warning
        "vuxen": {"ind_icke_bistandsbedomda_vuxen_varde": "ca 40"},  # not a number: an error
    })
    values = unit_values(catalog, load_seeds(), "forebyggande", T2)
    newer = fill(template_cache("forebyggande", str(T2)),
                 {**values, "ind_forebyggande_insatser_varde": 1100},
                 folder / "2025-T2" / "2025-T2_forebyggande_rättad.xlsx")
    older = folder / "2025-T2" / "2025-T2_forebyggande.xlsx"
    # Myren sent a valid file, then a newer one with an error: the valid one is used.
    bad_myren = fill(template_cache("myren", str(T2)),
                     {**unit_values(catalog, load_seeds(), "myren", T2),
                      "ind_belaggning_myren_namnare": -5},
                     folder / "2025-T2" / "2025-T2_myren_ny.xlsx")
    good_myren = folder / "2025-T2" / "2025-T2_myren.xlsx"
    os.utime(older, (1_750_000_000, 1_750_000_000))
    os.utime(newer, (1_750_003_600, 1_750_003_600))
    os.utime(good_myren, (1_750_000_000, 1_750_000_000))
    os.utime(bad_myren, (1_750_007_200, 1_750_007_200))
    unchanged(folder)
    out = tmp_path / "m.xlsx"
    result = invoke("run", folder, "--out", out, "--json")
    assert result.exit_code == 1, result.output
    reg = register_of(result)
    assert json.loads(result.stdout)["huvudarbetsbok"] == str(out)

    states = {unit: sorted(e["status"] for e in entries) for unit, entries in reg.items()}
    assert states == {"forebyggande": ["dubblett", "levererad"], "barn_unga": ["levererad"],
                      "vuxen": ["underkänd"], "myren": ["dubblett", "levererad"],
                      "beroende": ["levererad"], "socialpsykiatri": ["saknas"]}
    used = {unit: next(e for e in entries if e["status"] == "levererad")
            for unit, entries in reg.items() if any(e["status"] == "levererad" for e in entries)}
    assert used["forebyggande"]["fil"] == "2025-T2/2025-T2_forebyggande_rättad.xlsx"
    assert used["myren"]["fil"] == "2025-T2/2025-T2_myren.xlsx"
    old_entry = next(e for e in reg["forebyggande"] if e["status"] == "dubblett")
    assert (old_entry["fil"] == "2025-T2/2025-T2_forebyggande.xlsx"
            and "nyare" in old_entry["anmarkning"])
    bad_entry = next(e for e in reg["myren"] if e["status"] == "dubblett")
    assert bad_entry["fil"] == "2025-T2/2025-T2_myren_ny.xlsx"
    fel_in_bad = [f for f in json.loads(result.stdout)["fynd"]
                  if f["fil"] == bad_entry["fil"] and f["allvarlighet"] == "fel"]
    assert bad_entry["fel"] == len(fel_in_bad) >= 1
    assert "2025-T2_myren.xlsx" in bad_entry["anmarkning"]
    for entries in reg.values():
        for entry in entries:
            if entry["fil"]:
                assert entry["sha256"] == sha256(folder / entry["fil"])
    assert used["barn_unga"]["fel"] == 0 and used["barn_unga"]["varningar"] == 1
    assert reg["vuxen"][0]["fel"] == 1 and reg["vuxen"][0]["fil"] == "2025-T2/2025-T2_vuxen.xlsx"
    assert reg["socialpsykiatri"][0]["fil"] == ""

    # The master uses the newer valid file's figure and lists every file in Inlämning.
    ws, col, rows = sheet_rows(out, "Per enhet", "Indikator")
    line = next(r for r in rows
                if ws.cell(r, 1).value == "Antal som tar del av förebyggande insatser")
    assert ws.cell(line, col["Förebyggande enheten"]).value == 1100
    ws, col, rows = sheet_rows(out, "Inlämning", "Enhet")
    listed = {(ws.cell(r, col["Fil"]).value, ws.cell(r, col["Status"]).value) for r in rows}
    assert ("2025-T2/2025-T2_forebyggande.xlsx", "dubblett") in listed
    assert ("2025-T2/2025-T2_forebyggande_rättad.xlsx", "levererad") in listed
    assert ("", "saknas") in listed
    vuxen = next(r for r in rows if ws.cell(r, col["Fil"]).value == "2025-T2/2025-T2_vuxen.xlsx")
    assert (ws.cell(vuxen, col["Status"]).value == "underkänd"
            and ws.cell(vuxen, col["Fel"]).value == 1)
    assert sha256(folder / "2025-T2" / "2025-T2_vuxen.xlsx").startswith(
        ws.cell(vuxen, col["SHA-256"]).value)
    # Every finding is in the log, with file and cell; the left-out duplicate is named there too.
    ws, col, rows = sheet_rows(out, "Valideringslogg", "Allvarlighet")
    log = [(ws.cell(r, col["Fil"]).value, ws.cell(r, col["Cell"]).value,
            ws.cell(r, col["Allvarlighet"]).value)
           for r in rows]
    found = json.loads(result.stdout)["fynd"]
    assert len(log) == len(found)
    assert any(f == "2025-T2/2025-T2_vuxen.xlsx" and c and s == "fel" for f, c, s in log)
    assert any(f == "2025-T2/2025-T2_barn_unga.xlsx" and s == "varning" for f, c, s in log)
    assert any(f == "2025-T2/2025-T2_forebyggande.xlsx" and s == "varning" for f, c, s in log)

    # The master is never written over a submitted workbook (the `unchanged` check proves it).
    refused = invoke("run", folder, "--out", folder / "2025-T2" / "2025-T2_beroende.xlsx")
    assert refused.exit_code == 2 and "inlämnad fil" in refused.output

    # The text summary names the missing and rejected units.
    text = invoke("run", folder, "--out", out)
    assert text.exit_code == 1
    assert "Socialpsykiatrin" in text.output and "Vuxensektionen" in text.output


def summary_figures(path: Path) -> list[tuple[Any, ...]]:
    ws, col, rows = sheet_rows(path, "Sammanställning", "Målområde")
    return [tuple(ws.cell(r, c).value for c in range(2, col["Trend"] + 1)) for r in rows]


def test_exit_0_and_own_outputs_skipped_on_rerun(tmp_path: Path, catalog: Catalog,
                                                 template_cache: Callable[[str, str], Path],
                                                 invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    board(folder, catalog, template_cache, T2, subfolder=False)
    first = invoke("run", folder, "--json")
    assert first.exit_code == 0, first.output
    master = folder / "sammanställning_2025-T2.xlsx"
    assert master.is_file()
    figures = summary_figures(master)
    first_bytes = master.read_bytes()
    assert [e["status"] for e in json.loads(first.stdout)["inlamning"]] == ["levererad"] * 6
    # Feedback copies in the shared folder, an Excel lock file, a LibreOffice lock file.
    assert invoke("check", folder, "--feedback", folder / "återkoppling").exit_code == 0
    assert len(list((folder / "återkoppling").glob("*_återkoppling.xlsx"))) == 6
    (folder / "~$2025-T2_vuxen.xlsx").write_bytes(b"\x00lock")
    (folder / ".~lock.2025-T2_myren.xlsx#").write_text("lock")
    # A half-written temp file of a run that was killed before it could clean up.
    (folder / ".~sammanställning_k1ll3d.xlsx").write_bytes(master.read_bytes()[:2000])
    again = invoke("run", folder, "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["fel"] == 0
    entries = data["inlamning"]
    assert sorted(e["enhet"] for e in entries if e["status"] == "levererad") == sorted(NAMES)
    # The tool's own outputs are not inputs: the first master and the unchanged feedback copies are
    # neither read nor listed, so the same inputs give the same master, byte for byte.
    assert not any("sammanställning" in f["fil"] for f in entries + data["fynd"] + data["filer"])
    assert not any("~$" in e["fil"] or ".~" in e["fil"] for e in entries + data["filer"])
    assert not any("återkoppling" in e["fil"] for e in entries + data["filer"])
    assert summary_figures(master) == figures
    assert master.read_bytes() == first_bytes


def test_nothing_written_exit_2(tmp_path: Path, invoke: Callable[..., Result]) -> None:
    missing = invoke("run", tmp_path / "finns_inte")
    assert missing.exit_code == 2 and "finns inte" in missing.output
    empty = tmp_path / "tom"
    empty.mkdir()
    result = invoke("run", empty)
    assert result.exit_code == 2 and "Hittar inga" in result.output
    assert list(empty.iterdir()) == []
    bad_period = invoke("run", empty, "--period", "2025-T7")
    assert bad_period.exit_code == 2 and "2025-T7" in bad_period.output
    assert list(empty.iterdir()) == []


@pytest.mark.parametrize("where", ["out", "export"])
def test_a_wrong_output_place_is_said_before_any_file_is_read(
        tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path],
        where: str) -> None:
    """A controller who mistypes --out or --export hears it at once, not after every file is
    read."""
    from consolidate.errors import UsageError
    from consolidate.run import run

    folder = tmp_path / "delad"
    board(folder, catalog, template_cache, T2, subfolder=False)
    as_file = tmp_path / "export.txt"
    as_file.write_text("en fil", encoding="utf-8")
    places = {"out": {"out": tmp_path / "saknas" / "m.xlsx"},
              "export": {"out": tmp_path / "m.xlsx", "export": as_file}}[where]
    read: list[int] = []
    with pytest.raises(UsageError) as raised:
        run(folder, catalog, progress=lambda done, total: read.append(done), **places)
    assert ("finns inte" if where == "out" else "är en fil") in str(raised.value)
    assert read == [], "files were read before the output place was checked"
    assert not (tmp_path / "m.xlsx").exists()


def test_more_units_than_excel_has_columns_is_said_before_reading(
        tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path]) -> None:
    """The master shows units side by side; a catalog too large for Excel's 16 384 columns gets a
    Swedish message, not a damaged workbook."""
    import dataclasses

    from consolidate.catalog import Unit
    from consolidate.errors import UsageError
    from consolidate.run import MAX_UNITS, run

    folder = tmp_path / "delad"
    board(folder, catalog, template_cache, T2, subfolder=False)
    extra = tuple(Unit(f"enhet_{i:05d}", f"Enhet {i}", "")
                  for i in range(MAX_UNITS + 1 - len(catalog.units)))
    huge = dataclasses.replace(catalog, units=catalog.units + extra)
    read: list[int] = []
    with pytest.raises(UsageError, match="16 384 kolumner") as raised:
        run(folder, huge, out=tmp_path / "m.xlsx", progress=lambda done, total: read.append(done))
    assert f"{MAX_UNITS + 1} enheter" in str(raised.value)
    assert read == [] and not (tmp_path / "m.xlsx").exists()
    assert len(catalog.units) <= MAX_UNITS  # the real catalog is far from the limit


def test_history_and_pooled_shares(tmp_path: Path, catalog: Catalog,
                                   template_cache: Callable[[str, str], Path],
                                   invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    t1 = board(folder, catalog, template_cache, T1)
    # Two units of very different size: 10 % of 1 000 days and 96,7 % of 6 000 days. Beroende's
    # fall from about 90 % is the size of a slip (a digit lost in the numerator), so it says why;
    # without that the indicator would be grå "kontrollera värdet" (tests/test_doubts.py).
    t2 = board(folder, catalog, template_cache, T2, change={
        "beroende": {"ind_belaggning_stodboende_taljare": 100,
                     "ind_belaggning_stodboende_namnare": 1000,
                     "ind_belaggning_stodboende_kommentar": "Stängt för ombyggnad i juni."},
        "socialpsykiatri": {"ind_belaggning_stodboende_taljare": 5800,
                            "ind_belaggning_stodboende_namnare": 6000},
    })
    result = invoke("run", folder)
    assert result.exit_code == 0, result.output
    master = folder / "sammanställning_2025-T2.xlsx"
    ws, col, rows = sheet_rows(master, "Sammanställning", "Målområde")
    assert [h for h in col if h in ("2025-T1", "2025-T2")] == ["2025-T1", "2025-T2"]
    assert col["2025-T1"] < col["2025-T2"] < col["Börläge"]
    line = {str(ws.cell(r, 2).value): r for r in rows}
    stod = next(r for name, r in line.items() if name.startswith(STODBOENDE))
    pooled = (100 + 5800) / (1000 + 6000)
    mean_of_percentages = (100 / 1000 + 5800 / 6000) / 2
    assert ws.cell(stod, col["2025-T2"]).value == pytest.approx(pooled)
    assert abs(pooled - mean_of_percentages) > 0.3
    t1_pooled = ((t1["beroende"]["ind_belaggning_stodboende_taljare"]
                  + t1["socialpsykiatri"]["ind_belaggning_stodboende_taljare"])
                 / (t1["beroende"]["ind_belaggning_stodboende_namnare"]
                    + t1["socialpsykiatri"]["ind_belaggning_stodboende_namnare"]))
    assert ws.cell(stod, col["2025-T1"]).value == pytest.approx(t1_pooled)
    # 84,3 % is below nuläge 92 % (ökning wanted): röd, and down since T1.
    assert t1_pooled > pooled + 0.01
    assert ws.cell(stod, col["Status"]).value.startswith("● Röd")
    assert ws.cell(stod, col["Trend"]).value == "▼ sämre"
    # Sums across units, per period.
    prevent = line["Antal som tar del av förebyggande insatser"]
    for period, typed in (("2025-T1", t1), ("2025-T2", t2)):
        expected = (typed["forebyggande"]["ind_forebyggande_insatser_varde"]
                    + typed["barn_unga"]["ind_forebyggande_insatser_varde"])
        assert ws.cell(prevent, col[period]).value == expected
    staff = next(r for name, r in line.items()
                 if name.startswith("Antal medarbetare som arbetar med förebyggande"))
    expected = sum(t2[u]["ind_medarbetare_tidiga_insatser_varde"]
                   for u in ("forebyggande", "barn_unga", "vuxen"))
    assert ws.cell(staff, col["2025-T2"]).value == pytest.approx(expected)

    # --period picks an earlier current period: later periods are left out.
    earlier = invoke("run", folder, "--period", "2025-T1")
    assert earlier.exit_code == 0, earlier.output
    ws, col, rows = sheet_rows(folder / "sammanställning_2025-T1.xlsx", "Sammanställning",
                               "Målområde")
    assert "2025-T1" in col and "2025-T2" not in col
    stod = next(r for r in rows if str(ws.cell(r, 2).value).startswith(STODBOENDE))
    assert ws.cell(stod, col["2025-T1"]).value == pytest.approx(t1_pooled)
    per_unit, pcol, prow = sheet_rows(folder / "sammanställning_2025-T1.xlsx", "Per enhet",
                                      "Indikator")
    r = next(r for r in prow if str(per_unit.cell(r, 1).value).startswith(STODBOENDE))
    assert per_unit.cell(r, pcol["Beroendeenheten"]).value == pytest.approx(
        t1["beroende"]["ind_belaggning_stodboende_taljare"]
        / t1["beroende"]["ind_belaggning_stodboende_namnare"])
