"""Nothing implausible reaches the board unseen: a value outside the catalog's plausible range, or
a power of ten away from the unit's previous tertial, is marked in the master (colour and comment),
makes its indicator grå "kontrollera värdet", is listed by `run` (terminal and --json) and named in
the mail, unless the unit explained it in the indicator's comment cell. `check FILE` compares with
the previous tertial in the file's shared folder, and a monthly series warns on a month far above
the others (never on the real 2018–2019 series of seed 002)."""

from __future__ import annotations

import email
import json
import shutil
from collections.abc import Callable
from email import policy
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period
from consolidate.run import check_files, run

from conftest import ROOT, fill

T1, T2 = Period(2025, 1), Period(2025, 2)
UNITS = ("forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri")
KOSTNAD = "Alla placeringar ska granskas för att undersöka om det finns bättre och mindre kostsamma"
DOUBT_FILL = "FFFCD5B4"


def shared(folder: Path, template: Callable[[str, str], Path], catalog: Catalog,
           changes: dict[tuple[Period, str], dict[str, Any]]) -> dict[tuple[Period, str], Path]:
    """2025-T1 and 2025-T2 for every unit, filled from the seed figures, some cells changed."""
    paths = {}
    for period in (T1, T2):
        for unit in UNITS:
            values = {**unit_values(catalog, load_seeds(), unit, period),
                      **changes.get((period, unit), {})}
            paths[(period, unit)] = fill(template(unit, str(period)), values,
                                         folder / str(period) / f"{period}_{unit}.xlsx")
    return paths


def seed(catalog: Catalog, unit: str, period: Period, name: str) -> Any:
    return unit_values(catalog, load_seeds(), unit, period)[name]


def row_of(ws: Any, text: str, col: int = 1) -> int:
    return next(r for r in range(1, ws.max_row + 1)
                if str(ws.cell(r, col).value or "").startswith(text))


def col_of(ws: Any, head: str, row: int = 4) -> int:
    return next(c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value == head)


@pytest.fixture(scope="module")
def slipped(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
            template_cache: Callable[[str, str], Path]) -> Path:
    """Barn och unga typed its placement costs in tkr (×1 000) in T2; Vuxen typed ten times its
    staff, but explained it in the comment."""
    folder = tmp_path_factory.mktemp("slip") / "delad"
    kostnad = seed(catalog, "barn_unga", T2, "ind_kostnad_externa_placeringar_varde")
    staff = seed(catalog, "vuxen", T2, "ind_medarbetare_utredning_varde")
    shared(folder, template_cache, catalog, {
        (T2, "barn_unga"): {"ind_kostnad_externa_placeringar_varde": kostnad * 1000},
        (T2, "vuxen"): {"ind_medarbetare_utredning_varde": staff * 10,
                        "ind_medarbetare_utredning_kommentar":
                            "Utredningsenheten har tagit över all myndighetsutövning."}})
    return folder


def test_a_thousandfold_mnkr_value_is_marked_in_the_master(
        slipped: Path, invoke: Callable[..., Result], catalog: Catalog) -> None:
    result = invoke("run", slipped)
    assert result.exit_code == 0, result.output
    typed = seed(catalog, "barn_unga", T2, "ind_kostnad_externa_placeringar_varde") * 1000
    shown = f"{typed:,.1f}".replace(",", "\u00a0").replace(".", ",") + " mnkr"
    # The terminal lists the value to check, who typed it and where; the explained one is counted.
    assert ("Värden att kontrollera: 1 (markerade i sammanställningen); 1 förklarade av enheterna "
            "i kommentaren.") in result.output
    line = next(li for li in result.output.splitlines()
                if "Barn- och ungdomssektionen 2025-T2" in li)
    assert shown in line and "1 000 gånger större" in line and "tkr i stället för mnkr" in line
    assert "2025-T2/2025-T2_barn_unga.xlsx, Indikatorer!D" in line
    wb = openpyxl.load_workbook(slipped / "sammanställning_2025-T2.xlsx")
    ws = wb["Sammanställning"]
    row = row_of(ws, KOSTNAD, col=2)
    t1, t2, status = col_of(ws, "T1 2025"), col_of(ws, "T2 2025"), col_of(ws, "Status")
    cell = ws.cell(row, t2)
    assert cell.fill.fgColor.rgb == DOUBT_FILL and shown in cell.comment.text
    assert "Barn- och ungdomssektionen" in cell.comment.text
    assert ws.cell(row, t1).fill.fgColor.rgb != DOUBT_FILL and ws.cell(row, t1).comment is None
    assert ws.cell(row, status).value.startswith(
        "● Grå\nKontrollera värdet: Barn- och ungdomssektionen, ungefär 1 000 gånger större")
    # The explained staff figure is judged as usual.
    staff = row_of(ws, "Antal medarbetare som arbetar med utredningar", col=2)
    assert "Kontrollera" not in ws.cell(staff, status).value
    assert ws.cell(staff, t2).fill.fgColor.rgb != DOUBT_FILL
    per_unit = wb["Per enhet"]
    row = row_of(per_unit, KOSTNAD)
    unit_cell = per_unit.cell(row, col_of(per_unit, "Barn- och ungdomssektionen"))
    assert unit_cell.value == pytest.approx(typed) and unit_cell.fill.fgColor.rgb == DOUBT_FILL
    assert shown in unit_cell.comment.text and "kommentaren" in unit_cell.comment.text
    vuxen = per_unit.cell(row, col_of(per_unit, "Vuxensektionen"))
    assert vuxen.fill.fgColor.rgb != DOUBT_FILL and vuxen.comment is None
    # The chart leaves the doubtful period out, as it does a partial one.
    data = wb["_diagramdata"]
    chart_row = row_of(data, KOSTNAD)
    assert data.cell(chart_row, col_of(data, "T1 2025", row=1)).value is not None
    assert data.cell(chart_row, col_of(data, "T2 2025", row=1)).value is None


def test_the_json_report_lists_both_and_says_which_is_explained(
        slipped: Path, invoke: Callable[..., Result], tmp_path: Path) -> None:
    result = invoke("run", slipped, "--json", "--out", tmp_path / "m.xlsx")
    data = json.loads(result.stdout)
    schema = json.loads((ROOT / "schemas" / "rapport.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    found = {(d["enhet"], d["indikator"]): d for d in data["kontrollera"]}
    assert set(found) == {("barn_unga", "kostnad_externa_placeringar"),
                          ("vuxen", "medarbetare_utredning")}
    cost, staff = (found[("barn_unga", "kostnad_externa_placeringar")],
                   found[("vuxen", "medarbetare_utredning")])
    assert (cost["kod"], cost["forklarad"], cost["period"]) == ("tkr_mnkr", False, "2025-T2")
    assert cost["fil"] == "2025-T2/2025-T2_barn_unga.xlsx" and cost["flik"] == "Indikatorer"
    assert (staff["kod"], staff["forklarad"]) == ("storleksordning", True)
    assert staff["forklaring"].startswith("Utredningsenheten")
    # The same values are warnings in the validation log: the file is accepted.
    codes = {(f["enhet"], f["kod"]) for f in data["fynd"]}
    assert {("barn_unga", "tkr_mnkr"), ("vuxen", "storleksordning")} <= codes
    assert data["fel"] == 0


def test_status_lists_the_value_to_check_before_any_master(
        slipped: Path, invoke: Callable[..., Result], catalog: Catalog) -> None:
    """During the submission window the controller sees the slip with `status`, as `run` would
    list it, and no master is written."""
    before = sorted(p.name for p in slipped.iterdir())
    result = invoke("status", slipped, "--period", "2025-T2")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in slipped.iterdir()) == before
    lines = result.output.splitlines()
    head = next(n for n, li in enumerate(lines) if li.startswith("Värden att kontrollera: 1 "))
    assert "Barn- och ungdomssektionen 2025-T2" in lines[head + 1]
    assert "tkr i stället för mnkr" in lines[head + 1]
    assert "2025-T2/2025-T2_barn_unga.xlsx, Indikatorer!D" in lines[head + 1]
    assert not any("Vuxensektionen 2025-T2" in li for li in lines)  # explained in its comment
    data = json.loads(invoke("status", slipped, "--period", "2025-T2", "--json").stdout)
    schema = json.loads((ROOT / "schemas" / "rapport.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert {(d["enhet"], d["kod"], d["forklarad"]) for d in data["kontrollera"]} == {
        ("barn_unga", "tkr_mnkr", False), ("vuxen", "storleksordning", True)}


def test_the_mail_names_the_value_to_check(slipped: Path, invoke: Callable[..., Result],
                                           tmp_path: Path, catalog: Catalog) -> None:
    master = tmp_path / "m.xlsx"
    invoke("run", slipped, "--out", master)
    result = invoke("mail", master, "--to", "namnd@exempelkommun.se")
    assert result.exit_code == 0, result.output
    eml = Path(result.output.split("utkorgen: ", 1)[1].strip())
    body = email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(
        ("plain",)).get_content()
    assert "Värden att kontrollera" in body
    [line] = [li for li in body.splitlines() if KOSTNAD[:40] in li]
    assert "Barn- och ungdomssektionen 2025-T2" in line and "1 000 gånger större" in line
    assert "Antal medarbetare som arbetar med utredningar" not in body.split("Största")[0].split(
        "Värden att kontrollera")[1]


def test_the_rule_precisely(tmp_path: Path, catalog: Catalog,
                            template_cache: Callable[[str, str], Path]) -> None:
    """Out of range; a factor 7 or more; the floor of 20 for counts; no slip after an implausible
    value; an implausible earlier value is not used for the trend."""
    folder = tmp_path / "delad"
    tidiga = seed(catalog, "forebyggande", T1, "ind_medarbetare_tidiga_insatser_varde")
    shared(folder, template_cache, catalog, {
        # 2 -> 15: seven and a half times, but small counts: no slip.
        (T1, "vuxen"): {"ind_icke_bistandsbedomda_vuxen_varde": 2,
                        # typed in tkr in T1 (outside 0–1 000 mnkr): implausible then ...
                        "ind_kostnad_externa_placeringar_varde": 64300},
        # ... and right in T2: going back is no slip.
        (T2, "vuxen"): {"ind_icke_bistandsbedomda_vuxen_varde": 15,
                        "ind_kostnad_externa_placeringar_varde": 64.3},
        # 3 -> 30: ten times, and 30 is no small count.
        (T1, "myren"): {"ind_belaggning_myren_taljare": 3, "ind_belaggning_myren_namnare": 400},
        (T2, "myren"): {"ind_belaggning_myren_taljare": 30, "ind_belaggning_myren_namnare": 400},
        # 6,5 times: below the factor 7, a jump (a warning) but no slip.
        (T2, "forebyggande"): {"ind_medarbetare_tidiga_insatser_varde": round(tidiga * 6.5, 1)},
        # a share out of its range (0–20 %) with nothing to compare with in T1
        (T1, "barn_unga"): {"ind_andel_barn_utredning_taljare": 3000,
                            "ind_andel_barn_utredning_namnare": 12500},
    })
    result = run(folder, catalog, write=False)
    found = {(d.period, d.unit, d.indicator): d.code for d in result.doubts}
    assert found == {
        ("2025-T1", "vuxen", "kostnad_externa_placeringar"): "orimligt",
        ("2025-T1", "barn_unga", "andel_barn_utredning"): "orimligt",
        ("2025-T2", "myren", "belaggning_myren"): "storleksordning",
    }
    warned = {(f.unit, f.scope, f.code) for f in result.report.findings if f.period == "2025-T2"}
    assert ("forebyggande", "medarbetare_tidiga_insatser", "hopp") in warned
    assert ("vuxen", "icke_bistandsbedomda_vuxen", "hopp") in warned
    assert result.board is not None
    rows = {r.indicator.id: r for r in result.board.rows}
    kostnad = rows["kostnad_externa_placeringar"]
    assert [c.column.key for c in kostnad.cells if c.doubts] == ["2025-T1"]
    assert "Kontrollera" not in kostnad.judgement.reason
    # The trend does not compare with the implausible T1 sum.
    assert kostnad.judgement.previous_column is None or \
        kostnad.judgement.previous_column.key != "2025-T1"
    myren = rows["belaggning_myren"].judgement
    assert (myren.status, myren.trend) == ("grå", "bedömning saknas")
    assert myren.reason == ("Kontrollera värdet: Ungdomsboendet Myren, ungefär 10 gånger större "
                            "än föregående tertial")


def test_an_annual_indicator_is_compared_with_the_year_before(
        tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path]) -> None:
    """Asked in T3 only: 36 in 2024-T3, 360 in 2025-T3 is a slip; the tertial before has none."""
    folder = tmp_path / "delad"
    for period, value in ((Period(2024, 3), 36), (Period(2025, 2), None), (Period(2025, 3), 360)):
        values = unit_values(catalog, load_seeds(), "beroende", period)
        if value is not None:
            values["ind_stod_hemmaplan_varde"] = value
        fill(template_cache("beroende", str(period)), values,
             folder / str(period) / f"{period}_beroende.xlsx")
    result = run(folder, catalog, write=False)
    [doubt] = [d for d in result.doubts if d.indicator == "stod_hemmaplan"]
    assert (doubt.period, doubt.code, doubt.previous) == ("2025-T3", "storleksordning", "36")
    assert doubt.short == "ungefär 10 gånger större än samma tertial året innan"
    [warning] = [f for f in result.report.findings if f.scope == "stod_hemmaplan"]
    assert "samma tertial året innan (36, 2024-T3)" in warning.message


# ---- check FILE uses the shared folder's history ---------------------------------------------

def test_check_of_one_file_compares_with_the_previous_tertial_beside_it(
        tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path],
        invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    staff = seed(catalog, "vuxen", T2, "ind_medarbetare_utredning_varde")
    paths = shared(folder, template_cache, catalog,
                   {(T2, "vuxen"): {"ind_medarbetare_utredning_varde": staff * 10}})
    file = paths[(T2, "vuxen")]
    result = invoke("check", file)
    assert result.exit_code == 0, result.output
    assert "ungefär 10 gånger större än föregående tertial" in result.stdout
    assert "Jämförs med föregående tertial i samma mapp:" in result.stderr
    assert "2025-T1_vuxen.xlsx" in result.stderr
    # The same file alone in a folder has nothing to compare with.
    alone = tmp_path / "ensam" / file.name
    alone.parent.mkdir()
    shutil.copy2(file, alone)
    result = invoke("check", alone)
    assert "föregående tertial" not in result.output
    # A newer but rejected earlier file, first by name, is not what a run would compare with: the
    # valid one is.
    t1 = folder / "2025-T1"
    fill(template_cache("vuxen", str(T1)), {**unit_values(catalog, load_seeds(), "vuxen", T1),
                                            "ind_medarbetare_utredning_varde": "ca 800"},
         t1 / "2025-T1_vuxen (1).xlsx")
    assert sorted(p.name for p in t1.glob("*vuxen*"))[0] == "2025-T1_vuxen (1).xlsx"
    found = check_files([file], catalog).all_findings()
    assert [f.code for f in found if f.scope == "medarbetare_utredning"] == ["storleksordning"]


# ---- monthly series --------------------------------------------------------------------------

# Seed 002 (hela förvaltningen): staff who left SOF per month, 2018 and January–August 2019.
SEED_2018 = [7, 7, 5, 6, 10, 6, 6, 6, 9, 7, 8, 5]
SEED_2019 = [5, 7, 6, 4, 6, 8, 6, 10]
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def _months(series: list[int]) -> dict[str, int]:
    return {f"tab_avslutade_per_manad_avslutade_anstallningar_{m}": v
            for m, v in zip(MONTHS, series, strict=False)}


@pytest.mark.parametrize(("period", "series", "warned"), [
    (Period(2025, 3), SEED_2018, []),
    (T2, SEED_2019, []),
    (T2, [5, 7, 6, 4, 60, 8, 6, 10], ["maj"]),          # a digit too many
    (T1, [0, 0, 1, 3], []),                            # small counts never
    (T2, [1, 0, 2, 1, 19, 0, 1, 2], []),               # below 20: not even five times counts
    (T2, [2, 3, 2, 3, 20, 2, 3, 2], ["maj"]),          # 20 against a median of 2
])
def test_a_month_far_above_the_others_warns(period: Period, series: list[int], warned: list[str],
                                            tmp_path: Path, catalog: Catalog,
                                            template_cache: Callable[[str, str], Path]) -> None:
    values = {**unit_values(catalog, load_seeds(), "vuxen", period), **_months(series)}
    path = fill(template_cache("vuxen", str(period)), values, tmp_path / f"{period}_vuxen.xlsx")
    found = [f for f in check_files([path], catalog).all_findings()
             if f.code == "manad_avvikande"]
    assert [f.message.split(": ")[1].split(" ")[0] for f in found] == warned
    assert all(f.severity == "varning" and f.sheet == "Avslutade per månad" for f in found)
