"""Parsing what unit heads type into number cells."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consolidate.findings import finding
from consolidate.numbers import KINDS, Parsed, parse_cell

NBSP, NNBSP, THIN, FIGURE = "\u00a0", "\u202f", "\u2009", "\u2007"
SEPARATORS = (" ", NBSP, NNBSP, THIN, FIGURE)
MINUSES = ("-", "\u2212")
NUMBER_KINDS = tuple(k for k in KINDS if k != "text")
PROBLEM_CODES = {"ej_tal", "tvetydig_punkt", "procent_skala", "fel_enhet"}
EMPTY = Parsed(None, None, None, None)


def ok(value: float) -> Parsed:
    return Parsed(value, None, None, None)


def message(result: Parsed) -> str:
    """The finding's message for the problem, through the rule's template, without the cell's
    label."""
    assert result.code is not None and result.params is not None
    return finding(result.code, "fil.xlsx", label="X", **result.params).message.removeprefix("X: ")


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("1 931", "antal", ok(1931.0)),
        ("1\u00a0931", "antal", ok(1931.0)),
        ("1\u202f931", "antal", ok(1931.0)),
        ("1\u2009931", "antal", ok(1931.0)),
        ("1\u2007931", "antal", ok(1931.0)),
        ("  1 234 567  ", "antal", ok(1234567.0)),
        ("1931", "antal", ok(1931.0)),
        ("170,2", "mnkr", ok(170.2)),
        ("1 234,5", "mnkr", ok(1234.5)),
        ("4,2 %", "andel", ok(0.042)),
        ("4,2%", "andel", ok(0.042)),
        ("4,2\u00a0%", "procent", ok(0.042)),
        ("100 %", "procent", ok(1.0)),
        ("0,42", "andel", ok(0.42)),
        ("1", "andel", ok(1.0)),
        (0.042, "andel", ok(0.042)),
        (1931, "antal", ok(1931.0)),
        (170.2, "mnkr", ok(170.2)),
        ("177,9 mnkr", "mnkr", ok(177.9)),
        ("177,9mnkr", "mnkr", ok(177.9)),
        ("177,9 MNKR", "mnkr", ok(177.9)),
        ("12 st", "antal", ok(12.0)),
        ("12 st.", "antal", ok(12.0)),
        ("12st", "antal", ok(12.0)),
        ("365 dygn", "dygn", ok(365.0)),
        ("12,5 åa", "arsarbetare", ok(12.5)),
        ("12,5 årsarbetare", "arsarbetare", ok(12.5)),
        ("12,5 ÅA", "arsarbetare", ok(12.5)),
        ("-5", "antal", ok(-5.0)),
        ("\u22125", "antal", ok(-5.0)),
        ("\u22121 234,5", "mnkr", ok(-1234.5)),
        ("-", "antal", EMPTY),
        ("\u2013", "antal", EMPTY),
        ("\u2014", "mnkr", EMPTY),
        (" - ", "andel", EMPTY),
        ("", "antal", EMPTY),
        ("   ", "antal", EMPTY),
        ("\u00a0", "antal", EMPTY),
        (None, "antal", EMPTY),
        (None, "text", EMPTY),
        ("  Bra tertial  ", "text", Parsed(None, "Bra tertial", None, None)),
        (12.0, "text", Parsed(None, "12", None, None)),
        (12.5, "text", Parsed(None, "12.5", None, None)),
        (7, "text", Parsed(None, "7", None, None)),
    ],
)
def test_table(raw: object, kind: str, expected: Parsed) -> None:
    assert parse_cell(raw, kind) == expected


@pytest.mark.parametrize(
    ("raw", "kind", "code", "quoted"),
    [
        ("2.500", "antal", "tvetydig_punkt", '"2.500"'),
        ("1.5", "mnkr", "tvetydig_punkt", '"1.5"'),
        ("2.500.000", "antal", "tvetydig_punkt", '"2.500.000"'),
        ("4.2 %", "andel", "tvetydig_punkt", '"4.2 %"'),
        ("ca 40", "antal", "ej_tal", '"ca 40"'),
        ("ca. 40", "antal", "ej_tal", '"ca. 40"'),
        ("x", "antal", "ej_tal", '"x"'),
        ("12 st ungefär", "antal", "ej_tal", '"12 st ungefär"'),
        ("1,2,3", "antal", "ej_tal", '"1,2,3"'),
        ("12 34", "antal", "ej_tal", '"12 34"'),
        ("1e5", "antal", "ej_tal", '"1e5"'),
        ("NaN", "mnkr", "ej_tal", '"NaN"'),
        ("Infinity", "mnkr", "ej_tal", '"Infinity"'),
        ("1_000", "antal", "ej_tal", '"1_000"'),
        ("\u0661\u0662", "antal", "ej_tal", '"\u0661\u0662"'),
        ("%", "andel", "ej_tal", '"%"'),
        ("#DIV/0!", "antal", "ej_tal", '"#DIV/0!"'),
        ("177 900 tkr", "mnkr", "fel_enhet", '"177 900 tkr"'),
        ("500 kr", "mnkr", "fel_enhet", '"500 kr"'),
        ("4,2 %", "antal", "fel_enhet", '"4,2 %"'),
        ("12 st", "mnkr", "fel_enhet", '"12 st"'),
        ("3 mnkr", "andel", "fel_enhet", '"3 mnkr"'),
    ],
)
def test_problems_quote_what_was_typed(raw: str, kind: str, code: str, quoted: str) -> None:
    result = parse_cell(raw, kind)
    assert result.code == code
    assert result.value is None
    assert quoted in message(result)


def test_dot_message_offers_both_readings() -> None:
    text = message(parse_cell("2.500", "antal"))
    assert f"2{NBSP}500" in text and "2,5" in text


def test_ej_tal_message() -> None:
    assert message(parse_cell("ca 40", "antal")) == (
        f'Texten "ca 40" är inte ett tal. Skriv bara siffror, t.ex. 1{NBSP}931 eller 170,2.'
    )


def test_tkr_in_mnkr_cell_says_how_to_write_it() -> None:
    text = message(parse_cell("177 900 tkr", "mnkr"))
    assert "miljoner kronor (mnkr)" in text and "skriv 177,9" in text


@pytest.mark.parametrize("kind", ["andel", "procent"])
def test_percent_scale(kind: str) -> None:
    result = parse_cell(42, kind)
    assert result.code == "procent_skala"
    assert result.value == 42.0  # returned as given, the caller decides
    assert message(result) == (
        f"Värdet 42 i en procentcell blir 4{NBSP}200 %. "
        "Skriv 42 % (eller 0,42) om du menar 42 procent."
    )
    typed = parse_cell("42", kind)
    assert typed.code == "procent_skala" and typed.value == 42.0
    assert '"42"' in message(typed)
    assert parse_cell(4200, kind).code == "procent_skala"
    assert parse_cell(1.5, kind).code == "procent_skala"
    # With a percent sign the scale is explicit: 420 % is a range problem, not a scale one.
    assert parse_cell("420 %", kind) == ok(4.2)


@pytest.mark.parametrize("kind", ["andel", "procent"])
def test_a_number_in_a_percent_formatted_cell_means_what_it_shows(kind: str) -> None:
    """Excel stores "105" or "105 %" typed into a percent cell as 1,05, shown as 105 %: a share over
    100 % (the range rule's finding), not a scale mix-up. A pasted 64 (6 400 %) still is one, and
    so is text, which Excel never scales."""
    assert parse_cell(1.05, kind, percent_format=True) == ok(1.05)
    assert parse_cell(2.0, kind, percent_format=True) == ok(2.0)
    assert parse_cell(64.0, kind, percent_format=True).code == "procent_skala"
    assert parse_cell("105", kind, percent_format=True).code == "procent_skala"
    assert parse_cell(1.05, kind).code == "procent_skala"  # the format unknown: as before


def test_percent_text_and_number_agree() -> None:
    assert parse_cell("4,2 %", "andel").value == parse_cell(0.042, "andel").value == 0.042
    assert parse_cell("24 %", "andel").value == parse_cell(0.24, "andel").value


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (dt.date(2025, 5, 1), "ett datum (2025-05-01)"),
        (dt.datetime(2025, 5, 1), "ett datum (2025-05-01)"),
        (dt.datetime(2025, 5, 1, 13, 45), "ett datum (2025-05-01 13:45)"),
        (dt.time(13, 45), "ett klockslag (13:45)"),
        (dt.timedelta(days=1, hours=2), "en tidslängd (26:00:00)"),
        (True, "ett sanningsvärde (SANT)"),
        (False, "ett sanningsvärde (FALSKT)"),
    ],
)
def test_not_numbers(raw: object, shown: str) -> None:
    result = parse_cell(raw, "antal")
    assert result.code == "fel_celltyp" and result.value is None
    assert message(result) == f"Cellen innehåller {shown}, inte ett tal."


@pytest.mark.parametrize(
    ("raw", "code"),
    [(object(), "fel_celltyp"), (b"12", "fel_celltyp"), ([1], "fel_celltyp"),
     (math.nan, "ogiltigt_tal"), (math.inf, "ogiltigt_tal"), (10**400, "ogiltigt_tal"),
     (10**5000, "ogiltigt_tal")],
    ids=["object", "bytes", "list", "nan", "inf", "big_int", "huge_int"],
)
def test_odd_objects(raw: object, code: str) -> None:
    assert parse_cell(raw, "antal").code == code


def test_catalog_spellings_and_unknown_kind() -> None:
    assert parse_cell("12,5 åa", "årsarbetare") == ok(12.5)
    assert parse_cell("42", "beläggningsgrad").code == "procent_skala"
    with pytest.raises(ValueError):
        parse_cell("1", "kronor")


def test_long_text_is_quoted_shortened() -> None:
    text = message(parse_cell("x" * 500, "antal"))
    assert "x" * 50 in text and len(text) < 250


def test_babel_is_imported_lazily() -> None:
    code = (
        "import sys, consolidate.numbers as n\n"
        "assert 'babel' not in sys.modules\n"
        "assert n.parse_cell('1 931', 'antal').value == 1931.0\n"
        "assert 'babel' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Property tests.


def swedish(n: int, separator: str, minus: str) -> str:
    digits = f"{abs(n):,}".replace(",", separator)
    return (minus if n < 0 else "") + digits


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(SEPARATORS),
    st.sampled_from(MINUSES),
    st.sampled_from(("antal", "mnkr", "dygn", "arsarbetare")),
)
def test_integers_round_trip(n: int, separator: str, minus: str, kind: str) -> None:
    assert parse_cell(swedish(n, separator, minus), kind) == ok(float(n))


@given(
    st.integers(min_value=-(10**13), max_value=10**13),
    st.integers(min_value=0, max_value=2),
    st.sampled_from(SEPARATORS + ("",)),
    st.sampled_from(MINUSES),
)
def test_decimals_round_trip(hundredths: int, decimals: int, separator: str, minus: str) -> None:
    value = hundredths / 100
    text = f"{abs(value):,.{decimals}f}".replace(",", "#").replace(".", ",")
    text = text.replace("#", separator)
    if value < 0 and text.strip("0,") != "":
        text = minus + text
    result = parse_cell(text, "mnkr")
    assert result.code is None, result.params
    assert result.value is not None
    assert math.isclose(result.value, round(value, decimals), rel_tol=1e-12, abs_tol=1e-9)


@given(
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(("", " ", NBSP, NNBSP)),
    st.sampled_from(("andel", "procent")),
)
def test_percent_text_equals_fraction(tenths: int, space: str, kind: str) -> None:
    whole, tenth = divmod(tenths, 10)
    text = f"{whole},{tenth}{space}%"
    # Exactly the double Excel stores for the same percentage typed into a %-formatted cell.
    assert parse_cell(text, kind) == ok(float(Decimal(tenths) / 1000))


def _blank(text: str) -> bool:
    core = text.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()
    return core in ("", "-", "\u2013", "\u2014", "\u2212")


def _check(result: Parsed, typed: str) -> None:
    if result.code is None:
        assert result.params is None
        assert result.value is not None or result.text is not None or _blank(typed)
        if result.value is not None:
            assert math.isfinite(result.value)
        return
    assert result.code in PROBLEM_CODES
    text = message(result)
    assert text.strip()
    if result.code == "ej_tal":
        stripped = typed.strip()
        assert (stripped if len(stripped) <= 100 else stripped[:99]) in text


NUMBERISH = st.text(alphabet="0123456789 ,.-\u2212\u2013%\u00a0\u202fstkrmnåaSTdyg#xe")


@given(st.one_of(st.text(), NUMBERISH), st.sampled_from(KINDS))
def test_any_text_never_raises(text: str, kind: str) -> None:
    result = parse_cell(text, kind)
    if kind == "text":
        assert result.code is None
        assert result.text == text.strip() or _blank(text)
    else:
        assert result.text is None
        _check(result, text)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.dates(),
        st.datetimes(),
        st.times(),
        st.timedeltas(),
        st.binary(),
        st.decimals(),
    ),
    st.sampled_from(KINDS),
)
def test_any_object_never_raises(raw: object, kind: str) -> None:
    result = parse_cell(raw, kind)
    assert isinstance(result, Parsed)
    if result.code is not None:
        assert message(result)
