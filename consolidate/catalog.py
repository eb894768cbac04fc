"""The board's catalog (schemas/katalog.toml): load, check and expose it as frozen dataclasses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from .errors import CatalogError
from .periods import Period
from .plan import ALWAYS, PeriodPlan, Span, period_plan, reporter, reporters

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "schemas" / "katalog.toml"

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
    baselines: tuple[tuple[int, float, dt.date], ...] = ()      # (from year, nuläge, its date); () = one
    former_names: tuple[tuple[Period, str], ...] = ()           # (last period, the name used up to it)

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
        """The börläge that applies in a year, and the year it is for: that year's own, else the next
        year's (the target worked towards), after the last year the last one."""
        if not self.targets:
            return self.target_year, self.target
        return next((t for t in self.targets if t[0] >= year), self.targets[-1])

    def baseline_in(self, year: int) -> tuple[float, dt.date]:
        """The nuläge that applies in a year: the latest given from that year or before, else the first."""
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
        return replace(self, name=name, target=target, target_year=year, baseline=baseline, baseline_date=date)


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


_Reported = TypeVar("_Reported", Indicator, Table)


@dataclass(frozen=True)
class Catalog:
    """The board's catalog over time. Lookups that take a period answer for the catalog as it stood
    then (valid units, what each reports, merged units by their successor) and are cached per period."""

    board: Board
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    tables: tuple[Table, ...]
    fingerprint: str
    path: str = field(default="", compare=False)

    # Hashing all units and indicators on every cached call is quadratic for a region's
    # thousands of units; the content is fixed once loaded, so hash what identifies it.
    def __hash__(self) -> int:
        return hash((self.fingerprint, len(self.units), self.board.id))

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
        """The unit that reports for `unit_id` in a period: itself, or after a merge its successor."""
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

    def _asked(self, unit_id: str, period: Period) -> tuple[tuple[Indicator, ...], tuple[tuple[str, ...], tuple[str, ...]]]:
        view = self.plan(period)
        found = view.cache.get(unit_id)
        if found is None:
            asked = tuple(i for i in view.indicators.get(unit_id, ()) if i.asked_in(period.tertial))
            tables = view.tables.get(unit_id, ())
            found = view.cache[unit_id] = (asked, (tuple(i.id for i in asked), tuple(t.id for t in tables)))
        return found


def _by_unit(units: tuple[Unit, ...], items: tuple[_Reported, ...]) -> dict[str, tuple[_Reported, ...]]:
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


_KEYS = {
    "": ("version", "namnd", "installningar", "enhet", "indikator", "tabell"),
    "namnd": ("id", "namn", "kommun", "forvaltning", "kontakt"),
    "installningar": ("exempelperiod", "roj_grans", "hopp_varning"),
    "enhet": ("id", "namn", "epost", "fran", "till", "ersatts_av"),
    "indikator": (
        "id", "avsnitt", "malomrade", "namn", "typ", "taljare", "namnare", "enheter", "sammanvagning",
        "nulage", "nulage_datum", "utfall", "borlage", "borlage_text", "borlage_ar", "uppfoljning",
        "riktning", "rimligt", "tolerans", "decimaler", "anmarkning", "kolada", "fran", "till", "tidigare_namn",
    ),
    "tabell": (
        "id", "typ", "flik", "rubrik", "beskrivning", "enheter", "rader", "antal_rubrik", "andel",
        "total", "fullstandig", "fran", "till",
    ),
}
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_]+)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_]+)\s*\]\s*(#.*)?$")


class _Lines:
    """Line numbers of entries and keys in the catalog text, for messages (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts: dict[tuple[str, int], int] = {("", 0): -1}
        self.headers: list[int] = []
        self.counts: dict[str, int] = {}
        for number, line in enumerate(self.lines):
            if match := _ARRAY_HEADER.match(line):
                name = match.group(1)
                self.starts[(name, self.counts.get(name, 0))] = number
                self.counts[name] = self.counts.get(name, 0) + 1
                self.headers.append(number)
            elif match := _TABLE_HEADER.match(line):
                self.starts[(match.group(1), 0)] = number
                self.headers.append(number)

    def entry(self, section: str, index: int) -> int | None:
        """1-based line of the entry's header, or None."""
        start = self.starts.get((section, index))
        return None if start is None or start < 0 else start + 1

    def key(self, section: str, index: int, key: str) -> int | None:
        """1-based line where the entry sets the key, or None."""
        start = self.starts.get((section, index))
        if start is None:
            return None
        end = next((h for h in self.headers if h > start), len(self.lines))
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number]):
                return number + 1
        return None


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Load and check the catalog; raise CatalogError with a Swedish message naming the entry."""
    source = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"Katalogen {source} kan inte läsas: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogError(f"Katalogen {source} är inte sparad som UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(_syntax_message(source, str(exc))) from None
    catalog = _build(data, _Lines(text))
    return Catalog(
        board=catalog.board,
        settings=catalog.settings,
        units=catalog.units,
        indicators=catalog.indicators,
        tables=catalog.tables,
        fingerprint=catalog.fingerprint,
        path=str(source),
    )


def _syntax_message(source: Path, detail: str) -> str:
    """tomllib's message is English; say where in Swedish and keep its detail for the curious."""
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)", detail)
    if match:
        where = f"på rad {match.group(1)}, tecken {match.group(2)}"
        detail = detail[: match.start()] + detail[match.end():]
    elif "(at end of document)" in detail:
        where = "i slutet av filen"
        detail = detail.replace(" (at end of document)", "")
    else:
        where = "någonstans"
    return (f"Katalogen {source} har ett skrivfel {where} (TOML: {detail}). Vanliga orsaker: ett "
            "citattecken eller en hakparentes som saknas, decimalkomma i stället för punkt, eller å, ä, ö i "
            "ett nyckelnamn.")


def _build(data: dict[str, Any], lines: _Lines | None = None) -> Catalog:
    from .catalog_parse import build  # it builds on the types above

    return build(data, lines)
