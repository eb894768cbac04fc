"""Periods: the spellings people use, the months of a tertial, order and the previous tertial."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consolidate.errors import PeriodError
from consolidate.periods import Period, find_period_in_text, parse_period

SPELLINGS = ("2025-T2", "T2 2025", "2025 T2", "tertial 2 2025", "TERTIAL 2 2025", "Tertial 2 2025",
             "t2 2025", "2025-t2", "2025T2", "  2025-T2  ", "2025\u00a0T2", "2025 tertial 2",
             "2025–T2")


@pytest.mark.parametrize("text", SPELLINGS)
def test_spellings_of_one_period(text: str) -> None:
    period = parse_period(text)
    assert period == Period(2025, 2)
    assert str(period) == "2025-T2"


@pytest.mark.parametrize(
    ("tertial", "first", "last", "label"),
    [(1, 1, 4, "jan–apr"), (2, 5, 8, "maj–aug"), (3, 9, 12, "sep–dec")],
)
def test_months_of_each_tertial(tertial: int, first: int, last: int, label: str) -> None:
    period = parse_period(f"2025-T{tertial}")
    assert (period.first_month, period.last_month) == (first, last)
    assert period.label == f"tertial {tertial} 2025 ({label})"


@pytest.mark.parametrize(
    "text",
    ["", "2025", "T2", "2025-T4", "2025-T0", "2025-T12", "tertial 4 2025", "1999-T2", "2101-T1",
     "25-T2", "2025-2", "2025/08", "andra tertialen 2025", "2025-T2-T3", "20250-T2", "٢٠٢٥-T2"],
)
def test_bad_periods_are_refused_in_swedish(text: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    message = str(info.value)
    assert f'"{text}"' in message
    assert "kan inte tolkas" in message and "2025-T2" in message
    assert "T1 = jan–apr, T2 = maj–aug, T3 = sep–dec" in message


def test_order_is_chronological() -> None:
    texts = ["2025-T1", "2024-T3", "2025-T3", "2024-T1", "2025-T2", "2024-T2"]
    ordered = sorted(parse_period(t) for t in texts)
    assert [str(p) for p in ordered] == ["2024-T1", "2024-T2", "2024-T3", "2025-T1", "2025-T2",
                                         "2025-T3"]
    assert parse_period("2024-T3") < parse_period("2025-T1") < parse_period("2025-T2")


def test_previous_tertial() -> None:
    assert parse_period("2025-T3").previous == Period(2025, 2)
    assert parse_period("2025-T2").previous == Period(2025, 1)
    assert parse_period("2025-T1").previous == Period(2024, 3)


@pytest.mark.parametrize("tertial", [0, 4, -1])
def test_a_period_with_no_such_tertial_cannot_be_made(tertial: int) -> None:
    with pytest.raises(PeriodError, match="tertial 1, 2 och 3"):
        Period(2025, tertial)


def test_periods_are_values() -> None:
    assert {parse_period("T2 2025"), parse_period("2025-T2")} == {Period(2025, 2)}
    with pytest.raises(AttributeError):
        Period(2025, 2).year = 2026  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2025-T2_vuxen.xlsx", Period(2025, 2)), ("vuxen T3 2024.xlsx", Period(2024, 3)),
     ("Uppföljning 2025_t1 (2).xlsx", Period(2025, 1)), ("vuxen.xlsx", None),
     ("12025-T2.xlsx", None)],
)
def test_period_in_a_file_name(name: str, expected: Period | None) -> None:
    assert find_period_in_text(name) == expected


def _random_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c.lower()
                   for c, flip in zip(text, flips + [False] * len(text)))


@given(st.integers(2000, 2100), st.integers(1, 3), st.lists(st.booleans(), max_size=20),
       st.sampled_from(["{y}-T{t}", "T{t} {y}", "{y} T{t}", "tertial {t} {y}"]))
def test_every_accepted_spelling_round_trips(year: int, tertial: int, flips: list[bool],
                                             form: str) -> None:
    text = _random_case(form.format(y=year, t=tertial), flips)
    period = parse_period(text)
    assert (period.year, period.tertial) == (year, tertial)
    assert str(period) == f"{year}-T{tertial}"
    assert parse_period(str(period)) == period
    assert period.previous < period


@given(st.text(max_size=40))
def test_arbitrary_text_raises_only_period_error(text: str) -> None:
    try:
        period = parse_period(text)
    except PeriodError as exc:
        assert "kan inte tolkas" in str(exc)
    else:
        assert 2000 <= period.year <= 2100 and period.tertial in (1, 2, 3)
