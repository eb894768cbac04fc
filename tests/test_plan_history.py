"""Three years in one shared folder, 2024-T1 to 2026-T3, with a new plan from 2026-T1: an indicator
added, one retired, one re-targeted, one renamed, and Socialpsykiatrin merged into Beroendeenheten.

Returns up to 2025-T3 are filled in templates made from the catalog as it stood then (the real
catalog); the 2026 ones in templates of the new plan. Everything is run with the new catalog, for
several periods, and the master is read back: history, statuses and the register are right in each,
and no earlier return is rejected because of the later change. Expected figures are worked out
here from what was typed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.cli import cli
from consolidate.demo import load_seeds, table_values
from consolidate.periods import Period, parse_period
from consolidate.template import template_filename, write_template

from conftest import ADDED_NAME, fill, with_added_indicator

ROOT = Path(__file__).resolve().parent.parent
REAL_TEXT = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
PERIODS = [f"{year}-T{t}" for year in (2024, 2025, 2026) for t in (1, 2, 3)]
UNITS = ["forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri"]
NAMES = {"forebyggande": "Förebyggande enheten", "barn_unga": "Barn- och ungdomssektionen",
         "vuxen": "Vuxensektionen", "myren": "Ungdomsboendet Myren", "beroende": "Beroendeenheten",
         "socialpsykiatri": "Socialpsykiatrin"}
# Units in the 2026 plan: Myren merged into barn_unga (the real catalog's plan), Socialpsykiatrin
# into Beroendeenheten (this test's edit). Vuxensektionen does not hand in 2026-T3.
UNITS_2026 = ["forebyggande", "barn_unga", "vuxen", "beroende"]
MISSING = ("2026-T3", "vuxen")

OLD_NAME = ("Beläggningsgraden i stödboende och träningslägenheter ska öka (beroende 55 lgh, "
            "socialpsykiatri 17 lgh)")
NEW_NAME = "Beläggning i stödboende och träningslägenheter, beroendeenheten"
NEW_IND = ADDED_NAME
RETIRED_NAME = "Andel vuxna 21–65 år i befolkningen aktuella för utredning"
RETARGET_NAME = "Antal medarbetare som arbetar med förebyggande och/eller tidiga insatser"
CONTROL_NAME = "Antal som tar del av förebyggande insatser"
def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def new_plan(text: str) -> str:
    """The controller's edits for the 2026 plan."""
    text = with_added_indicator(text, ["forebyggande", "barn_unga"],
                                before='\n[[indikator]]\nid = "icke_bistandsbedomda_vuxen"')
    text = edit(text, 'id = "andel_vuxna_utredning"\n',
                'id = "andel_vuxna_utredning"\ntill = "2025-T3"\n')
    text = edit(text, 'utfall = { "2023" = 108.3 }\nborlage = 122\nborlage_ar = 2025',
                'utfall = { "2023" = 108.3 }\nborlage = { "2025" = 122, "2026" = 130 }')
    text = edit(text, 'epost = "socialpsykiatri@exempelkommun.se"\n',
                'epost = "socialpsykiatri@exempelkommun.se"\ntill = "2025-T3"\n'
                'ersatts_av = "beroende"\n')
    return edit(text, f'namn = "{OLD_NAME}"',
                f'namn = "{NEW_NAME}"\ntidigare_namn = {{ "2025-T3" = "{OLD_NAME}" }}')


# medarbetare_tidiga_insatser (forebyggande + barn_unga + vuxen): 125 in 2025-T3 reaches the börläge
# 122 of 2025; 126 in 2026-T1 does not reach 130, the börläge of 2026, but is above nuläge 106.
SPECIAL = {("medarbetare_tidiga_insatser", "2025-T3"): {"forebyggande": 60, "barn_unga": 40,
                                                        "vuxen": 25},
           ("medarbetare_tidiga_insatser", "2026-T1"): {"forebyggande": 60, "barn_unga": 41,
                                                        "vuxen": 25}}


def typed_values(template: Path, catalog: Catalog, unit: str, period: str) -> dict[str, Any]:
    """Numbers for every indicator cell the template names, and the unit tables from the seeds."""
    k, u = PERIODS.index(period), UNITS.index(unit)
    values: dict[str, Any] = {}
    for name in openpyxl.load_workbook(template).defined_names:
        if not name.startswith("ind_") or name.endswith("_kommentar"):
            continue
        ind, field = name[4:].rsplit("_", 1)
        if field == "varde":
            values[name] = SPECIAL.get((ind, period), {}).get(unit, 100 + 10 * k + 5 * u)
        elif field == "taljare":
            values[name] = 20 + 5 * k + u
        else:
            values[name] = 1000
    return {**values, **table_values(catalog, load_seeds(), unit, parse_period(period))}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("plan")
    (root / "katalog_2025.toml").write_text(REAL_TEXT, encoding="utf-8")
    (root / "katalog_2026.toml").write_text(new_plan(REAL_TEXT), encoding="utf-8")
    old, new = load_catalog(root / "katalog_2025.toml"), load_catalog(root / "katalog_2026.toml")
    folder = root / "delad"
    (root / "mallar").mkdir()
    typed: dict[tuple[str, str], dict[str, Any]] = {}
    for period in PERIODS:
        p = parse_period(period)
        # the catalog as it stood when the templates went out
        catalog = new if p.year == 2026 else old
        for unit in UNITS_2026 if p.year == 2026 else UNITS:
            if (period, unit) == MISSING:
                continue
            template = write_template(catalog, unit, p,
                                      root / "mallar" / template_filename(catalog, unit, p))
            values = typed_values(template, catalog, unit, period)
            fill(template, values, folder / period / f"{period}_{unit}.xlsx")
            typed[(period, unit)] = values
    runs = {}
    for period in ("2024-T3", "2025-T3", "2026-T1", "2026-T3"):
        out = root / f"sammanställning_{period}.xlsx"
        result = CliRunner().invoke(cli, ["run", str(folder), "--period", period, "--out", str(out),
                                          "--json", "--katalog", str(root / "katalog_2026.toml")],
                                    catch_exceptions=False)
        runs[period] = (result.exit_code, json.loads(result.stdout), openpyxl.load_workbook(out))
    return {"folder": folder, "typed": typed, "runs": runs, "catalog": root / "katalog_2026.toml"}


def board_value(typed: dict[tuple[str, str], dict[str, Any]], period: str,
                indicator: str) -> float | None:
    """The board's figure from what the units typed: a sum, or for a share the sum of numerators
    over the sum of denominators."""
    files = [v for (p, _), v in typed.items() if p == period]
    if any(f"ind_{indicator}_varde" in v for v in files):
        return float(sum(v[f"ind_{indicator}_varde"] for v in files
                         if f"ind_{indicator}_varde" in v))
    nums = [v[f"ind_{indicator}_taljare"] for v in files if f"ind_{indicator}_taljare" in v]
    dens = [v[f"ind_{indicator}_namnare"] for v in files if f"ind_{indicator}_namnare" in v]
    return sum(nums) / sum(dens) if nums else None


class Sheet:
    """Sammanställning read back: rows found by the start of the indicator's name in column B."""

    def __init__(self, wb: Any) -> None:
        self.ws = ws = wb["Sammanställning"]
        header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Målområde")
        # Period columns are headed "T1 2025", as the board writes them; the tests name them
        # 2025-T1.
        self.col = {re.sub(r"^T([123]) (\d{4})$", r"\2-T\1", str(ws.cell(header, c).value)): c
                    for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
        self.names = {r: str(ws.cell(r, 2).value) for r in range(header + 1, ws.max_row + 1)
                      if ws.cell(r, 2).value}

    def rows(self, name: str) -> list[int]:
        return [r for r, text in self.names.items() if text.startswith(name)]

    def cell(self, name: str, heading: str) -> Any:
        (row,) = self.rows(name)
        return self.ws.cell(row, self.col[heading]).value

    def notes(self, name: str) -> list[str]:
        (row,) = self.rows(name)
        return self.names[row].split("\n")[1:]

    def periods(self) -> list[str]:
        return [h for h in self.col if isinstance(h, str) and h[:4].isdigit() and "-T" in h]


def test_templates_ask_what_is_valid_in_their_period(history: dict[str, Any]) -> None:
    typed = history["typed"]
    for period in PERIODS:
        for unit in ("forebyggande", "barn_unga"):
            assert (("ind_nya_familjer_varde" in typed[(period, unit)])
                    == period.startswith("2026")), (period, unit)
        if (period, "vuxen") in typed:
            asked = "ind_andel_vuxna_utredning_taljare" in typed[(period, "vuxen")]
            assert asked == (not period.startswith("2026")), period
    # After the merge Beroendeenheten reports the occupancy of both; Socialpsykiatrin hands in
    # nothing.
    assert all(("2026-T1", u) not in typed for u in ("socialpsykiatri", "myren"))
    assert "ind_belaggning_stodboende_taljare" in typed[("2026-T1", "beroende")]


def test_no_earlier_return_is_rejected_after_the_plan_changed(history: dict[str, Any]) -> None:
    for period, (code, report, _) in history["runs"].items():
        assert report["fel"] == 0, (period, [f["meddelande"] for f in report["fynd"]
                                             if f["allvarlighet"] == "fel"])
        assert all(f["status"] == "godkänd" for f in report["filer"]), period
        # 2026-T3: Vuxensektionen is missing
        assert code == (1 if period == "2026-T3" else 0), period
    old = [history["folder"] / p for p in PERIODS if not p.startswith("2026")]
    result = CliRunner().invoke(cli, ["check", *map(str, old), "--json", "--katalog",
                                      str(history["catalog"])])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fel"] == 0


def test_the_register_expects_the_units_of_the_period(history: dict[str, Any]) -> None:
    expected = {
        "2024-T3": {NAMES[u]: "levererad" for u in UNITS},
        "2025-T3": {NAMES[u]: "levererad" for u in UNITS},
        "2026-T1": {NAMES[u]: "levererad" for u in UNITS_2026},
        "2026-T3": {**{NAMES[u]: "levererad" for u in UNITS_2026}, "Vuxensektionen": "saknas"},
    }
    for period, (_, report, wb) in history["runs"].items():
        ws = wb["Inlämning"]
        header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Enhet")
        states = {ws.cell(r, 1).value: ws.cell(r, 2).value
                  for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value}
        assert states == expected[period], period
        assert ({e["enhetsnamn"]: e["status"] for e in report["inlamning"]}
                == expected[period]), period
        units = len(expected[period])
        delivered = sum(1 for s in expected[period].values() if s == "levererad")
        assert (f"Underlag från {delivered} av {units} enheter"
                in wb["Sammanställning"].cell(2, 1).value)


def test_history_columns_and_an_unchanged_indicator(history: dict[str, Any]) -> None:
    for period, (_, _, wb) in history["runs"].items():
        sheet = Sheet(wb)
        assert sheet.periods() == PERIODS[:PERIODS.index(period) + 1]
        for column in sheet.periods():
            assert sheet.cell(CONTROL_NAME, column) == board_value(history["typed"], column,
                                                                   "forebyggande_insatser")


def test_an_added_indicator_starts_with_the_new_plan(history: dict[str, Any]) -> None:
    typed = history["typed"]
    for period in ("2024-T3", "2025-T3"):
        assert Sheet(history["runs"][period][2]).rows(NEW_IND) == []  # not started: left out
    for period in ("2026-T1", "2026-T3"):
        sheet = Sheet(history["runs"][period][2])
        for column in sheet.periods():
            expected = (board_value(typed, column, "nya_familjer") if column.startswith("2026")
                        else "ej aktuell")
            assert sheet.cell(NEW_IND, column) == expected, (period, column)
        assert sheet.cell(NEW_IND, "Börläge") == 120
        assert sheet.notes(NEW_IND) == ["Ny från 2026-T1."]
        # far above 120 in the figures typed
        assert sheet.cell(NEW_IND, "Status").startswith("● Grön")


def test_a_retired_indicator_keeps_its_history(history: dict[str, Any]) -> None:
    typed = history["typed"]
    assert Sheet(history["runs"]["2025-T3"][2]).cell(RETIRED_NAME, "Status").startswith(
        ("● Grön", "● Gul", "● Röd"))
    for period in ("2026-T1", "2026-T3"):
        sheet = Sheet(history["runs"][period][2])
        assert sheet.cell(RETIRED_NAME, "Status") == "● Grå\nAvslutad 2025-T3"
        # the status says it; no "Ny från" for its later columns
        assert sheet.notes(RETIRED_NAME) == []
        for column in sheet.periods():
            shown = sheet.cell(RETIRED_NAME, column)
            if column.startswith("2026"):
                assert shown == "ej aktuell", (period, column)
            else:
                assert shown == pytest.approx(
                    board_value(typed, column, "andel_vuxna_utredning")), (period, column)
        per_unit = history["runs"][period][2]["Per enhet"]
        assert not any(str(c.value).startswith(RETIRED_NAME) for c in per_unit["A"])


def test_a_retargeted_indicator_is_judged_against_the_borlage_of_its_year(
        history: dict[str, Any]) -> None:
    typed = history["typed"]
    baseline, tolerance = 106, 0.5
    for period, target in (("2025-T3", 122), ("2026-T1", 130)):
        sheet = Sheet(history["runs"][period][2])
        value = board_value(typed, period, "medarbetare_tidiga_insatser")
        assert value is not None and sheet.cell(RETARGET_NAME, period) == value
        assert sheet.cell(RETARGET_NAME, "Börläge") == target
        expected = ("● Grön" if value >= target
                    else "● Gul" if value - baseline > tolerance else "● Röd")
        assert sheet.cell(RETARGET_NAME, "Status").startswith(expected), (period, value)
    assert Sheet(history["runs"]["2025-T3"][2]).notes(RETARGET_NAME) == []
    assert Sheet(history["runs"]["2026-T1"][2]).cell(RETARGET_NAME, "Status").startswith("● Gul")
    assert Sheet(history["runs"]["2026-T1"][2]).notes(RETARGET_NAME) == [
        "Börläge ändrat 2026: 122,0 → 130,0."]


def test_a_merged_unit_stays_in_the_history_and_is_not_expected_after(
        history: dict[str, Any]) -> None:
    typed = history["typed"]
    before = Sheet(history["runs"]["2025-T3"][2])
    assert before.rows(OLD_NAME) and before.notes(OLD_NAME) == []  # the name of then, no change yet
    for period in ("2026-T1", "2026-T3"):
        wb = history["runs"][period][2]
        sheet = Sheet(wb)
        assert sheet.rows(OLD_NAME) == []
        assert sheet.notes(NEW_NAME) == [f"Hette till och med 2025-T3: {OLD_NAME}.",
                                         "Socialpsykiatrin ingår i Beroendeenheten från 2026-T1."]
        for column in sheet.periods():
            # Up to 2025-T3 both units' numerators and denominators; from 2026 Beroendeenheten's
            # alone.
            assert sheet.cell(NEW_NAME, column) == pytest.approx(board_value(typed, column,
                                                                             "belaggning_stodboende"))
        status = sheet.cell(NEW_NAME, "Status")
        assert "Socialpsykiatrin" not in status and "Ofullständigt" not in status
        heads = [c.value for c in wb["Per enhet"][4]]
        assert "Socialpsykiatrin" not in heads and "Ungdomsboendet Myren" not in heads
        data = wb["Data"]
        unit_col = [c.value for c in data[1]].index("Enhet")  # the unit's name
        rows = [(r[0].value, r[unit_col].value) for r in data.iter_rows(min_row=2)]
        merged = {p for p, name in rows if name == "Socialpsykiatrin"}
        assert merged == {p for p in PERIODS if not p.startswith("2026")}, period
    # Before the merge, a missing Socialpsykiatrin would have made the figure incomplete.
    expected_2025 = board_value(typed, "2025-T3", "belaggning_stodboende")
    nums = sum(typed[("2025-T3", u)]["ind_belaggning_stodboende_taljare"]
               for u in ("beroende", "socialpsykiatri"))
    assert (expected_2025 == nums / 2000
            and before.cell(OLD_NAME, "2025-T3") == pytest.approx(expected_2025))


def test_each_master_is_judged_by_the_plan_of_its_period(history: dict[str, Any]) -> None:
    """A run for 2025-T3 with the new catalog shows the board as it was then: no 2026 indicator,
    börläge 122, the earlier name and every unit expected."""
    sheet = Sheet(history["runs"]["2025-T3"][2])
    assert sheet.rows(NEW_IND) == [] and sheet.rows(NEW_NAME) == [] and sheet.rows(OLD_NAME)
    assert sheet.cell(RETARGET_NAME, "Börläge") == 122
    assert all(not sheet.notes(name)
               for name in (CONTROL_NAME, RETIRED_NAME, RETARGET_NAME, OLD_NAME))
    assert Period(2025, 3) == parse_period(sheet.periods()[-1])
