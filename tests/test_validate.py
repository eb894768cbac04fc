"""Every value rule on real workbooks: each finding points at the right sheet and cell, in
Swedish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.findings import RULES
from consolidate.model import Finding
from consolidate.periods import Period
from consolidate.run import check_files
from test_seed_tables import unit_tables

from conftest import fill

T2 = Period(2025, 2)
F, B, V, M = "forebyggande", "barn_unga", "vuxen", "myren"
SURVEY_Q1 = "tab_enkat_familjer_hur_nojd_ar_du_med_hjalpen_radgivningen__andel"
SCHOOL = "tab_enkat_skola_"
SCHOOL_Q3 = "tab_enkat_skola_hur_val_har_hjalpen_radgivningen_uppfyll_andel"
MONTH = "tab_avslutade_per_manad_avslutade_anstallningar_"


def plain(text: str) -> str:
    """Message text with Swedish typography made plain for comparisons."""
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")


@dataclass(frozen=True)
class Case:
    id: str
    unit: str
    changes: dict[str, Any]
    code: str
    severity: str
    sheet: str
    cells: tuple[str, ...]
    quotes: tuple[str, ...] = ()
    also: tuple[str, ...] = field(default=())  # other cells that may carry findings


CASES = [
    Case("saknas_tom", F, {"ind_forebyggande_insatser_varde": None}, "saknas", "fel", "Indikatorer",
         ("D6",), ("Antal som tar del av förebyggande insatser", "saknas", "Skriv 0")),
    Case("saknas_streck", F, {"ind_forebyggande_insatser_varde": "-"}, "saknas", "fel",
         "Indikatorer", ("D6",), ('"-"', "saknas")),
    Case("saknas_tabell", F, {"tab_arenden_per_kalla_polis_antal": None}, "saknas", "fel",
         "Ärenden per källa", ("B6",), ("Polis",)),
    Case("saknas_varav", M, {"tab_personalomsattning_total_antal": None}, "saknas", "fel",
         "Personalomsättning", ("B6",), ("Avslutade anställningar",)),
    Case("heltal", F, {"ind_forebyggande_insatser_varde": 1931.5}, "heltal", "fel", "Indikatorer",
         ("D6",), ("1 931,5", "heltal")),
    Case("heltal_tabell", F, {"tab_service_myndighet_service_antal": 1421.5}, "heltal", "fel",
         "Service och myndighet", ("B6",), ("1 421,5",), also=("B8",)),
    Case("negativ", F, {"tab_tillbud_skador_tillbud_antal": -1}, "negativ", "fel",
         "Tillbud och skador", ("B7",), ("-1", "negativt")),
    Case("negativ_indikator", F, {"ind_forebyggande_insatser_varde": -5}, "negativ", "fel",
         "Indikatorer", ("D6",), ("-5",)),
    Case("andel_over_100", F, {SURVEY_Q1: "150 %"}, "andel_intervall", "fel", "Enkät familjer",
         ("B6",), ("150 %", "0–100 %")),
    Case("andel_negativ", F, {SURVEY_Q1: "-5 %"}, "andel_intervall", "fel", "Enkät familjer",
         ("B6",), ("-5 %",)),
    Case("orimligt", F, {"ind_forebyggande_insatser_varde": 25000}, "orimligt", "varning",
         "Indikatorer", ("D6",), ("25 000", "0–20 000")),
    Case("orimligt_kvot", B, {"ind_andel_barn_utredning_taljare": 3000}, "orimligt", "varning",
         "Indikatorer", ("D7",), ("24 %", "0 %–20 %")),
    Case("summa", F, {"tab_service_myndighet_service_antal": 1422}, "summa", "fel",
         "Service och myndighet", ("B8",), ("1 975", "1 974", "SUMMA")),
    Case("summa_fordelning", F, {"tab_arenden_per_kalla_summa_antal": 2035}, "summa", "fel",
         "Ärenden per källa", ("B14",), ("2 034", "2 035")),
    Case("andel_antal", F, {"tab_arenden_per_kalla_bun_andel": 0.63}, "andel_antal", "fel",
         "Ärenden per källa", ("C7",), ("63 %", "1 244", "2 034", "61,2 %")),
    Case("andel_antal_text", F, {"tab_arenden_per_kalla_polis_andel": "9 %"}, "andel_antal", "fel",
         "Ärenden per källa", ("C6",), ("9 %", "226", "11,1 %")),
    Case("andel_summa", F, {"tab_arenden_per_kalla_summa_andel": 0.98}, "andel_summa", "fel",
         "Ärenden per källa", ("C14",), ("98 %", "100 %")),
    Case("varav_storre", F, {"tab_tillbud_skador_tillbud_antal": 14}, "varav_storre", "fel",
         "Tillbud och skador", ("B7",), ("14", "13")),
    Case("varav_summa", F, {"tab_personalomsattning_egen_begaran_antal": 8}, "varav_summa", "fel",
         "Personalomsättning", ("B6",), ("11", "10")),
    Case("varav_summa_total", M, {"tab_personalomsattning_total_antal": 2}, "varav_summa", "fel",
         "Personalomsättning", ("B6",), ("1", "2")),
    Case("taljare_storre", B, {"ind_andel_insats_under_utredning_taljare": 250}, "taljare_storre",
         "fel", "Indikatorer", ("D8",), ("250", "200")),
    Case("namnare_noll", B,
         {"ind_utredningar_90_dagar_barn_taljare": 0, "ind_utredningar_90_dagar_barn_namnare": 0},
         "namnare_noll", "fel", "Indikatorer", ("E9",), ("nämnaren är 0",)),
    Case("negativ_taljare", B, {"ind_andel_barn_utredning_taljare": -5}, "negativ", "fel",
         "Indikatorer", ("D7",), ("-5",)),
    Case("negativ_namnare", B, {"ind_andel_barn_utredning_namnare": -12500}, "negativ", "fel",
         "Indikatorer", ("E7",), ("-12 500",)),
    Case("taljare_storre_myren", M, {"ind_belaggning_myren_taljare": 7301}, "taljare_storre", "fel",
         "Indikatorer", ("D6",), ("7 301", "7 300")),
    Case("manad_saknas", F, {MONTH + "aug": None}, "manad_saknas", "fel", "Avslutade per månad",
         ("I6",), ("aug", "2025-T2")),
    Case("manad_saknas_jan", V, {MONTH + "jan": None}, "manad_saknas", "fel", "Avslutade per månad",
         ("B6",), ("jan",)),
    Case("framtida_manad", F, {MONTH + "sep": 3}, "framtida_manad", "fel", "Avslutade per månad",
         ("J6",), ("sep", "2025-T2")),
    Case("enkat_utan_svar", F, {SCHOOL + "svar_antal": 0}, "enkat_utan_svar", "fel", "Enkät skola",
         ("B6", "B7", "B8", "B9"), ("enkäter är 0",)),
    Case("enkat_andel_saknas", F, {SCHOOL_Q3: None}, "enkat_andel_saknas", "fel", "Enkät skola",
         ("B8",), ("9 enkäter",)),
    Case("ej_tal", V, {"ind_icke_bistandsbedomda_vuxen_varde": "ca 40"}, "ej_tal", "fel",
         "Indikatorer", ("D6",), ('"ca 40"',)),
    Case("ej_tal_tabell", F, {"tab_tillbud_skador_total_antal": "tretton"}, "ej_tal", "fel",
         "Tillbud och skador", ("B6",), ('"tretton"',)),
    Case("tvetydig_punkt", F, {"ind_forebyggande_insatser_varde": "2.500"}, "tvetydig_punkt", "fel",
         "Indikatorer", ("D6",), ('"2.500"', "2 500", "2,5")),
    Case("procent_skala", F, {"tab_arenden_per_kalla_bun_andel": 61}, "procent_skala", "fel",
         "Ärenden per källa", ("C7",), ("6 100 %", "61 %")),
    Case("procent_skala_text", F, {SURVEY_Q1: "64"}, "procent_skala", "fel", "Enkät familjer",
         ("B6",), ('"64"', "6 400 %")),
    Case("fel_enhet", B, {"ind_kostnad_externa_placeringar_varde": "110 400 tkr"}, "fel_enhet",
         "fel", "Indikatorer", ("D12",), ('"110 400 tkr"', "110,4")),
    Case("fel_enhet_procent", F, {"tab_tillbud_skador_total_antal": "13 %"}, "fel_enhet", "fel",
         "Tillbud och skador", ("B6",), ('"13 %"',)),
]
VALID_UNITS = (F, B, V, M, "beroende", "socialpsykiatri")

# The values the cases quote, typed explicitly over a complete valid fill (demo.unit_values):
# forebyggande gets the real 2011 tables of 001 and jan–aug 2019 of 002.
KNOWN: dict[str, dict[str, Any]] = {
    F: {"ind_forebyggande_insatser_varde": 1412, "ind_medarbetare_tidiga_insatser_varde": 62.3,
        **unit_tables(2011, 8)},
    B: {"ind_forebyggande_insatser_varde": 519, "ind_andel_barn_utredning_taljare": 525,
        "ind_andel_barn_utredning_namnare": 12500, "ind_andel_insats_under_utredning_taljare": 34,
        "ind_andel_insats_under_utredning_namnare": 200,
        "ind_utredningar_90_dagar_barn_taljare": 40,
        "ind_utredningar_90_dagar_barn_namnare": 200, "ind_medarbetare_utredning_varde": 98.5,
        "ind_medarbetare_tidiga_insatser_varde": 24.0,
        "ind_kostnad_externa_placeringar_varde": 112.4},
    V: {"ind_icke_bistandsbedomda_vuxen_varde": 35},
    M: {"ind_belaggning_myren_taljare": 4599, "ind_belaggning_myren_namnare": 7300,
        "tab_personalomsattning_total_antal": 1, "tab_personalomsattning_pensionsavgang_antal": 0,
        "tab_personalomsattning_egen_begaran_antal": 0,
        "tab_personalomsattning_annan_orsak_antal": 1},
}


def base_values(catalog: Catalog, unit: str, period: Period) -> dict[str, Any]:
    return {**unit_values(catalog, load_seeds(), unit, period), **KNOWN.get(unit, {})}


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
            template_cache: Callable[[str, str], Path]) -> dict[str, list[Finding]]:
    """All cases and a valid file per unit in one folder, checked in one call."""
    folder = tmp_path_factory.mktemp("regler")
    paths = []
    for unit in VALID_UNITS:
        paths.append(fill(template_cache(unit, str(T2)), base_values(catalog, unit, T2),
                          folder / f"giltig_{unit}.xlsx"))
    for case in CASES:
        values = {**base_values(catalog, case.unit, T2), **case.changes}
        paths.append(fill(template_cache(case.unit, str(T2)), values,
                          folder / f"{case.id}_{case.unit}.xlsx"))
    result = check_files(paths, catalog, folder)
    return {sub.file: result.of(sub) for sub in result.submissions}


def test_valid_files_have_no_findings(checked: dict[str, list[Finding]]) -> None:
    for unit in VALID_UNITS:
        assert checked[f"giltig_{unit}.xlsx"] == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_points_at_the_cell(case: Case, checked: dict[str, list[Finding]]) -> None:
    found = checked[f"{case.id}_{case.unit}.xlsx"]
    hits = [f for f in found if f.code == case.code]
    assert (sorted((f.sheet, f.cell) for f in hits)
            == sorted((case.sheet, c) for c in case.cells)), found
    for hit in hits:
        assert hit.severity == case.severity
        assert hit.unit == case.unit and hit.period == "2025-T2"
        for quote in case.quotes:
            assert quote in plain(hit.message), hit.message
    # Nothing else is flagged, except cells the change necessarily touches.
    allowed = {(case.sheet, c) for c in case.cells} | {(case.sheet, c) for c in case.also}
    assert {(f.sheet, f.cell) for f in found} <= allowed, found


def test_one_finding_per_problem(checked: dict[str, list[Finding]]) -> None:
    """A negative share is out of range; it is not also reported as a negative count or as
    implausible."""
    for name in ("andel_negativ_forebyggande.xlsx", "negativ_indikator_forebyggande.xlsx",
                 "negativ_taljare_barn_unga.xlsx", "negativ_namnare_barn_unga.xlsx",
                 "ej_tal_vuxen.xlsx", "saknas_tabell_forebyggande.xlsx"):
        assert len(checked[name]) == 1, checked[name]


def test_a_missing_part_does_not_also_break_the_sum(checked: dict[str, list[Finding]]) -> None:
    codes = {f.code for f in checked["saknas_tabell_forebyggande.xlsx"]}
    assert codes == {"saknas"}


def test_every_value_rule_is_covered() -> None:
    covered = {c.code for c in CASES} | {"hopp", "tkr_mnkr"}
    value_rules = {"saknas", "heltal", "negativ", "andel_intervall", "orimligt", "summa",
                   "andel_antal",
                   "andel_summa", "varav_storre", "varav_summa", "taljare_storre", "namnare_noll",
                   "manad_saknas", "framtida_manad", "enkat_utan_svar", "enkat_andel_saknas",
                   "hopp", "tkr_mnkr", "ej_tal", "tvetydig_punkt", "procent_skala", "fel_enhet"}
    assert value_rules <= set(RULES)
    assert value_rules <= covered


@pytest.fixture(scope="module")
def jumps(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
          template_cache: Callable[[str, str], Path]) -> dict[str, list[Finding]]:
    """The same unit's previous tertial in the same folder: jumps and tkr/mnkr mix-ups warn."""
    folder = tmp_path_factory.mktemp("hopp")
    t1 = Period(2025, 1)
    before = {**base_values(catalog, B, t1), "ind_forebyggande_insatser_varde": 400,
              "ind_kostnad_externa_placeringar_varde": 110.4,
              "ind_medarbetare_utredning_varde": 89.4,
              "ind_medarbetare_tidiga_insatser_varde": 25.8,
              "ind_andel_barn_utredning_taljare": 547,
              "ind_andel_barn_utredning_namnare": 12500,
              "ind_andel_insats_under_utredning_taljare": 56,
              "ind_andel_insats_under_utredning_namnare": 200,
              "ind_utredningar_90_dagar_barn_taljare": 52,
              "ind_utredningar_90_dagar_barn_namnare": 200}
    now = {**base_values(catalog, B, T2),
           **{k: v for k, v in before.items() if k.startswith("ind_")},
           "ind_forebyggande_insatser_varde": 1000, "ind_kostnad_externa_placeringar_varde": 110400,
           "ind_andel_insats_under_utredning_taljare": 140}
    # vuxen: T1 typed in tkr, T2 right in mnkr.
    vuxen_before = {**base_values(catalog, V, t1), "ind_kostnad_externa_placeringar_varde": 64300}
    vuxen_now = {**base_values(catalog, V, T2), "ind_kostnad_externa_placeringar_varde": 64.3}
    paths = [
        fill(template_cache(B, str(t1)), before, folder / "2025-T1" / "2025-T1_barn_unga.xlsx"),
        fill(template_cache(B, str(T2)), now, folder / "2025-T2" / "2025-T2_barn_unga.xlsx"),
        fill(template_cache(V, str(t1)), vuxen_before, folder / "2025-T1" / "2025-T1_vuxen.xlsx"),
        fill(template_cache(V, str(T2)), vuxen_now, folder / "2025-T2" / "2025-T2_vuxen.xlsx"),
    ]
    result = check_files(paths, catalog, folder)
    return {sub.file: result.of(sub) for sub in result.submissions}


def test_jump_against_previous_tertial_warns(jumps: dict[str, list[Finding]]) -> None:
    now = jumps["2025-T2/2025-T2_barn_unga.xlsx"]
    hopp = sorted((f.cell, plain(f.message), f.severity) for f in now if f.code == "hopp")
    # forebyggande_insatser 400 -> 1 000 (+150 %) and insats under utredning 28 % -> 70 %.
    assert [c for c, _, _ in hopp] == ["D6", "D8"]
    assert all(sev == "varning" for _, _, sev in hopp)
    assert "1 000" in hopp[0][1] and "400" in hopp[0][1] and "2025-T1" in hopp[0][1]
    assert "70 %" in hopp[1][1] and "28 %" in hopp[1][1]


def test_tkr_mnkr_mixup_warns_both_ways(jumps: dict[str, list[Finding]]) -> None:
    now = jumps["2025-T2/2025-T2_barn_unga.xlsx"]
    mix = [f for f in now if f.code == "tkr_mnkr"]
    assert [(f.sheet, f.cell, f.severity) for f in mix] == [("Indikatorer", "D12", "varning")]
    assert ("110 400" in plain(mix[0].message) and "större" in mix[0].message
            and "110,4" in plain(mix[0].message))
    # A factor 1 000 is reported as a mix-up, not also as a jump.
    assert not [f for f in now if f.code == "hopp" and f.cell == "D12"]
    smaller = [f for f in jumps["2025-T2/2025-T2_vuxen.xlsx"] if f.code == "tkr_mnkr"]
    assert [(f.cell, f.severity) for f in smaller] == [("D11", "varning")]
    assert "mindre" in smaller[0].message


def test_jumps_only_against_the_previous_tertial(jumps: dict[str, list[Finding]]) -> None:
    """The earlier file has nothing to compare with; only warnings, no errors, anywhere."""
    assert not [f for f in jumps["2025-T1/2025-T1_barn_unga.xlsx"]
                if f.code in ("hopp", "tkr_mnkr")]
    for found in jumps.values():
        assert all(f.severity == "varning" for f in found), found
