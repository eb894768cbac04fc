"""The board's catalog (schemas/katalog.toml): load, check and expose it as frozen dataclasses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from .compare_spec import ComparisonSpec
from .deadlines import Deadlines
from .periods import Period
from .span import ALWAYS, FIRST, Span

# The example board, shipped as package data (mapped from the repository's schemas/, see
# pyproject.toml).

KINDS = ("antal", "andel", "beläggningsgrad", "årsarbetare", "mnkr", "dygn", "procent")
SHARE_KINDS = ("andel", "beläggningsgrad")
PERCENT_KINDS = SHARE_KINDS + ("procent",)  # written in percent in the catalog, held as fractions
COMBINE = ("summa", "kvot", "medel")
FREQUENCIES = ("tertial", "månatligen", "årsbasis")
DIRECTIONS = ("ökning", "minskning")
TABLE_KINDS = ("fordelning", "enkat", "manad", "varav")
KIND_UNIT = {
    "antal": "st",
    "andel": "%",
    "beläggningsgrad": "%",
    "årsarbetare": "åa",
    "mnkr": "mnkr",
    "dygn": "dygn",
    "procent": "%",
}
# Sheets every unit template (and its feedback copy) already has; a table cannot take their names.
RESERVED_SHEETS = ("Instruktioner", "Indikatorer", "Återkoppling")
# Row ids a table kind uses for its own extra row (SUMMA, number of answers, the total).
RESERVED_ROWS = {"fordelning": "summa", "enkat": "svar", "varav": "total"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KOLADA = re.compile(r"^[A-Z]\d{5}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BAD_SHEET_CHARS = set("[]:*?/\\")


@dataclass(frozen=True, slots=True)
class Board:
    id: str
    name: str
    municipality: str
    administration: str
    contact: str


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    name: str
    email: str
    span: Span = ALWAYS
    successor: str | None = None  # ersatts_av: the unit that reports for this one after its span


@dataclass(frozen=True, slots=True)
class Indicator:
    """One row of the board's table. Shares and percentages are held as fractions (0.045 = 4,5 %).

    `baseline`, `target` (and their date and year) are the earliest year's values; a plan that
    re-targets gives more in `targets` / `baselines`, and `as_of(period)` is the indicator as it
    stood in a period: its name, nuläge and börläge then."""

    id: str
    section: str
    goal_area: str
    name: str
    kind: str
    units: tuple[str, ...]
    combine: str
    baseline: float
    baseline_date: dt.date
    target: float | None
    target_text: str | None
    target_year: int
    frequency: str
    direction: str
    plausible: tuple[float, float]
    tolerance: float
    decimals: int
    numerator_label: str | None = None
    denominator_label: str | None = None
    outcomes: tuple[tuple[str, float], ...] = ()
    note: str | None = None
    kolada: str | None = None
    span: Span = ALWAYS
    targets: tuple[tuple[int, float], ...] = ()                 # (year, börläge), by year
    baselines: tuple[tuple[int, float, dt.date], ...] = ()      # (from year, nuläge, its date);
                                                                # () = one
    former_names: tuple[tuple[Period, str], ...] = ()           # (last period, the name used up
                                                                # to it)

    @property
    def is_share(self) -> bool:
        return self.kind in SHARE_KINDS

    @property
    def in_percent(self) -> bool:
        return self.kind in PERCENT_KINDS

    @property
    def is_whole(self) -> bool:
        return self.kind in ("antal", "dygn")

    def asked_in(self, tertial: int) -> bool:
        """Annual indicators are asked only in the last tertial of the year."""
        return self.frequency != "årsbasis" or tertial == 3

    def target_in(self, year: int) -> tuple[int, float | None]:
        """The börläge that applies in a year, and the year it is for: that year's own, else the
        next year's (the target worked towards), after the last year the last one."""
        if not self.targets:
            return self.target_year, self.target
        return next((t for t in self.targets if t[0] >= year), self.targets[-1])

    def baseline_in(self, year: int) -> tuple[float, dt.date]:
        """The nuläge that applies in a year: the latest given from that year or before, else the
        first."""
        found = (self.baseline, self.baseline_date)
        for start, value, date in self.baselines:
            if start <= year:
                found = (value, date)
        return found

    def name_in(self, period: Period) -> str:
        return next((name for last, name in self.former_names if period <= last), self.name)

    def as_of(self, period: Period) -> Indicator:
        """The indicator as it stood in a period: name, nuläge and börläge of then."""
        year, target = self.target_in(period.year)
        baseline, date = self.baseline_in(period.year)
        name = self.name_in(period)
        if (year, target, baseline, date, name) == (self.target_year, self.target, self.baseline,
                                                    self.baseline_date, self.name):
            return self
        return replace(self, name=name, target=target, target_year=year, baseline=baseline,
                       baseline_date=date)


@dataclass(frozen=True, slots=True)
class TableRow:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Table:
    """A unit-level table: a distribution with SUMMA, a survey, a monthly series or a varav."""

    id: str
    kind: str
    sheet: str
    title: str
    description: str
    units: tuple[str, ...]
    rows: tuple[TableRow, ...]
    count_label: str = "Antal"
    with_share: bool = False
    total_label: str | None = None
    complete: bool = False
    span: Span = ALWAYS

    def name_in(self, period: Period) -> str:
        return self.title


@dataclass(frozen=True, slots=True)
class Settings:
    example_period: str
    suppression_limit: int
    jump_warning: float
    mask_mail: bool = False  # everything mailed to the board must be masked
    deadlines: Deadlines = Deadlines()


_Reported = TypeVar("_Reported", Indicator, Table)


class Origin(StrEnum):
    """How a command came to use its catalog (the order is in consolidate.locate)."""

    OPTION = "--katalog"
    ENVIRONMENT = "CONSOLIDATE_KATALOG"
    FOLDER = "mappen"
    BUNDLED = "exempel"


@dataclass(frozen=True)
class Catalog:
    """The board's catalog over time. Lookups that take a period answer for the catalog as it stood
    then (valid units, what each reports, merged units by their successor) and are cached per
    period."""

    board: Board
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    tables: tuple[Table, ...]
    fingerprint: str
    path: str = field(default="", compare=False)  # as the user gave it, or where it was found
    origin: Origin = field(default=Origin.OPTION, compare=False)
    comparison: ComparisonSpec = ComparisonSpec()  # [jamforelse]: Kolada's municipality and peers

    # Hashing all units and indicators on every cached call is quadratic for a region's
    # thousands of units; the content is fixed once loaded, so hash what identifies it.
    def __hash__(self) -> int:
        return hash((self.fingerprint, len(self.units), self.board.id))

    @property
    def bundled(self) -> bool:
        """The example catalog that ships with consolidate, not a board's own."""
        return self.origin is Origin.BUNDLED

    @property
    def label(self) -> str:
        """Which catalog, in Swedish, for the "Katalog: …" line of every output."""
        if self.bundled:
            return f"exempelkatalogen som följer med consolidate ({self.path})"
        if self.origin is Origin.ENVIRONMENT:
            return f"{self.path} (från {Origin.ENVIRONMENT.value})"
        return self.path

    @cached_property
    def _units_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def _unit_ids(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.units)

    @cached_property
    def _tables_by_unit(self) -> dict[str, tuple[Table, ...]]:
        return _by_unit(self.units, self.tables)

    @cached_property
    def _items(self) -> tuple[dict[str, Indicator], dict[str, Table]]:
        return {i.id: i for i in self.indicators}, {t.id: t for t in self.tables}

    @cached_property
    def _plans(self) -> dict[Period, PeriodPlan]:
        return {}

    def unit(self, unit_id: str) -> Unit:
        return self._units_by_id[unit_id]

    def has_unit(self, unit_id: str) -> bool:
        return unit_id in self._units_by_id

    def unit_ids(self) -> tuple[str, ...]:
        return self._unit_ids

    def indicator(self, indicator_id: str) -> Indicator | None:
        return self._items[0].get(indicator_id)

    def table(self, table_id: str) -> Table | None:
        return self._items[1].get(table_id)

    def plan(self, period: Period) -> PeriodPlan:
        """The catalog as it stands in a period (computed once per period)."""
        found = self._plans.get(period)
        if found is None:
            found = self._plans[period] = period_plan(self, period)
        return found

    def units_in(self, period: Period) -> tuple[Unit, ...]:
        """The units valid in a period: those expected to hand in."""
        return self.plan(period).units

    def unit_active(self, unit_id: str, period: Period) -> bool:
        unit = self._units_by_id.get(unit_id)
        return unit is not None and period in unit.span

    def reporter(self, unit_id: str, period: Period) -> str | None:
        """The unit that reports for `unit_id` in a period: itself, or after a merge its
        successor."""
        return reporter(self._units_by_id, unit_id, period)

    def reporters(self, item: Indicator | Table, period: Period) -> tuple[str, ...]:
        """The units that report an indicator or table in a period, in its own order."""
        return reporters(self._units_by_id, item, period)

    def indicators_for(self, unit_id: str, period: Period) -> tuple[Indicator, ...]:
        """The indicators a unit's template asks in a period (valid then, reported by the unit, and
        asked in that tertial), as the catalog lists them."""
        return self._asked(unit_id, period)[0]

    def tables_for(self, unit_id: str, period: Period | None = None) -> tuple[Table, ...]:
        """The unit's tables in a period; without a period every table the catalog lists it for."""
        if period is None:
            return self._tables_by_unit.get(unit_id, ())
        return self.plan(period).tables.get(unit_id, ())

    def signature(self, unit_id: str, period: Period) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What decides a unit's template cells: its indicators and tables in that period."""
        return self._asked(unit_id, period)[1]

    def template_fingerprint(self, unit_id: str, period: Period) -> str:
        """The shape of one unit's template for one period (written in its _meta as `innehall`):
        a change of the catalog elsewhere, or in other periods, leaves it alone."""
        view = self.plan(period)
        signature = self.signature(unit_id, period)
        key = ("innehall", signature)
        found = view.cache.get(key)
        if found is None:
            shape = {
                "indikatorer": [[i.id, i.kind] for i in self.indicators_for(unit_id, period)],
                "tabeller": [[t.id, t.kind, t.sheet, [r.id for r in t.rows], t.with_share]
                             for t in self.tables_for(unit_id, period)],
            }
            blob = json.dumps(shape, sort_keys=True, ensure_ascii=False).encode("utf-8")
            found = view.cache[key] = hashlib.sha256(blob).hexdigest()[:16]
        return str(found)

    def _asked(self, unit_id: str, period: Period) -> tuple[
            tuple[Indicator, ...], tuple[tuple[str, ...], tuple[str, ...]]]:
        view = self.plan(period)
        found = view.cache.get(unit_id)
        if found is None:
            asked = tuple(i for i in view.indicators.get(unit_id, ()) if i.asked_in(period.tertial))
            tables = view.tables.get(unit_id, ())
            found = view.cache[unit_id] = (asked, (tuple(i.id for i in asked),
                                                   tuple(t.id for t in tables)))
        return found


def _by_unit(units: tuple[Unit, ...],
             items: tuple[_Reported, ...]) -> dict[str, tuple[_Reported, ...]]:
    """Catalog entries per unit that reports them, in catalog order."""
    grouped: dict[str, list[_Reported]] = {u.id: [] for u in units}
    for item in items:
        for unit in item.units:
            grouped.setdefault(unit, []).append(item)
    return {u: tuple(found) for u, found in grouped.items()}


def slug(text: str) -> str:
    """An identifier from a Swedish label: 'Anhöriga/bekanta' -> 'anhoriga_bekanta'."""
    folded = text.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:40] or "rad"


def reporter(units: dict[str, Unit], unit_id: str, period: Period) -> str | None:
    """Who reports for a unit in a period: itself while valid, after a merge the unit it merged
    into."""
    seen = 0
    while seen < len(units):
        unit = units.get(unit_id)
        if unit is None:
            return None
        if period in unit.span:
            return unit_id
        if unit.successor is None or not unit.span.ended_before(period):
            return None
        unit_id = unit.successor
        seen += 1
    return None


def reporters(units: dict[str, Unit], item: Indicator | Table, period: Period) -> tuple[str, ...]:
    """The units that report an item in a period, in the item's order, merged units by their
    successor."""
    if period not in item.span:
        return ()
    out: dict[str, None] = {}  # ordered and unique; a list's `in` was quadratic in units
    for unit_id in item.units:
        found = reporter(units, unit_id, period)
        if found is not None:
            out[found] = None
    return tuple(out)


@dataclass(frozen=True)
class PeriodPlan:
    """The catalog as it stands in one period: valid units, and what each unit reports."""

    period: Period
    units: tuple[Unit, ...]
    indicators: dict[str, tuple[Indicator, ...]]
    tables: dict[str, tuple[Table, ...]]
    cache: dict[Any, Any] = field(default_factory=dict, compare=False)


def period_plan(catalog: Catalog, period: Period) -> PeriodPlan:
    by_id = {u.id: u for u in catalog.units}
    indicators: dict[str, list[Indicator]] = {}
    tables: dict[str, list[Table]] = {}
    for target, items in ((indicators, catalog.indicators), (tables, catalog.tables)):
        for item in items:
            for unit_id in reporters(by_id, item, period):
                target.setdefault(unit_id, []).append(item)  # type: ignore[arg-type]
    return PeriodPlan(period, tuple(u for u in catalog.units if period in u.span),
                      {u: tuple(v) for u, v in indicators.items()},
                      {u: tuple(v) for u, v in tables.items()})


def boundaries(units: Iterable[Unit], items: Iterable[Indicator | Table]) -> list[Period]:
    """The periods where something starts or stops: the plan is the same between two of them."""
    found = {FIRST}
    for entry in (*units, *items):
        if entry.span.start is not None:
            found.add(entry.span.start)
        if entry.span.end is not None:
            found.add(entry.span.end.next)
    return sorted(found)
