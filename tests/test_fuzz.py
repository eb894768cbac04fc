"""Fuzzing: the Swedish number parser and the period parser never raise for anything typed, and the
reader ends every mutant of a real filled template in findings or values, never in a traceback."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
import traceback
import zipfile
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.errors import PeriodError
from consolidate.findings import RULES, finding
from consolidate.model import Submission
from consolidate.numbers import KINDS, Parsed, parse_cell
from consolidate.periods import Period, find_period_in_text, parse_period
from consolidate.read import read_submission
from consolidate.run import check_files_from

import hostile as H
from conftest import fill

PERIOD = Period(2025, 2)
SPELLINGS = ("årsarbetare", "beläggningsgrad")  # the catalog's names for kinds, accepted as well

# What a cell can hold after calamine, pasting and odd typing, including Unicode digits and spaces.
ODD_CHARS = ("0123456789 ,.-+%\u00a0\u202f\u2009\u2007\u2212\u2013\u2014\u200b\ufeff"
             "#!/?eE∞×٣۵߂१２³½ⅷ\t\n\r'\"=@åäöÅÄÖ")
TEXTS = st.one_of(st.text(), st.text(alphabet=ODD_CHARS, max_size=40),
                  st.from_regex(r"\A[-−+]?[0-9 \u00a0.,]{0,25}\s?(%|st|tkr|mnkr|åa|dygn|kr)?\.?\Z"))
OBJECTS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(), st.decimals(), st.fractions(), st.complex_numbers(), st.dates(), st.datetimes(),
    st.times(), st.timedeltas(), st.binary(max_size=20), st.lists(st.integers(), max_size=3),
)


def _sane(result: Parsed) -> None:
    assert isinstance(result, Parsed)
    if result.code is None:
        assert result.params is None
        assert result.value is None or (isinstance(result.value, float)
                                        and result.value == result.value
                                        and abs(result.value) != float("inf"))
    else:
        assert result.code in RULES and RULES[result.code].severity == "fel"
        assert result.params is not None
        # The rule's template takes exactly these fields (finding() raises for a missing or extra
        # one).
        message = finding(result.code, "fil.xlsx", label="Andel", **result.params).message
        assert message.strip()
        assert len(message) < 600  # quotes are shortened, a pasted essay is not echoed


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.sampled_from(KINDS + SPELLINGS))
def test_parse_cell_never_raises_for_any_text(text: str, kind: str) -> None:
    _sane(parse_cell(text, kind))


@settings(max_examples=300, deadline=None)
@given(OBJECTS, st.sampled_from(KINDS + SPELLINGS))
def test_parse_cell_never_raises_for_any_value(raw: object, kind: str) -> None:
    _sane(parse_cell(raw, kind))


class _Odd(float):
    """A float subclass whose str() fails: nothing about a value may be trusted."""

    def __str__(self) -> str:
        raise RuntimeError("str")

    __repr__ = __str__


@pytest.mark.parametrize("raw", [_Odd(1.5), float("nan"), float("-inf"), 10**400, -(10**400),
                                 Decimal("NaN"), Decimal("1e999999"), Fraction(1, 3), 1 + 2j,
                                 dt.time(23, 59, 59), dt.timedelta(days=-1), b"\xff\xfe", object()],
                         ids=lambda raw: type(raw).__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_parse_cell_never_raises_for_strange_objects(raw: object, kind: str) -> None:
    _sane(parse_cell(raw, kind))


def test_a_long_pasted_text_in_a_number_cell_is_refused_at_once() -> None:
    """Excel allows 32 767 characters in a cell. A hang detector, not a timing test: the three
    cells take milliseconds when the parser does linear work, and minutes when it does not."""
    script = (
        "from consolidate.numbers import parse_cell\n"
        "for text in ['a' * 32766 + '1', ' ' * 16000 + 'ä' * 16000 + '1', 'kr' * 16000 + '!']:\n"
        "    assert parse_cell(text, 'antal').code == 'ej_tal'\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=8, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("parsing three long cells did not end within 8 s")
    assert proc.returncode == 0, proc.stderr


# ---- periods -----------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(),
                 st.text(alphabet="0123456789Tt-_ /,tertial\u00a0\u2013٢٠٥", max_size=30)))
def test_parse_period_returns_a_tertial_or_raises_period_error(text: str) -> None:
    try:
        period = parse_period(text)
    except PeriodError as exc:
        assert "2025-T2" in str(exc)  # the message shows how to write it
        return
    assert (isinstance(period, Period) and 2000 <= period.year <= 2100
            and period.tertial in (1, 2, 3))
    assert parse_period(str(period)) == period


@settings(max_examples=200, deadline=None)
@given(st.integers(2000, 2100), st.integers(1, 3),
       st.sampled_from(["{y}-T{t}", "{y}T{t}", "T{t} {y}", "t{t}-{y}", "{y} / T{t}",
                        "tertial {t} {y}",
                        "Tertial {t}, {y}", "{y} tertial {t}", " {y}_t{t} ", "{y}\u00a0T{t}"]))
def test_every_accepted_spelling_gives_the_same_tertial(year: int, tertial: int,
                                                        spelling: str) -> None:
    assert parse_period(spelling.format(y=year, t=tertial)) == Period(year, tertial)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_find_period_in_a_file_name_never_raises(text: str) -> None:
    found = find_period_in_text(text)
    assert found is None or (isinstance(found, Period) and found.tertial in (1, 2, 3))


@pytest.mark.parametrize("bad", ["", "2025", "T4 2025", "2025-T0", "1999-T1", "2101-T1",
                                 "2025-T2-T3", "2025–T2x", "tertial 2", "\x00", "2025-T2" * 1000])
def test_parse_period_refuses_with_period_error(bad: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(bad)


# ---- mutants of a real filled template ---------------------------------------------------------

MUTANTS = 200


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
             catalog: Catalog) -> Path:
    folder = tmp_path_factory.mktemp("original")
    values = unit_values(catalog, load_seeds(), "barn_unga", PERIOD)
    values["ind_" + next(n[4:-6] for n in values if n.endswith("_varde")) + "_kommentar"] = \
        "Åtgärd – se bilaga"
    return fill(template_cache("barn_unga", str(PERIOD)), values,
                folder / f"{PERIOD}_barn_unga.xlsx")


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    buf = bytearray(data)
    for _ in range(count):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


_JUNK = [b"<", b"&", b"]]>", b"\x00", b"\xff\xfe", b"&amp", b"<c r=\"B7\"><v>1E+308</v></c>",
         b"<v>NaN</v>", b"<is><t>=1+2</t></is>", b"t=\"e\"", b"t=\"d\"", b"<f>A1</f>", b"\"", b"/>"]


def _mutate_xml(data: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(6)
    if op == 0:
        return _flip(data, rng, rng.randint(1, 20))
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randint(1, 200))
    if op == 1:
        return data[:start] + data[end:]                        # a slice deleted
    if op == 2:
        return data[:end] + data[start:end] + data[end:]        # a slice duplicated
    if op == 3:
        return data[:start] + rng.choice(_JUNK) + data[start:]  # junk inserted
    if op == 4:
        return data[:start]                                     # the part cut off
    digits = str(rng.randint(0, 99_999)).encode()               # a number changed (bounded)
    return data[:start] + data[start:].replace(b"\"", b"\"" + digits, 1)


def _mutants(original: Path, folder: Path) -> list[Path]:
    rng = random.Random(20250607)
    data = original.read_bytes()
    parts = H.members(original)
    xml_parts = sorted(n for n in parts if n.endswith((".xml", ".rels")))
    out = []
    for i in range(MUTANTS):
        path = folder / f"mutant_{i:03d}.xlsx"
        kind = i % 4
        if kind == 0:
            path.write_bytes(_flip(data, rng, rng.randint(1, 20)))
        elif kind == 1:
            path.write_bytes(data[:rng.randrange(len(data))])
        else:
            part = rng.choice(xml_parts if kind == 2 else [H.sheet_part(original, "Indikatorer"),
                                                           H.sheet_part(original, "_meta"),
                                                           "xl/workbook.xml"])
            H.rebuild(original, path, replace={part: _mutate_xml(parts[part], rng)})
        out.append(path)
    return out


def test_every_mutant_ends_in_findings_or_values(original: Path, tmp_path: Path,
                                                 catalog: Catalog) -> None:
    assert read_submission(original, catalog).readable
    paths = _mutants(original, tmp_path)
    with zipfile.ZipFile(paths[2]) as archive:  # the re-zipped mutants are valid zips
        assert archive.testzip() is None
    subs: list[Submission] = []
    outcomes = {"läst": 0, "avvisad": 0}
    raised: list[str] = []
    for path in paths:
        try:
            sub = read_submission(path, catalog)
        except Exception as exc:  # noqa: BLE001 - the point of the test
            ours = [f for f in traceback.extract_tb(exc.__traceback__)
                    if "consolidate" in f.filename]
            where = (f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours
                     else "?")
            raised.append(f"{path.name}: {type(exc).__module__}.{type(exc).__name__}: "
                          f"{exc} (in {where})")
            continue
        assert isinstance(sub, Submission)
        assert all(f.code in RULES and f.message.strip() and f.file == path.name
                   for f in sub.findings)
        if sub.readable:
            assert sub.cells or sub.tool_output or sub.findings
            outcomes["läst"] += 1
        else:
            assert sub.findings, f"{path.name}: refused without a reason"
            outcomes["avvisad"] += 1
        subs.append(sub)
    assert not raised, f"{len(raised)} of {MUTANTS} mutants raised:\n" + "\n".join(raised)
    # Both outcomes occur: the mutants are neither all harmless nor all fatal.
    assert outcomes["läst"] >= 10 and outcomes["avvisad"] >= 10, outcomes
    # The rules run over every readable mutant together without raising either.
    checked = check_files_from(subs, catalog)
    assert len(checked.submissions) == MUTANTS
