"""When each tertial's returns are due: the catalog's `[inlamning]` table.

A tertial key ("T1" = "05-10") gives a month and day: the first such day after the tertial ends
(so T3 = "01-15" falls in the next year). A period key ("2026-T1" = 2026-05-12) gives one period
its own date and wins over the tertial's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .errors import PeriodError
from .periods import Period, parse_period

_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_TERTIAL_KEY = re.compile(r"^T([123])$", re.IGNORECASE)
_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december")


class DeadlineError(ValueError):
    """One key of `[inlamning]` that cannot be read; `key` names it for the catalog's message."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Deadlines:
    by_tertial: tuple[tuple[int, int, int], ...] = ()  # (tertial, month, day)
    by_period: tuple[tuple[Period, dt.date], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.by_tertial or self.by_period)

    def due(self, period: Period) -> dt.date | None:
        """The last day to hand in the period's return, or None when the catalog sets none."""
        for when, date in self.by_period:
            if when == period:
                return date
        for tertial, month, day in self.by_tertial:
            if tertial == period.tertial:
                return _after_end(period, month, day)
        return None


def _after_end(period: Period, month: int, day: int) -> dt.date:
    """The first `month-day` after the period's last day (29 February becomes the 28th)."""
    year = period.year if month > period.last_month else period.year + 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        return dt.date(year, month, day - 1)


def parse_deadlines(data: Any) -> Deadlines:
    """`[inlamning]` as read by tomllib; raises DeadlineError naming the key."""
    if data is None:
        return Deadlines()
    if not isinstance(data, dict):
        raise DeadlineError("inlamning", "ska vara en tabell: [inlamning] med T1 = \"05-10\" osv.")
    by_tertial: list[tuple[int, int, int]] = []
    by_period: list[tuple[Period, dt.date]] = []
    for key, value in data.items():
        if match := _TERTIAL_KEY.match(key):
            month, day = _month_day(key, value)
            by_tertial.append((int(match.group(1)), month, day))
            continue
        try:
            period = parse_period(key)
        except PeriodError:
            raise DeadlineError(key, "okänd nyckel. Skriv T1, T2 och T3 (\"05-10\" = 10 maj) "
                                "eller en period, t.ex. \"2026-T1\" = 2026-05-12.") from None
        by_period.append((period, _date(key, value, period)))
    return Deadlines(tuple(sorted(by_tertial)), tuple(sorted(by_period, key=lambda p: p[0])))


def _month_day(key: str, value: Any) -> tuple[int, int]:
    match = _MONTH_DAY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise DeadlineError(key, "ska vara månad och dag inom citattecken, t.ex. \"05-10\" "
                            "(10 maj).")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        dt.date(2024, month, day)  # a leap year: 02-29 is a day that exists
    except ValueError:
        raise DeadlineError(key, f"{value!r} är ingen dag i året.") from None
    return month, day


def _date(key: str, value: Any, period: Period) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise DeadlineError(key, "ska vara ett datum, t.ex. 2026-05-12.") from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise DeadlineError(key, "ska vara ett datum, t.ex. 2026-05-12.")
    if (value.year, value.month) <= (period.year, period.last_month):
        raise DeadlineError(key, f"{value.isoformat()} ligger inte efter periodens slut.")
    return value


def sv_date(date: dt.date) -> str:
    """'10 maj 2026'."""
    return f"{date.day} {_MONTHS[date.month - 1]} {date.year}"
