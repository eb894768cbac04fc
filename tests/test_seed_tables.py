"""The real tables of the seed reports typed into the templates validate clean; one wrong cell is
caught there.

Figures are copied by hand from ../shared/seeds/001_…txt (Resurscentrum 2009–2011) and
002_…txt (uppföljningsrapport aug 2019), not read through the product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.model import Finding
from consolidate.run import check_files

from conftest import fill

UNIT = "forebyggande"
SOURCES = ("polis", "bun", "anhoriga_bekanta", "sjukvard_psykiatrivard", "berord_vardnadshavare",
           "socialtjansten", "anonym", "ovriga")
QUESTIONS = ("hur_nojd_ar_du_med_hjalpen_radgivningen__andel",
             "hur_nojd_ar_du_med_det_bemotande_du_fatt_andel",
             "hur_val_har_hjalpen_radgivningen_uppfyll_andel",
             "tank_dig_den_basta_radgivning_man_kan_fa_andel")
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

# 001: "Varifrån kommer ärendena" (Ärenden, Andel %), SUMMA row; 2009's shares add up to 101 %.
CASES_BY_SOURCE = {
    2009: ([184, 150, 89, 85, 137, 47, 43, 38], [24, 19, 12, 11, 18, 6, 6, 5], 773),
    2010: ([229, 1076, 111, 62, 131, 80, 45, 58], [13, 60, 6, 3, 7, 4, 3, 3], 1792),
    2011: ([226, 1244, 101, 76, 201, 101, 43, 42], [11, 61, 5, 4, 10, 5, 2, 2], 2034),
}
# 001: "Fördelning antal ärenden mellan service och myndighetsutövning".
SERVICE = {2009: (442, 460), 2010: (698, 502), 2011: (1421, 553)}
# 001: "Inledda utredningar inom stöd och omsorg" of all closed cases.
STARTED = {2009: 140, 2010: 150, 2011: 170}
# 001: surveys, share "Mycket nöjd/Helt nöjd" per question, and "Totalt inkomna enkäter".
FAMILIES = {2009: ([86, 86, 77, 62], 14), 2010: ([88, 88, 88, 88], 8), 2011: ([64, 64, 82, 55], 10)}
SCHOOL = {2009: ([83, 100, 83, 67], 6), 2010: ([68, 94, 78, 73], 19), 2011: ([64, 82, 64, 55], 9)}
# 002: "Antal medarbetare som avslutat sin anställning på SOF", per month.
LEFT = {2018: [7, 7, 5, 6, 10, 6, 6, 6, 9, 7, 8, 5], 2019: [5, 7, 6, 4, 6, 8, 6, 10]}
# 002, August 2019: 10 left = 1 pension + 7 own request + 2 other; 13 incidents, 6 tillbud, 1 injury
# with absence.
TURNOVER = (10, 1, 7, 2)
INCIDENTS = (13, 6, 1)

# Which template each seed year goes into: 2018's twelve months need a T3 template, 2019's jan–aug a
# T2.
FILES = {2009: ("2018-T3", 2018), 2010: ("2019-T2", 2019), 2011: ("2019-T3", None)}


def unit_tables(year: int, last_month: int, months: int = 2019) -> dict[str, Any]:
    """The unit tables of one seed year as typed into a template whose period ends with
    last_month."""
    counts, shares, total = CASES_BY_SOURCE[year]
    values: dict[str, Any] = {
        "tab_arenden_per_kalla_summa_antal": total,
        "tab_arenden_per_kalla_summa_andel": 1.0,
        "tab_service_myndighet_service_antal": SERVICE[year][0],
        "tab_service_myndighet_myndighetsutovning_antal": SERVICE[year][1],
        "tab_service_myndighet_summa_antal": SERVICE[year][0] + SERVICE[year][1],
        "tab_inledda_utredningar_total_antal": SERVICE[year][0] + SERVICE[year][1],
        "tab_inledda_utredningar_inledda_utredningar_antal": STARTED[year],
        "tab_enkat_familjer_svar_antal": FAMILIES[year][1],
        "tab_enkat_skola_svar_antal": SCHOOL[year][1],
        "tab_personalomsattning_total_antal": TURNOVER[0],
        "tab_personalomsattning_pensionsavgang_antal": TURNOVER[1],
        "tab_personalomsattning_egen_begaran_antal": TURNOVER[2],
        "tab_personalomsattning_annan_orsak_antal": TURNOVER[3],
        "tab_tillbud_skador_total_antal": INCIDENTS[0],
        "tab_tillbud_skador_tillbud_antal": INCIDENTS[1],
        "tab_tillbud_skador_skador_som_lett_till_franvaro_antal": INCIDENTS[2],
    }
    for row, count, share in zip(SOURCES, counts, shares, strict=True):
        values[f"tab_arenden_per_kalla_{row}_antal"] = count
        # As a percent cell holds it: 24 % is 0,24.
        values[f"tab_arenden_per_kalla_{row}_andel"] = share / 100
    for table, (shares_q, _) in (("enkat_familjer", FAMILIES[year]), ("enkat_skola", SCHOOL[year])):
        for question, share in zip(QUESTIONS, shares_q, strict=True):
            values[f"tab_{table}_{question}"] = share / 100
    for month, count in zip(MONTHS[:last_month], LEFT[months], strict=False):
        values[f"tab_avslutade_per_manad_avslutade_anstallningar_{month}"] = count
    return values


def seed_values(year: int) -> dict[str, Any]:
    period, months = FILES[year]
    last = {"T1": 4, "T2": 8, "T3": 12}[period[-2:]]
    # Indicators of the unit (004: 1 931 take part in preventive work; 108,3 åa).
    return {"ind_forebyggande_insatser_varde": 1931, "ind_medarbetare_tidiga_insatser_varde": 108.3,
            **unit_tables(year, last, months or 2018)}


def cell_of(row: int, col: str = "B") -> str:
    return f"{col}{row}"


@dataclass(frozen=True)
class Wrong:
    id: str
    year: int
    changes: dict[str, Any]
    code: str
    sheet: str
    cell: str
    also: tuple[str, ...] = ()  # cells on the same sheet that the change may also touch


def wrong_cells() -> list[Wrong]:
    out: list[Wrong] = []
    for year, (counts, shares, total) in CASES_BY_SOURCE.items():
        for i, row in enumerate(SOURCES):
            # A share two points off is caught at that share.
            new_share = shares[i] + 2 if shares[i] < 50 else shares[i] - 2
            out.append(Wrong(f"{year}-andel-{row}", year,
                             {f"tab_arenden_per_kalla_{row}_andel": new_share / 100},
                             "andel_antal", "Ärenden per källa", cell_of(6 + i, "C")))
            # A count one off: the parts no longer add up to SUMMA (the share of that row may also
            # stop matching).
            out.append(Wrong(f"{year}-antal-{row}", year,
                             {f"tab_arenden_per_kalla_{row}_antal": counts[i] + 1},
                             "summa", "Ärenden per källa", "B14", also=(cell_of(6 + i, "C"),)))
        out.append(Wrong(f"{year}-summa", year, {"tab_arenden_per_kalla_summa_antal": total - 1},
                         "summa", "Ärenden per källa", "B14",
                         also=tuple(cell_of(6 + i, "C") for i in range(8))))
        out.append(Wrong(f"{year}-summa-andel", year, {"tab_arenden_per_kalla_summa_andel": 0.99},
                         "andel_summa", "Ärenden per källa", "C14"))
        out.append(Wrong(f"{year}-service", year,
                         {"tab_service_myndighet_service_antal": SERVICE[year][0] + 1},
                         "summa", "Service och myndighet", "B8"))
        out.append(Wrong(f"{year}-inledda", year,
                         {"tab_inledda_utredningar_inledda_utredningar_antal":
                          sum(SERVICE[year]) + 1},
                         "varav_storre", "Inledda utredningar", "B7"))
        for table, sheet in (("enkat_familjer", "Enkät familjer"), ("enkat_skola", "Enkät skola")):
            for i, question in enumerate(QUESTIONS):
                out.append(Wrong(f"{year}-{table}-{i}", year, {f"tab_{table}_{question}": None},
                                 "enkat_andel_saknas", sheet, cell_of(6 + i)))
            out.append(Wrong(f"{year}-{table}-skala", year, {f"tab_{table}_{QUESTIONS[0]}": 64},
                             "procent_skala", sheet, "B6"))
    for year in (2009, 2010):
        last = {2009: 12, 2010: 8}[year]
        for m in range(last):
            out.append(Wrong(f"{year}-manad-{MONTHS[m]}", year,
                             {f"tab_avslutade_per_manad_avslutade_anstallningar_{MONTHS[m]}": None},
                             "manad_saknas", "Avslutade per månad", f"{'BCDEFGHIJKLM'[m]}6"))
    out.append(Wrong("2010-manad-sep", 2010,
                     {"tab_avslutade_per_manad_avslutade_anstallningar_sep": 9},
                     "framtida_manad", "Avslutade per månad", "J6"))
    for i, row in enumerate(("pensionsavgang", "egen_begaran", "annan_orsak")):
        out.append(Wrong(f"personal-{row}", 2010,
                         {f"tab_personalomsattning_{row}_antal": TURNOVER[i + 1] + 1},
                         "varav_summa", "Personalomsättning", "B6"))
    out.append(Wrong("personal-total", 2010, {"tab_personalomsattning_total_antal": 11},
                     "varav_summa", "Personalomsättning", "B6"))
    out.append(Wrong("tillbud-storre", 2010, {"tab_tillbud_skador_tillbud_antal": 14},
                     "varav_storre", "Tillbud och skador", "B7"))
    out.append(Wrong("skador-storre", 2010,
                     {"tab_tillbud_skador_skador_som_lett_till_franvaro_antal": 14},
                     "varav_storre", "Tillbud och skador", "B8"))
    out.append(Wrong("personal-del-storre", 2011, {"tab_personalomsattning_egen_begaran_antal": 12},
                     "varav_storre", "Personalomsättning", "B8", also=("B6",)))
    out.append(Wrong("tillbud-text", 2011, {"tab_tillbud_skador_total_antal": "tretton"}, "ej_tal",
                     "Tillbud och skador", "B6"))
    return out


WRONG = wrong_cells()


def fill_variants(template: Path, base: dict[str, Any],
                  variants: list[tuple[Path, dict[str, Any]]]) -> list[Path]:
    """Like conftest.fill, typing the base values once and saving one workbook per one-cell
    change."""
    wb = openpyxl.load_workbook(template)

    def cell(name: str) -> Any:
        ((sheet, ref),) = wb.defined_names[name].destinations
        return wb[sheet][ref.replace("$", "")]

    for name, value in base.items():
        cell(name).value = value
    for path, changes in variants:
        before = {name: cell(name).value for name in changes}
        for name, value in changes.items():
            cell(name).value = value
        wb.save(path)
        for name, value in before.items():
            cell(name).value = value
    return [path for path, _ in variants]


@pytest.fixture(scope="module")
def seeds_checked(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
                  template_cache: Callable[[str, str], Path]) -> dict[str, list[Finding]]:
    """The three clean seed files and every one-cell change, all in one check."""
    folder = tmp_path_factory.mktemp("seeds")
    paths = [fill(template_cache(UNIT, FILES[year][0]), seed_values(year),
                  folder / f"seed{year}_{UNIT}.xlsx")
             for year in FILES]
    for year in FILES:
        variants = [(folder / f"{w.id}_{UNIT}.xlsx", w.changes) for w in WRONG if w.year == year]
        paths += fill_variants(template_cache(UNIT, FILES[year][0]), seed_values(year), variants)
    result = check_files(paths, catalog, folder)
    return {s.file: result.of(s) for s in result.submissions}


def test_arithmetic_of_the_seed_tables() -> None:
    """The reports' own sums, checked here so the test data cannot drift from the reports."""
    assert [sum(c) for c, _, _ in CASES_BY_SOURCE.values()] == [773, 1792, 2034]
    assert sum(CASES_BY_SOURCE[2009][1]) == 101  # rounding: the real table does not add up to 100 %
    assert sum(TURNOVER[1:]) == TURNOVER[0]
    assert INCIDENTS[1] + INCIDENTS[2] <= INCIDENTS[0]
    assert len(LEFT[2018]) == 12 and len(LEFT[2019]) == 8


@pytest.mark.parametrize("year", sorted(FILES))
def test_seed_tables_validate_clean(year: int, seeds_checked: dict[str, list[Finding]]) -> None:
    assert seeds_checked[f"seed{year}_{UNIT}.xlsx"] == []


@pytest.mark.parametrize("wrong", WRONG, ids=[w.id for w in WRONG])
def test_one_wrong_cell_is_caught_there(wrong: Wrong,
                                        seeds_checked: dict[str, list[Finding]]) -> None:
    found = seeds_checked[f"{wrong.id}_{UNIT}.xlsx"]
    assert ([(f.sheet, f.cell, f.severity) for f in found if f.code == wrong.code]
            == [(wrong.sheet, wrong.cell, "fel")])
    allowed = {(wrong.sheet, wrong.cell)} | {(wrong.sheet, c) for c in wrong.also}
    assert {(f.sheet, f.cell) for f in found} <= allowed, found
