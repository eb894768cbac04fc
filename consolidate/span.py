"""When a catalog entry is valid: a span of periods, both ends included."""

from __future__ import annotations

from dataclasses import dataclass

from .periods import Period

FIRST = Period(2000, 1)  # before any period the catalog can name: "always valid" starts here


@dataclass(frozen=True, slots=True)
class Span:
    """The periods an entry is valid in, both ends included; None is open (always was /
    still is)."""

    start: Period | None = None
    end: Period | None = None

    def __contains__(self, period: object) -> bool:
        return isinstance(period, Period) and (self.start is None or self.start <= period) and (
            self.end is None or period <= self.end)

    def overlaps(self, other: Span) -> bool:
        return ((self.start is None or other.end is None or self.start <= other.end)
                and (other.start is None or self.end is None or other.start <= self.end))

    def overlaps_year(self, year: int) -> bool:
        return self.overlaps(Span(Period(year, 1), Period(year, 3)))

    def started_by(self, period: Period) -> bool:
        return self.start is None or self.start <= period

    def ended_before(self, period: Period) -> bool:
        return self.end is not None and self.end < period

    @property
    def always(self) -> bool:
        return self.start is None and self.end is None

    def text(self) -> str:
        """Swedish: 'från 2026-T1', 'till och med 2025-T3', '2024-T1–2025-T3'."""
        if self.start and self.end:
            return f"{self.start}–{self.end}"
        if self.start:
            return f"från {self.start}"
        if self.end:
            return f"till och med {self.end}"
        return "alla perioder"


ALWAYS = Span()
