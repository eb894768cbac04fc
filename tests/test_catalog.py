"""The catalog: the real one holds the board's table of 004_…txt; bad catalogs are refused in
Swedish."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.errors import CatalogError
from consolidate.layout import FEEDBACK_SHEET, INDICATOR_SHEET, INSTRUCTION_SHEET

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "schemas" / "katalog.toml"
REAL_TEXT = REAL.read_text(encoding="utf-8")

# Figures read by hand from ../shared/seeds/004_4892fc9e4b443527.txt: a phrase of the indicator's
# wording, kind, nuläge, outcome 2023, börläge 2025 (None: the target is a text), frequency,
# direction. Shares are written in percent here and compared as fractions.
SECTION_1 = "Omställning av socialtjänsten"
SECTION_2 = "Kostnadsdrivande placeringar"
REPORT = {
    "forebyggande_insatser": (SECTION_1, "förebyggande insatser", "antal", 1400, 1931, 1600,
                              "tertial", "ökning"),
    "icke_bistandsbedomda_vuxen": (SECTION_1, "icke biståndsbedömda insatser", "antal", 37, 35, 60,
                                   "tertial", "ökning"),
    "andel_barn_utredning": (SECTION_1, "barn 0-20 år", "andel", 5, 4.20, 4.50, "tertial",
                             "minskning"),
    "andel_vuxna_utredning": (SECTION_1, "vuxna 21-65 år", "andel", 1.30, 0.80, 1.15, "tertial",
                              "minskning"),
    "andel_insats_under_utredning": (SECTION_1, "insats under utredningstiden", "andel", 20, 17, 35,
                                     "tertial", "ökning"),
    "utredningar_60_dagar_vuxen": (SECTION_1, "inom 60 dagar", "andel", 63, 60, 85, "tertial",
                                   "ökning"),
    "utredningar_90_dagar_barn": (SECTION_1, "inom 90 dagar", "andel", 19, 20, 30, "tertial",
                                  "ökning"),
    # Nuläge corrected from 160 to 169 årsarbetare (footnote ** of the report).
    "medarbetare_utredning": (SECTION_1, "utredningar och uppföljning", "årsarbetare", 169, 170.2,
                              144, "tertial", "minskning"),
    "medarbetare_tidiga_insatser": (SECTION_1, "förebyggande och/eller tidiga", "årsarbetare", 106,
                                    108.3, 122, "tertial", "ökning"),
    "belaggning_myren": (SECTION_2, "myren", "beläggningsgrad", 60, 63, 93, "månatligen", "ökning"),
    "kostnad_externa_placeringar": (SECTION_2, "placeringar", "mnkr", 177.2, 177.9, None,
                                    "tertial", "minskning"),
    "belaggning_stodboende": (SECTION_2, "stödboende", "beläggningsgrad", 92, 92.4, 90, "tertial",
                              "ökning"),
    "stod_hemmaplan": (SECTION_2, "hemmaplan", "antal", 43, 43, 51, "årsbasis", "ökning"),
}
SHARE_KINDS = {"andel", "beläggningsgrad"}


def _plain(text: str) -> str:
    return text.lower().replace("–", "-")


def test_real_catalog_loads(catalog: Catalog) -> None:
    assert catalog.board.name == "Socialnämnden"
    assert len(catalog.units) == 6
    assert all("@" in u.email for u in catalog.units)
    assert re.fullmatch(r"[0-9a-f]{16}", catalog.fingerprint)
    assert catalog.settings.example_period == "2026-T1"  # the first tertial of the 2026 plan
    assert load_catalog(REAL) == catalog  # loading twice gives the same catalog


def test_all_13_indicators_of_the_board_report(catalog: Catalog) -> None:
    """The 13 of the report in its order, and one more that the 2026 plan added (from 2026-T1)."""
    of_report = [i for i in catalog.indicators if i.id in REPORT]
    assert [i.id for i in of_report] == list(REPORT)
    assert [i.section for i in of_report] == [SECTION_1] * 9 + [SECTION_2] * 4
    added = [i for i in catalog.indicators if i.id not in REPORT]
    assert [(i.id, str(i.span.start), i.span.end) for i in added] == [
        ("icke_bistandsbedomda", "2026-T1", None)]


@pytest.mark.parametrize("ind_id", list(REPORT))
def test_indicator_figures_match_the_report(catalog: Catalog, ind_id: str) -> None:
    section, phrase, kind, baseline, outcome, target, frequency, direction = REPORT[ind_id]
    ind = next(i for i in catalog.indicators if i.id == ind_id)
    scale = 0.01 if kind in SHARE_KINDS else 1.0
    assert ind.section == section
    assert phrase in _plain(ind.name)
    assert ind.kind == kind
    assert ind.baseline == pytest.approx(baseline * scale)
    assert dict(ind.outcomes)["2023"] == pytest.approx(outcome * scale)
    if target is None:
        assert ind.target is None and ind.target_text and "minska" in ind.target_text.lower()
    else:
        assert ind.target == pytest.approx(target * scale)
    assert ind.target_year == 2025
    # "Nuläget visar mätperioden per 31 augusti 2023"
    assert ind.baseline_date == dt.date(2023, 8, 31)
    assert ind.frequency == frequency
    assert ind.direction == direction
    assert ind.units and set(ind.units) <= set(catalog.unit_ids())
    low, high = ind.plausible
    assert low <= ind.baseline <= high
    assert ind.target is None or low <= ind.target <= high


def test_shares_are_fractions_and_combine_as_ratio(catalog: Catalog) -> None:
    shares = [i for i in catalog.indicators if i.kind in SHARE_KINDS]
    assert len(shares) == 7
    for ind in shares:
        assert ind.is_share
        assert ind.combine == "kvot", ind.id
        assert ind.numerator_label and ind.denominator_label
        assert 0 <= ind.plausible[0] <= ind.plausible[1] <= 1
        assert 0 < ind.baseline < 1 and ind.target is not None and 0 < ind.target < 1
    for ind in catalog.indicators:
        if ind.kind not in SHARE_KINDS:
            assert ind.combine != "kvot" and not ind.is_share


def test_correction_of_baseline_is_noted(catalog: Catalog) -> None:
    ind = next(i for i in catalog.indicators if i.id == "medarbetare_utredning")
    assert ind.note is not None and "160" in ind.note and "169" in ind.note


def test_kolada_id_for_placement_costs(catalog: Catalog) -> None:
    ind = next(i for i in catalog.indicators if i.id == "kostnad_externa_placeringar")
    assert ind.kolada == "N33100"


def test_unit_tables_of_the_unit_reports(catalog: Catalog) -> None:
    tables = {t.id: t for t in catalog.tables}
    sources = tables["arenden_per_kalla"]
    assert sources.kind == "fordelning" and sources.with_share
    assert [r.label for r in sources.rows] == ["Polis", "BUN", "Anhöriga/bekanta",
                                                "Sjukvård/Psykiatrivård", "Berörd/Vårdnadshavare",
                                                "Socialtjänsten", "Anonym", "Övriga"]
    assert [r.label for r in tables["service_myndighet"].rows] == ["Service", "Myndighetsutövning"]
    assert tables["enkat_familjer"].kind == tables["enkat_skola"].kind == "enkat"
    assert len(tables["enkat_familjer"].rows) == 4
    assert tables["avslutade_per_manad"].kind == "manad"
    turnover = tables["personalomsattning"]
    assert turnover.kind == "varav" and turnover.complete
    assert [r.label for r in turnover.rows] == ["Pensionsavgång", "Egen begäran", "Annan orsak"]
    assert not tables["tillbud_skador"].complete


# --- bad catalogs: each a one-line edit of the real text -------------------------------------

def _write_variant(folder: Path, text: str) -> Path:
    path = folder / f"katalog_{len(list(folder.iterdir()))}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _edit(old: str, new: str, count: int = 1) -> str:
    assert old in REAL_TEXT, old
    return REAL_TEXT.replace(old, new, count)


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


BAD = {
    # name: (edited text, entry named, key named, a word of the problem, line marker or None)
    "duplicate id": (
        _edit('id = "icke_bistandsbedomda_vuxen"', 'id = "forebyggande_insatser"'),
        "[[indikator]] 'forebyggande_insatser'", "id", "en gång", None),
    "unknown unit": (
        _edit('enheter = ["myren"]', 'enheter = ["myran"]'),
        "[[indikator]] 'belaggning_myren'", "enheter", "okänd enhet 'myran'",
        'enheter = ["myran"]'),
    "target outside plausible range": (
        _edit("borlage = 1600", "borlage = 25000"),
        "[[indikator]] 'forebyggande_insatser'", "borlage", "utanför rimligt intervall",
        "borlage = 25000"),
    "unknown kind": (
        _edit('typ = "mnkr"', 'typ = "tkr"'),
        "[[indikator]] 'kostnad_externa_placeringar'", "typ", "okänt värde 'tkr'", 'typ = "tkr"'),
    "unknown direction": (
        _edit('riktning = "minskning"', 'riktning = "nedåt"'),
        "[[indikator]] 'andel_barn_utredning'", "riktning", "okänt värde 'nedåt'",
        'riktning = "nedåt"'),
    "share averaged": (
        _edit('sammanvagning = "kvot"', 'sammanvagning = "medel"'),
        "[[indikator]] 'andel_barn_utredning'", "sammanvagning", "kvot", 'sammanvagning = "medel"'),
    "missing key": (
        _edit('uppfoljning = "årsbasis"\n', ""),
        "[[indikator]] 'stod_hemmaplan'", "uppfoljning", "saknas", None),
    "missing name": (
        _edit('namn = "Vuxensektionen"\n', ""),
        "[[enhet]] 'vuxen'", "namn", "saknas", None),
    "bad Kolada id": (
        _edit('kolada = "N33100"', 'kolada = "N3310"'),
        "[[indikator]] 'kostnad_externa_placeringar'", "kolada", "Kolada", 'kolada = "N3310"'),
    "bad e-mail": (
        _edit('epost = "vuxen@exempelkommun.se"', 'epost = "vuxen.exempelkommun.se"'),
        "[[enhet]] 'vuxen'", "epost", "e-postadress", 'epost = "vuxen.exempelkommun.se"'),
    "misspelt optional key": (
        _edit("fullstandig = true\n", "fullstandigt = true\n"),
        "[[tabell]] 'personalomsattning'", "fullstandigt", "okänd nyckel", "fullstandigt = true"),
    "text where a number belongs": (
        _edit("tolerans = 10", 'tolerans = "tio"'),
        "[[indikator]] 'forebyggande_insatser'", "tolerans", "ska vara ett tal",
        'tolerans = "tio"'),
    "flag as text": (
        _edit("andel = true", 'andel = "ja"'),
        "[[tabell]] 'arenden_per_kalla'", "andel", "true eller false", 'andel = "ja"'),
    "share range beyond 100 %": (
        _edit("rimligt = [0, 20]", "rimligt = [0, 200]"),
        "[[indikator]] 'andel_barn_utredning'", "rimligt", "[0, 100]", "rimligt = [0, 200]"),
    "two sheets with one name": (
        _edit('flik = "Enkät skola"', 'flik = "enkät familjer"'),
        "[[tabell]] 'enkat_skola'", "flik", "en gång", 'flik = "enkät familjer"'),
    "row clashing with SUMMA": (
        _edit('rader = ["Service", "Myndighetsutövning"]', 'rader = ["Service", "Summa"]'),
        "[[tabell]] 'service_myndighet'", "rader", "SUMMA", 'rader = ["Service", "Summa"]'),
    "bad example period": (
        _edit('exempelperiod = "2026-T1"', 'exempelperiod = "2025-T4"'),
        "[installningar]", "exempelperiod", "2025-T4", 'exempelperiod = "2025-T4"'),
}


def refused(folder: Path, text: str, entry: str, key: str, problem: str,
            marker: str | None) -> str:
    """The catalog text is refused in Swedish, naming the entry, the key, the problem and (given
    the marker of the line) the line; returns the message."""
    path = _write_variant(folder, text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert message.startswith("Katalogen")
    assert entry in message
    assert f"nyckeln '{key}'" in message
    assert problem in message
    if marker is not None:
        assert f"rad {_line_of(text, marker)}" in message
    return message


@pytest.mark.parametrize("case", list(BAD))
def test_bad_catalog_is_refused_naming_entry_and_key(tmp_path: Path, case: str) -> None:
    refused(tmp_path, *BAD[case])


def test_duplicate_id_names_both_entries(tmp_path: Path) -> None:
    text = _edit('id = "icke_bistandsbedomda_vuxen"', 'id = "forebyggande_insatser"')
    with pytest.raises(CatalogError) as info:
        load_catalog(_write_variant(tmp_path, text))
    message = str(info.value)
    first = _line_of(text, 'id = "forebyggande_insatser"')
    second = first + 1 + text.splitlines()[first:].index('id = "forebyggande_insatser"')
    # the key, and the first entry
    assert f"rad {second}" in message and f"rad {first - 1}" in message


def test_toml_syntax_error_gives_line_in_swedish(tmp_path: Path) -> None:
    text = _edit("borlage = 1600", "borlage = 1600,5")  # a decimal comma
    with pytest.raises(CatalogError) as info:
        load_catalog(_write_variant(tmp_path, text))
    message = str(info.value)
    assert "skrivfel" in message
    assert f"rad {_line_of(text, 'borlage = 1600,5')}" in message
    assert "decimalkomma" in message


def test_catalog_that_is_not_utf8_or_missing(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(REAL_TEXT.encode("utf-8").replace("ö".encode(), "ö".encode("latin-1")))
    with pytest.raises(CatalogError, match="UTF-8"):
        load_catalog(path)
    with pytest.raises(CatalogError, match="kan inte läsas"):
        load_catalog(tmp_path / "finns_inte.toml")


def test_cli_katalog_accepts_the_real_catalog(invoke: Callable[..., Result]) -> None:
    result = invoke("katalog", REAL)
    assert result.exit_code == 0, result.output
    assert "giltig" in result.output
    assert "14 indikatorer" in result.output
    assert "enhet myren: till och med 2025-T3, ersätts av barn_unga" in result.output


@pytest.mark.parametrize("case", ["unknown kind", "bad e-mail", "missing key"])
def test_cli_katalog_refuses_a_bad_catalog(invoke: Callable[..., Result], tmp_path: Path,
                                           case: str) -> None:
    text, entry, key, _, _ = BAD[case]
    result = invoke("katalog", _write_variant(tmp_path, text))
    assert result.exit_code == 2
    assert result.stderr.startswith("Fel: Katalogen")
    assert entry in result.stderr and f"'{key}'" in result.stderr


def test_template_sheet_names_are_reserved_in_the_catalog(tmp_path: Path) -> None:
    text = REAL_TEXT
    for sheet in (INSTRUCTION_SHEET, INDICATOR_SHEET, FEEDBACK_SHEET):
        bad = _write_variant(tmp_path, text.replace('flik = "Enkät skola"', f'flik = "{sheet}"'))
        with pytest.raises(CatalogError, match=re.escape("[[tabell]] 'enkat_skola'")):
            load_catalog(bad)


def test_catalog_saved_by_windows_notepad_loads(tmp_path: Path, catalog: Catalog) -> None:
    """A byte order mark and CRLF line ends (Notepad) change nothing, line numbers included."""
    path = tmp_path / "katalog.toml"
    path.write_bytes(b"\xef\xbb\xbf" + REAL_TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert load_catalog(path) == catalog
    text = _edit('typ = "mnkr"', 'typ = "tkr"')
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    line = _line_of(text, 'typ = "tkr"')
    with pytest.raises(CatalogError, match=f"rad {line}:"):
        load_catalog(path)


PERCENT_INDICATOR = '''
[[indikator]]
id = "nojdhet_index"
avsnitt = "Omställning av socialtjänsten"
malomrade = "Nöjdare brukare"
namn = "Nöjd-brukar-index"
typ = "procent"
enheter = ["vuxen", "beroende"]
sammanvagning = "medel"
nulage = 85
nulage_datum = 2023-08-31
borlage = 90
borlage_ar = 2025
uppfoljning = "tertial"
riktning = "ökning"
rimligt = [0, 100]
tolerans = 1
'''


def test_percent_indicator_is_held_as_a_fraction(tmp_path: Path) -> None:
    """Like andel, typ procent is written in percent and held as a fraction (the templates'
    0–100 %)."""
    text = REAL_TEXT.replace("[[tabell]]", PERCENT_INDICATOR + "\n[[tabell]]", 1)
    catalog = load_catalog(_write_variant(tmp_path, text))
    ind = catalog.indicators[-1]
    assert ind.id == "nojdhet_index" and ind.in_percent and not ind.is_share
    assert (ind.baseline, ind.target, *ind.plausible, ind.tolerance) == pytest.approx(
        (0.85, 0.90, 0, 1, 0.01))
    summed = PERCENT_INDICATOR.replace('sammanvagning = "medel"', 'sammanvagning = "summa"')
    with pytest.raises(CatalogError, match="nyckeln 'sammanvagning': procenttal kan inte summeras"):
        load_catalog(_write_variant(
            tmp_path, REAL_TEXT.replace("[[tabell]]", summed + "\n[[tabell]]", 1)))
