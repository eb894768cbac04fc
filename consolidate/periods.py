"""Tertial periods: parsing the ways people write them, and their months."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import PeriodError

MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
MONTH_NAMES = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
               "september", "oktober", "november", "december")
_TERTIAL_MONTHS = {1: (1, 4), 2: (5, 8), 3: (9, 12)}
_LABELS = {1: "jan–apr", 2: "maj–aug", 3: "sep–dec"}

# ASCII only: a year in other scripts' digits or a look-alike letter is not a period we wrote.
_FLAGS = re.IGNORECASE | re.ASCII
_SEP = "[-\u2013_ /]"  # an en dash too: word processors turn "2025-T2" into "2025–T2"
_PATTERNS = (
    re.compile(rf"^(?P<y>\d{{4}})\s*{_SEP}?\s*T(?P<t>[123])$", _FLAGS),
    re.compile(rf"^T(?P<t>[123])\s*{_SEP}?\s*(?P<y>\d{{4}})$", _FLAGS),
    re.compile(r"^tertial\s*(?P<t>[123])\s*[-\u2013_ /,]?\s*(?P<y>\d{4})$", _FLAGS),
    re.compile(r"^(?P<y>\d{4})\s*[-\u2013_ /,]?\s*tertial\s*(?P<t>[123])$", _FLAGS),
)


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """One tertial of one year; orders chronologically."""

    year: int
    tertial: int

    def __post_init__(self) -> None:
        if self.tertial not in _TERTIAL_MONTHS:
            raise PeriodError(f"Tertial {self.tertial} finns inte; ett år har tertial 1, 2 och 3.")

    def __str__(self) -> str:
        return f"{self.year}-T{self.tertial}"

    @property
    def first_month(self) -> int:
        return _TERTIAL_MONTHS[self.tertial][0]

    @property
    def last_month(self) -> int:
        return _TERTIAL_MONTHS[self.tertial][1]

    @property
    def heading(self) -> str:
        """How the board writes a period over a column: 'T2 2025'."""
        return f"T{self.tertial} {self.year}"

    @property
    def label(self) -> str:
        """Swedish description, e.g. 'tertial 2 2025 (maj–aug)'."""
        return f"tertial {self.tertial} {self.year} ({_LABELS[self.tertial]})"

    @property
    def previous(self) -> Period:
        if self.tertial == 1:
            return Period(self.year - 1, 3)
        return Period(self.year, self.tertial - 1)

    @property
    def next(self) -> Period:
        if self.tertial == 3:
            return Period(self.year + 1, 1)
        return Period(self.year, self.tertial + 1)


@functools.lru_cache(maxsize=4096)  # a run parses the same few periods tens of thousands of times
def parse_period(text: str) -> Period:
    """Accept '2025-T2', 'T2 2025', '2025 T2', 'tertial 2 2025'; raise PeriodError otherwise."""
    cleaned = " ".join(str(text).replace("\u00a0", " ").split())
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year = int(match.group("y"))
            if not 2000 <= year <= 2100:
                break
            return Period(year, int(match.group("t")))
    raise PeriodError(
        f"Perioden \"{text}\" kan inte tolkas. Skriv den som 2025-T2 "
        "(även 'T2 2025', '2025 T2' och 'tertial 2 2025' går bra); "
        "T1 = jan–apr, T2 = maj–aug, T3 = sep–dec."
    )


def find_period_in_text(text: str) -> Period | None:
    """The period a file or folder name suggests, if any (used to spot mislabelled files)."""
    match = re.search(r"(?<!\d)(\d{4})[-_ ]?T([123])(?!\d)", text, _FLAGS)
    if match:
        return Period(int(match.group(1)), int(match.group(2)))
    match = re.search(r"T([123])[-_ ]?(\d{4})(?!\d)", text, _FLAGS)
    if match:
        return Period(int(match.group(2)), int(match.group(1)))
    return None
