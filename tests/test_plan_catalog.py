"""The catalog's time axis: fran/till, börläge and nuläge per year, earlier names, merged units.
Every catalog here is the real text edited as a controller would; mistakes get a Swedish message
with the line of the key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.errors import CatalogError
from consolidate.layout import build_layout
from consolidate.periods import Period
from consolidate.plan import template_changes
from consolidate.template import write_template

from conftest import ADDED_NAME, fill, in_plan, with_added_indicator

ROOT = Path(__file__).resolve().parent.parent
REAL_TEXT = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
T3_2025, T1_2026 = Period(2025, 3), Period(2026, 1)

def edit(old: str, new: str, text: str = REAL_TEXT) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def with_new_indicator(text: str = REAL_TEXT) -> str:
    """The catalog with one more indicator for barn_unga from 2026-T1, before the unit tables."""
    return with_added_indicator(text, ["barn_unga"])


def write(tmp_path: Path, text: str, name: str = "katalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, after: str = "") -> int:
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if after in line) if after else 0
    return next(n for n, line in enumerate(lines[start:], start=start + 1) if needle in line)


# --- the real catalog's 2026 plan ------------------------------------------------------------

def test_units_of_a_period(catalog: Catalog) -> None:
    before = [u.id for u in catalog.units_in(T3_2025)]
    after = [u.id for u in catalog.units_in(T1_2026)]
    assert before == ["forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri"]
    assert after == ["forebyggande", "barn_unga", "vuxen", "beroende", "socialpsykiatri"]


def test_what_a_unit_is_asked_follows_the_plan(catalog: Catalog) -> None:
    def ids(unit: str, period: Period) -> list[str]:
        return [i.id for i in catalog.indicators_for(unit, period)]

    assert "icke_bistandsbedomda_vuxen" in ids("vuxen", T3_2025)
    assert "icke_bistandsbedomda_vuxen" not in ids("vuxen", T1_2026)
    assert "icke_bistandsbedomda" not in ids("barn_unga", T3_2025)
    assert ("icke_bistandsbedomda" in ids("barn_unga", T1_2026)
            and "icke_bistandsbedomda" in ids("vuxen", T1_2026))
    # Myren merged into barn_unga: from 2026-T1 barn_unga reports Myren's occupancy, Myren nothing.
    assert ids("myren", T3_2025) == ["belaggning_myren"]
    assert ids("myren", T1_2026) == [] and catalog.tables_for("myren", T1_2026) == ()
    assert "belaggning_myren" not in ids("barn_unga", T3_2025)
    assert "belaggning_myren" in ids("barn_unga", T1_2026)


def test_borlage_and_nulage_per_year(catalog: Catalog) -> None:
    ind = catalog.indicator("utredningar_90_dagar_barn")
    assert ind is not None
    assert [ind.target_in(y) for y in (2023, 2025, 2026, 2030)] == [
        (2025, pytest.approx(0.30)), (2025, pytest.approx(0.30)), (2026, pytest.approx(0.35)),
        (2026, pytest.approx(0.35))]
    assert (ind.baseline_in(2025)[0] == pytest.approx(0.19)
            and ind.baseline_in(2026)[0] == pytest.approx(0.28))
    assert str(ind.baseline_in(2026)[1]) == "2025-12-31"
    new = catalog.indicator("icke_bistandsbedomda")
    assert new is not None
    assert [new.target_in(y)[1] for y in (2026, 2027, 2028)] == [110, 130, 130]
    # The catalog entry keeps the first plan's figures (the board's table of 004); as_of gives a
    # period's.
    assert ind.target == pytest.approx(0.30) and ind.as_of(T1_2026).target == pytest.approx(0.35)
    assert ind.as_of(T1_2026).target_year == 2026


def test_templates_of_a_period_are_for_its_units(tmp_path: Path,
                                                 invoke: Callable[..., Result]) -> None:
    result = invoke("template", "--period", "2026-T1", "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "2026-T1_barn_unga.xlsx", "2026-T1_beroende.xlsx", "2026-T1_forebyggande.xlsx",
        "2026-T1_socialpsykiatri.xlsx", "2026-T1_vuxen.xlsx"]
    refused = invoke("template", "--period", "2026-T1", "--unit", "myren", "--out", tmp_path / "b")
    assert refused.exit_code == 2
    assert "Ungdomsboendet Myren ingår i Barn- och ungdomssektionen från 2026-T1" in refused.stderr
    assert not (tmp_path / "b").exists()
    assert invoke("template", "--period", "2025-T3", "--unit", "myren", "--out",
                  tmp_path / "c").exit_code == 0


def test_earlier_name_per_period(tmp_path: Path) -> None:
    old = "Beläggningsgraden på ungdomsboendet Myren ska öka"
    text = edit(f'namn = "{old}"',
                f'namn = "Beläggning på Myren"\ntidigare_namn = {{ "2025-T3" = "{old}" }}')
    catalog = load_catalog(write(tmp_path, text))
    ind = catalog.indicator("belaggning_myren")
    assert ind is not None and ind.name == "Beläggning på Myren"
    assert ind.name_in(T3_2025) == old and ind.name_in(T1_2026) == "Beläggning på Myren"
    assert ind.as_of(Period(2024, 1)).name == old


# --- the fingerprint a template is checked against -------------------------------------------

def test_an_added_indicator_leaves_earlier_templates_exactly_valid(tmp_path: Path,
                                                                   catalog: Catalog) -> None:
    changed = load_catalog(write(tmp_path, with_new_indicator()))
    assert changed.fingerprint != catalog.fingerprint  # the whole catalog did change
    for year, tertial in ((2024, 1), (2025, 1), (2025, 2), (2025, 3)):
        period = Period(year, tertial)
        for unit in catalog.units:
            if in_plan(unit, period):
                assert (changed.template_fingerprint(unit.id, period)
                        == catalog.template_fingerprint(unit.id, period))
    assert (changed.template_fingerprint("barn_unga", T1_2026)
            != catalog.template_fingerprint("barn_unga", T1_2026))
    assert (changed.template_fingerprint("vuxen", T1_2026)
            == catalog.template_fingerprint("vuxen", T1_2026))


def _names(path: Path) -> set[str]:
    return {name.lower() for name in openpyxl.load_workbook(path).defined_names}


def test_template_changes_name_what_a_file_lacks(tmp_path: Path, catalog: Catalog) -> None:
    """The functions the reader calls: an old 2026-T1 template lacks the new indicator (one change,
    its cells to skip); a 2025 template lacks nothing; a retired indicator in an old template is
    named as not read."""
    changed = load_catalog(write(tmp_path, with_new_indicator()))
    old_2026 = write_template(catalog, "barn_unga", T1_2026,
                              tmp_path / "gammal_2026-T1_barn_unga.xlsx")
    layout = build_layout(changed, "barn_unga", T1_2026)
    meta = dict(openpyxl.load_workbook(old_2026)["_meta"].values)
    (change,) = template_changes(changed, "barn_unga", T1_2026, layout.cells, _names(old_2026),
                                 meta["innehall"])
    assert change.code == "ny_indikator" and change.scope == "nya_familjer"
    assert change.params == {"label": ADDED_NAME,
                             "when": "tillkom 2026-T1", "period_text": "2026-T1"}
    assert change.skip == {"ind_nya_familjer_varde", "ind_nya_familjer_kommentar"}
    old_2025 = write_template(catalog, "barn_unga", T3_2025,
                              tmp_path / "gammal_2025-T3_barn_unga.xlsx")
    meta = dict(openpyxl.load_workbook(old_2025)["_meta"].values)
    layout = build_layout(changed, "barn_unga", T3_2025)
    assert template_changes(changed, "barn_unga", T3_2025, layout.cells, _names(old_2025),
                            meta["innehall"]) == ()
    assert template_changes(changed, "barn_unga", T3_2025, layout.cells, _names(old_2025),
                            None) == ()
    # The next plan retires barn_unga's new indicator again after 2026-T1: a 2026-T2 file from a
    # template made before that has a cell that is not read.
    retired = load_catalog(write(tmp_path, with_new_indicator().replace(
        'id = "nya_familjer"\nfran = "2026-T1"',
        'id = "nya_familjer"\nfran = "2026-T1"\ntill = "2026-T1"'), "k3.toml"))
    t2 = Period(2026, 2)
    made = write_template(changed, "barn_unga", t2, tmp_path / "2026-T2_barn_unga.xlsx")
    layout = build_layout(retired, "barn_unga", t2)
    (gone,) = template_changes(retired, "barn_unga", t2, layout.cells, _names(made), None)
    assert (gone.code, gone.scope, gone.params["why"]) == ("utgatt", "nya_familjer",
                                                           "avslutades 2026-T1")


# --- mistakes in the time keys -----------------------------------------------------------------

MYREN = 'till = "2025-T3"\nersatts_av = "barn_unga"\n'
NEW_TARGET = 'borlage = { "2026" = 110, "2027" = 130 }'
RETARGET = 'borlage = { "2025" = 30, "2026" = 35 }'
BAD = {
    # name: (edited text, entry, key, a phrase of the problem, the line's text (after a marker))
    "till before fran": (
        edit('id = "icke_bistandsbedomda"\nfran = "2026-T1"',
             'id = "icke_bistandsbedomda"\nfran = "2026-T1"\ntill = "2025-T3"'),
        "[[indikator]] 'icke_bistandsbedomda'", "till", "ligger före fran",
        ('till = "2025-T3"', 'id = "icke_bistandsbedomda"')),
    "period that is no period": (
        edit('fran = "2026-T1"', 'fran = "2026-T4"'),
        "[[indikator]] 'icke_bistandsbedomda'", "fran", "kan inte tolkas",
        ('fran = "2026-T4"', "")),
    "börläge year outside the span": (
        edit(NEW_TARGET, 'borlage = { "2025" = 100, "2026" = 110 }'),
        "[[indikator]] 'icke_bistandsbedomda'", "borlage", "börläget för 2025 ligger utanför",
        ('borlage = { "2025" = 100', "")),
    "börläge year of one value outside the span": (
        edit(NEW_TARGET, "borlage = 110\nborlage_ar = 2025"),
        "[[indikator]] 'icke_bistandsbedomda'", "borlage_ar", "utanför indikatorns giltighetstid",
        ("borlage_ar = 2025", 'id = "icke_bistandsbedomda"')),
    "borlage_ar beside a börläge per year": (
        edit(RETARGET, RETARGET + "\nborlage_ar = 2025"),
        "[[indikator]] 'utredningar_90_dagar_barn'", "borlage_ar", "behövs inte",
        ("borlage_ar = 2025", 'id = "utredningar_90_dagar_barn"')),
    "nuläge dates for other years": (
        edit('nulage_datum = { "2023" = 2023-08-31, "2026" = 2025-12-31 }\nutfall',
             'nulage_datum = { "2023" = 2023-08-31, "2025" = 2025-12-31 }\nutfall'),
        "[[indikator]] 'utredningar_90_dagar_barn'", "nulage_datum", "samma år som nulage",
        ('nulage_datum = { "2023"', 'id = "utredningar_90_dagar_barn"')),
    "a unit reporting outside its own span": (
        edit('enheter = ["barn_unga", "vuxen"]\nsammanvagning = "summa"\nnulage = 95',
             'enheter = ["barn_unga", "vuxen", "myren"]\nsammanvagning = "summa"\nnulage = 95'),
        "[[indikator]] 'icke_bistandsbedomda'", "enheter",
        "enheten 'myren' finns till och med 2025-T3",
        ('"myren"]', 'id = "icke_bistandsbedomda"')),
    "merged into a unit that does not exist": (
        edit('ersatts_av = "barn_unga"', 'ersatts_av = "barn_ung"'),
        "[[enhet]] 'myren'", "ersatts_av", "okänd enhet 'barn_ung'",
        ('ersatts_av = "barn_ung"', "")),
    "merged into a unit that ends before": (
        edit('id = "barn_unga"\nnamn = "Barn- och ungdomssektionen"',
             'id = "barn_unga"\ntill = "2025-T3"\nnamn = "Barn- och ungdomssektionen"'),
        "[[enhet]] 'myren'", "ersatts_av",
        "ska ta över från 2026-T1, men finns bara till och med 2025-T3",
        ('ersatts_av = "barn_unga"', "")),
    "merged into itself": (
        edit('ersatts_av = "barn_unga"', 'ersatts_av = "myren"'),
        "[[enhet]] 'myren'", "ersatts_av", "sig själv", ('ersatts_av = "myren"', "")),
    "merged without its last period": (
        edit(MYREN, 'ersatts_av = "barn_unga"\n'),
        "[[enhet]] 'myren'", "ersatts_av", "ange också till", ('ersatts_av = "barn_unga"', "")),
    "an indicator nobody reports any more": (
        edit(MYREN, 'till = "2025-T3"\n'),
        "[[indikator]] 'belaggning_myren'", "enheter",
        "från 2026-T1 rapporterar ingen enhet indikatorn",
        ('enheter = ["myren"]', "")),
    "an indicator before its units exist": (
        edit('epost = "vuxen@exempelkommun.se"\n',
             'epost = "vuxen@exempelkommun.se"\nfran = "2024-T1"\n'),
        "[[indikator]] 'icke_bistandsbedomda_vuxen'", "enheter",
        ("ingen av enheterna i listan finns före 2024-T1, men indikatorn gäller till och med "
         "2025-T3; ge indikatorn fran = \"2024-T1\""),
        ('enheter = ["vuxen"]', 'id = "icke_bistandsbedomda_vuxen"')),
    "an earlier name for a period that is no period": (
        edit('namn = "Beläggningsgraden på ungdomsboendet Myren ska öka"',
             'namn = "Beläggning på Myren"\n'
             'tidigare_namn = { "2025-T4" = "Beläggningsgraden på Myren" }'),
        "[[indikator]] 'belaggning_myren'", "tidigare_namn.2025-T4", "kan inte tolkas",
        ("tidigare_namn = {", "")),
    "a table for a unit outside its span": (
        edit('enheter = ["forebyggande"]\nrader = ["Service", "Myndighetsutövning"]',
             'enheter = ["forebyggande", "myren"]\nfran = "2026-T1"\n'
             'rader = ["Service", "Myndighetsutövning"]'),
        "[[tabell]] 'service_myndighet'", "enheter", "men tabellen gäller från 2026-T1",
        ('enheter = ["forebyggande", "myren"]', "")),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_mistake_in_the_plan_is_named_with_its_line(tmp_path: Path, case: str) -> None:
    text, entry, key, problem, (marker, after) = BAD[case]
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, text))
    message = str(info.value)
    assert message.startswith(f"Katalogen, rad {line_of(text, marker, after)}: {entry}, "
                              f"nyckeln '{key}'"), message
    assert problem in message, message


def test_cli_katalog_names_the_line_of_a_plan_mistake(tmp_path: Path,
                                                      invoke: Callable[..., Result]) -> None:
    text, entry, key, _, (marker, after) = BAD["merged into a unit that does not exist"]
    result = invoke("katalog", write(tmp_path, text))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Fel: Katalogen, rad {line_of(text, marker, after)}: "
                                    f"{entry}, nyckeln '{key}'")


def test_a_file_of_a_merged_unit_after_the_merge_is_refused(tmp_path: Path,
                                                            invoke: Callable[..., Result],
                                                            catalog: Catalog) -> None:
    """Myren's 2026-T1 template went out before the controller wrote the merge into the catalog; the
    return is refused with the reason, and Myren is still not expected (not 'saknas')."""
    before = load_catalog(write(tmp_path, edit(MYREN, ""), "före.toml"))
    template = write_template(before, "myren", T1_2026, tmp_path / "mall.xlsx")
    folder = tmp_path / "delad"
    fill(template, unit_values(before, load_seeds(), "myren", T1_2026),
         folder / "2026-T1" / "2026-T1_myren.xlsx")
    checked = invoke("check", folder, "--json")
    assert checked.exit_code == 1
    errors = [f for f in json.loads(checked.stdout)["fynd"] if f["allvarlighet"] == "fel"]
    assert [(f["kod"], f["enhet"], f["period"]) for f in errors] == [("enhet_utanfor_plan", "myren",
                                                                      "2026-T1")]
    assert errors[0]["meddelande"] == (
        "Mallen gäller Ungdomsboendet Myren 2026-T1, men Ungdomsboendet Myren ingår i Barn- och "
        "ungdomssektionen från 2026-T1 enligt katalogen. Lämna in på mallen för den enhet som "
        "rapporterar för perioden.")
    ran = invoke("run", folder, "--json", "--out", tmp_path / "m.xlsx")
    states = {(e["enhet"], e["status"]) for e in json.loads(ran.stdout)["inlamning"]}
    assert ("myren", "underkänd") in states and ("myren", "saknas") not in states
    assert {u for u, s in states if s == "saknas"} == {"forebyggande", "barn_unga", "vuxen",
                                                         "beroende", "socialpsykiatri"}


SERVICE_2026 = '''
[[tabell]]
id = "service_myndighet_2026"
fran = "2026-T1"
typ = "fordelning"
flik = "Service och myndighet"
rubrik = "Fördelning av ärenden mellan service, rådgivning och myndighetsutövning"
enheter = ["forebyggande"]
rader = ["Service", "Rådgivning", "Myndighetsutövning"]
antal_rubrik = "Ärenden"
andel = false
'''


def test_a_table_whose_rows_change_is_ended_and_followed_on_the_same_sheet(
        tmp_path: Path, catalog: Catalog, invoke: Callable[..., Result]) -> None:
    """A new row is a new table: the old one ends, the new one starts, on the same sheet. Returns of
    2025 are read whole with the new catalog; 2026 templates have the new rows."""
    old_rows = 'rader = ["Service", "Myndighetsutövning"]\n'
    text = edit(old_rows, old_rows + 'till = "2025-T3"\n') + SERVICE_2026
    changed = load_catalog(write(tmp_path, text))
    assert [t.id for t in changed.tables_for("forebyggande", T3_2025)][:2] == ["arenden_per_kalla",
                                                                               "service_myndighet"]
    assert "service_myndighet_2026" in [t.id for t in changed.tables_for("forebyggande", T1_2026)]
    assert "service_myndighet" not in [t.id for t in changed.tables_for("forebyggande", T1_2026)]
    names = _names(write_template(changed, "forebyggande", T1_2026, tmp_path / "ny.xlsx"))
    assert {"tab_service_myndighet_2026_radgivning_antal",
            "tab_service_myndighet_2026_summa_antal"} <= names
    assert not {n for n in names if n.startswith("tab_service_myndighet_") and "_2026_" not in n}
    old = write_template(catalog, "forebyggande", T3_2025, tmp_path / "mall_2025.xlsx")
    returned = fill(old, unit_values(catalog, load_seeds(), "forebyggande", T3_2025),
                    tmp_path / "2025-T3" / "2025-T3_forebyggande.xlsx")
    result = invoke("check", returned, "--json", "--katalog", write(tmp_path, text, "ny.toml"))
    assert result.exit_code == 0 and json.loads(result.stdout)["fel"] == 0
    # Both valid in 2026-T1 on one sheet: refused at the second one's flik.
    both = REAL_TEXT + SERVICE_2026
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, both, "båda.toml"))
    line = line_of(both, 'flik = "Service och myndighet"', 'id = "service_myndighet_2026"')
    assert str(info.value).startswith(f"Katalogen, rad {line}: [[tabell]] "
                                      "'service_myndighet_2026', nyckeln 'flik'")
    assert "en gång per period" in str(info.value)
