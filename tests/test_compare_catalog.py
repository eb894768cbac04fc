"""The catalog's comparison keys ([jamforelse], kolada_jamforbar, kolada_skillnad, kolada_enhet):
read as written, and each mistake refused in Swedish with the entry, the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from test_catalog import REAL_TEXT, _write_variant, refused

JAMFORELSE = '''[jamforelse]
kommun = "9999"
liknande = ["9991", "9992", "9993", "9994", "9995"]
liknande_namn = "Liknande kommuner (IFO)"
'''
KOLADA_KEYS = '''kolada = "N33100"
kolada_enhet = "kr/vårddygn"
'''


def _with(jamforelse: str | None = None, kolada: str | None = None,
          extra: tuple[str, str] | None = None) -> str:
    """The real catalog with its [jamforelse] section, its N33100 keys or another line replaced."""
    assert JAMFORELSE in REAL_TEXT and KOLADA_KEYS in REAL_TEXT
    text = REAL_TEXT
    if jamforelse is not None:
        text = text.replace(JAMFORELSE, jamforelse)
    if kolada is not None:
        text = text.replace(KOLADA_KEYS, kolada)
    if extra is not None:
        assert extra[0] in text, extra[0]
        text = text.replace(extra[0], extra[1], 1)
    return text


def test_the_example_compares_with_made_up_municipalities(catalog: Catalog) -> None:
    spec = catalog.comparison
    assert spec.municipality == "9999"
    assert spec.similar == ("9991", "9992", "9993", "9994", "9995") and spec.group is None
    assert spec.similar_label == "Liknande kommuner (IFO)"
    link = spec.link("kostnad_externa_placeringar")
    assert link.comparable and link.unit == "kr/vårddygn"
    assert link.difference is not None and "vårddygn" in link.difference
    assert spec.link("forebyggande_insatser").difference is None  # the default: comparable as is


def test_a_kolada_group_instead_of_a_list(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, _with('[jamforelse]\nkommun = "0484"\nliknande_grupp = '
                                          '"G33857"\n'))
    spec = load_catalog(path).comparison
    assert (spec.municipality, spec.similar, spec.group) == ("0484", (), "G33857")
    assert spec.similar_label == "Liknande kommuner"


def test_without_jamforelse_only_the_country_is_compared(tmp_path: Path) -> None:
    spec = load_catalog(_write_variant(tmp_path, _with(""))).comparison
    assert (spec.municipality, spec.similar, spec.group, spec.has_similar) == (None, (), None,
                                                                                False)


def test_the_comparison_keys_leave_the_fingerprint_alone(tmp_path: Path, catalog: Catalog) -> None:
    """Templates do not change when the comparison does: no template must be sent out again."""
    text = _with('[jamforelse]\nkommun = "0484"\n', 'kolada = "N33100"\n')
    assert load_catalog(_write_variant(tmp_path, text)).fingerprint == catalog.fingerprint


BAD = {
    # name: (text, entry named, key named, a word of the problem, the line's marker or None)
    "municipality id of three digits": (
        _with(extra=('kommun = "9999"', 'kommun = "484"')),
        "[jamforelse]", "kommun", "fyra siffror", 'kommun = "484"'),
    "municipality id without quotes": (
        _with(extra=('kommun = "9999"', "kommun = 484")),
        "[jamforelse]", "kommun", "\"0484\"", "kommun = 484"),
    "the country as the municipality": (
        _with(extra=('kommun = "9999"', 'kommun = "0000"')),
        "[jamforelse]", "kommun", "Riket", 'kommun = "0000"'),
    "no municipality": (
        _with(extra=('kommun = "9999"\n', "")),
        "[jamforelse]", "kommun", "saknas", None),
    "a similar municipality that is no id": (
        _with(extra=('"9993", "9994"', '"Borås", "9994"')),
        "[jamforelse]", "liknande", "'Borås'", 'liknande = ["9991"'),
    "the municipality among its peers": (
        _with(extra=('"9993", "9994"', '"9999", "9994"')),
        "[jamforelse]", "liknande", "egen kommun", 'liknande = ["9991"'),
    "a peer twice": (
        _with(extra=('"9993", "9994"', '"9992", "9994"')),
        "[jamforelse]", "liknande", "två gånger", 'liknande = ["9991"'),
    "both a list and a group": (
        _with(extra=('liknande_namn =', 'liknande_grupp = "G33857"\nliknande_namn =')),
        "[jamforelse]", "liknande_grupp", "antingen", 'liknande_grupp = "G33857"'),
    "a group id that is no group": (
        _with('[jamforelse]\nkommun = "0484"\nliknande_grupp = "33857"\n'),
        "[jamforelse]", "liknande_grupp", "börjar med G", 'liknande_grupp = "33857"'),
    "a label without peers": (
        _with('[jamforelse]\nkommun = "0484"\nliknande_namn = "Grannar"\n'),
        "[jamforelse]", "liknande_namn", "liknande_grupp", 'liknande_namn = "Grannar"'),
    "a misspelt key": (
        _with(extra=("liknande = [", "liknade = [")),
        "[jamforelse]", "liknade", "Menade du 'liknande'", "liknade = ["),
    "another unit without saying how it differs": (
        _with(kolada='kolada = "N33100"\nkolada_enhet = "kr/vårddygn"\n',
              extra=("kolada_skillnad = \"Koladas N33100", "anmarkning = \"Koladas N33100")),
        "[[indikator]] 'kostnad_externa_placeringar'", "kolada_enhet", "kolada_skillnad",
        'kolada_enhet = "kr/vårddygn"'),
    "not comparable without saying why": (
        _with(kolada='kolada = "N33100"\nkolada_jamforbar = false\n',
              extra=("kolada_skillnad = \"Koladas N33100", "anmarkning = \"Koladas N33100")),
        "[[indikator]] 'kostnad_externa_placeringar'", "kolada_jamforbar", "kolada_skillnad",
        "kolada_jamforbar = false"),
    "comparable as text": (
        _with(kolada='kolada = "N33100"\nkolada_jamforbar = "nej"\n'),
        "[[indikator]] 'kostnad_externa_placeringar'", "kolada_jamforbar", "true eller false",
        'kolada_jamforbar = "nej"'),
    "a difference without a Kolada id": (
        _with(extra=("tolerans = 10\n", "tolerans = 10\nkolada_skillnad = \"Helår\"\n")),
        "[[indikator]] 'forebyggande_insatser'", "kolada_skillnad", "Kolada-id",
        'kolada_skillnad = "Helår"'),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_comparison_key_is_refused_with_its_line(tmp_path: Path, case: str) -> None:
    text, marker = BAD[case][0], BAD[case][4]
    message = refused(tmp_path, *BAD[case])
    if marker is None:  # a key that is missing: the entry's own line
        header = text.splitlines().index("[jamforelse]") + 1
        assert f"som börjar på rad {header}" in message
