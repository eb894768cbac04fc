"""The catalog's time axis: when units, indicators and tables are valid, and what changes between plans."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import PeriodError
from .periods import Period, parse_period
from .svformat import sv_value

if TYPE_CHECKING:
    from .catalog import Catalog, Indicator, Table, Unit
    from .catalog_parse import _Entry

FIRST = Period(2000, 1)  # before any period the catalog can name: "always valid" starts here
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True, slots=True)
class Span:
    """The periods an entry is valid in, both ends included; None is open (always was / still is)."""

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


# ---- reading the time keys of one catalog entry ---------------------------------------------

def span_of(entry: _Entry) -> Span:
    """fran / till of an entry; till before fran is refused at till."""
    ends: list[Period | None] = []
    for key in ("fran", "till"):
        value = entry.data.get(key)
        if value is None:
            ends.append(None)
            continue
        if not isinstance(value, str):
            raise entry.fail(key, f"ska vara en period inom citattecken, t.ex. {key} = \"2026-T1\".")
        try:
            ends.append(parse_period(value))
        except PeriodError as exc:
            raise entry.fail(key, str(exc)) from None
    span = Span(ends[0], ends[1])
    if span.start and span.end and span.end < span.start:
        raise entry.fail("till", f"{span.end} ligger före fran ({span.start}); till är den sista perioden "
                                 "som ingår och kan inte komma före den första.")
    return span


def per_year(entry: _Entry, key: str, kind: str) -> list[tuple[int, Any]] | None:
    """A key given per year, { "2025" = 1600, "2026" = 1700 }, sorted by year; None when it is one value.

    `kind` is "tal" (numbers) or "datum" (dates)."""
    value = entry.data.get(key)
    if not isinstance(value, dict):
        return None
    if not value:
        raise entry.fail(key, f"är tom; skriv t.ex. {key} = {{ \"2025\" = … }} eller ett enda värde.")
    out: list[tuple[int, Any]] = []
    for year, item in value.items():
        if not _YEAR.match(str(year)) or not 2000 <= int(year) <= 2100:
            raise entry.fail(f"{key}.{year}", "ska vara ett årtal med fyra siffror inom citattecken, t.ex. \"2026\".")
        if kind == "tal" and (isinstance(item, bool) or not isinstance(item, int | float)):
            raise entry.fail(f"{key}.{year}", f"ska vara ett tal (decimaler med punkt), inte {item!r}.")
        if kind == "datum" and (not isinstance(item, dt.date) or isinstance(item, dt.datetime)):
            raise entry.fail(f"{key}.{year}", "ska vara ett datum, t.ex. 2025-12-31 (utan citattecken).")
        out.append((int(year), float(item) if kind == "tal" else item))
    return sorted(out)


def former_names(entry: _Entry, span: Span) -> tuple[tuple[Period, str], ...]:
    """tidigare_namn = { "2025-T3" = "…" }: the name used up to and including that period."""
    value = entry.data.get("tidigare_namn", {})
    if not isinstance(value, dict):
        raise entry.fail("tidigare_namn", "ska skrivas som { \"2025-T3\" = \"namnet till och med den perioden\" }.")
    out: list[tuple[Period, str]] = []
    for key, name in value.items():
        try:
            period = parse_period(str(key))
        except PeriodError as exc:
            raise entry.fail(f"tidigare_namn.{key}", str(exc)) from None
        if not isinstance(name, str) or not name.strip():
            raise entry.fail(f"tidigare_namn.{key}", "ska vara en text inom citattecken.")
        if period not in span:
            raise entry.fail(f"tidigare_namn.{key}", f"{period} ligger utanför indikatorns giltighetstid "
                                                     f"({span.text()}).")
        out.append((period, name.strip()))
    return tuple(sorted(out))


def check_years(entry: _Entry, span: Span, key: str, years: Iterable[int], what: str) -> None:
    """Every year a value is given for must fall within the entry's span."""
    if span.always:
        return
    for year in years:
        if not span.overlaps_year(year):
            raise entry.fail(key, f"{what} för {year} ligger utanför indikatorns giltighetstid ({span.text()}); "
                                  "ta bort året eller ändra fran/till.")


# ---- checks across entries --------------------------------------------------------------------

def check_merges(units: Sequence[Unit], unit_entries: Sequence[_Entry]) -> None:
    """A merged unit names a unit that exists and is valid from the period after its last one."""
    by_id = {u.id: u for u in units}
    for unit, entry in zip(units, unit_entries, strict=True):
        if unit.successor is None:
            continue
        successor = by_id.get(unit.successor)
        if successor is None:
            raise entry.fail("ersatts_av", f"okänd enhet '{unit.successor}' (finns inte bland [[enhet]]).")
        if successor.id == unit.id:
            raise entry.fail("ersatts_av", "en enhet kan inte ersättas av sig själv.")
        if unit.span.end is None:
            raise entry.fail("ersatts_av", "ange också till = \"…\": den sista perioden enheten rapporterar själv.")
        first = unit.span.end.next
        if first not in successor.span:
            raise entry.fail("ersatts_av", f"'{successor.id}' ska ta över från {first}, men finns bara "
                                           f"{successor.span.text()}.")


def check_reporting(units: Sequence[Unit], items: Sequence[Indicator | Table], item_entries: Sequence[_Entry],
                    what: str) -> None:
    """Every listed unit exists some time the item does, and no period of the item's span is
    without a reporting unit (`what`: "indikatorn" or "tabellen")."""
    by_id = {u.id: u for u in units}
    boundaries = _boundaries(units, items)
    for item, entry in zip(items, item_entries, strict=True):
        for unit_id in item.units:
            unit = by_id[unit_id]
            if not unit.span.overlaps(item.span):
                hint = f" ({by_id[unit.successor].name} tar över och rapporterar)" if unit.successor else ""
                raise entry.fail("enheter", f"enheten '{unit_id}' finns {unit.span.text()}, men {what} gäller "
                                            f"{item.span.text()}; ta bort enheten ur listan{hint}.")
        for period in boundaries:
            if period not in item.span or reporters(by_id, item, period):
                continue
            if period == (item.span.start or FIRST):
                first = next((p for p in boundaries if p > period and reporters(by_id, item, p)), period)
                raise entry.fail("enheter", f"ingen av enheterna i listan finns före {first}, men {what} gäller "
                                            f"{item.span.text()}; ge {what} fran = \"{first}\".")
            raise entry.fail("enheter", f"från {period} rapporterar ingen enhet {what} (enheterna i listan "
                                        f"har upphört); ge {what} till = \"{period.previous}\" eller lägg till "
                                        "enheten som tar över.")


def _boundaries(units: Iterable[Unit], items: Iterable[Indicator | Table]) -> list[Period]:
    """The periods where something starts or stops: the plan is the same between two of them."""
    found = {FIRST}
    for entry in (*units, *items):
        if entry.span.start is not None:
            found.add(entry.span.start)
        if entry.span.end is not None:
            found.add(entry.span.end.next)
    return sorted(found)


def reporter(units: dict[str, Unit], unit_id: str, period: Period) -> str | None:
    """Who reports for a unit in a period: itself while valid, after a merge the unit it merged into."""
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
    """The units that report an item in a period, in the item's order, merged units by their successor."""
    if period not in item.span:
        return ()
    out: list[str] = []
    for unit_id in item.units:
        found = reporter(units, unit_id, period)
        if found is not None and found not in out:
            out.append(found)
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
                      {u: tuple(v) for u, v in indicators.items()}, {u: tuple(v) for u, v in tables.items()})


def reporting_since(catalog: Catalog, unit_id: str, item: Indicator | Table, period: Period) -> Period | None:
    """The first period of the unbroken run, up to `period`, in which the unit reports the item;
    None when it always has."""
    by_id = {u.id: u for u in catalog.units}
    points = [p for p in _boundaries(catalog.units, (*catalog.indicators, *catalog.tables)) if p <= period]
    for point in reversed(points):
        if point == FIRST:
            return None
        if unit_id in reporters(by_id, item, point) and unit_id not in reporters(by_id, item, point.previous):
            return point
    return None


def absence(catalog: Catalog, unit_id: str, period: Period) -> str:
    """Why a unit is not in the plan of a period, in Swedish ('' when it is)."""
    unit = catalog.unit(unit_id)
    if period in unit.span:
        return ""
    if unit.span.start is not None and period < unit.span.start:
        return f"{unit.name} finns från {unit.span.start}"
    successor = catalog.reporter(unit_id, period)
    if successor is not None:
        return f"{unit.name} ingår i {catalog.unit(successor).name} från {unit.span.end.next if unit.span.end else period}"
    return f"{unit.name} finns bara till och med {unit.span.end}"


def describe(catalog: Catalog) -> list[str]:
    """The plan's changes in Swedish, one line each, for `consolidate katalog`."""
    lines = []
    for unit in catalog.units:
        if not unit.span.always:
            merged = f", ersätts av {unit.successor}" if unit.successor else ""
            lines.append(f"  enhet {unit.id}: {unit.span.text()}{merged}")
    for ind in catalog.indicators:
        parts = [] if ind.span.always else [ind.span.text()]
        if len(ind.targets) > 1:
            parts.append("börläge " + ", ".join(f"{y}: {sv_value(v, ind.kind, ind.decimals)}" for y, v in ind.targets))
        if ind.baselines:
            parts.append("nuläge " + ", ".join(f"från {y}: {sv_value(v, ind.kind, ind.decimals)}"
                                               for y, v, _ in ind.baselines))
        if ind.former_names:
            parts.append("tidigare namn till och med " + ", ".join(str(p) for p, _ in ind.former_names))
        if parts:
            lines.append(f"  indikator {ind.id}: " + "; ".join(parts))
    for table in catalog.tables:
        if not table.span.always:
            lines.append(f"  tabell {table.id}: {table.span.text()}")
    return (["Planens förändringar över tid:"] + lines) if lines else []


# ---- what differs between a returned template and the catalog for its unit and period ----------

@dataclass(frozen=True, slots=True)
class TemplateChange:
    """One difference that matters for reading a file: a finding's rule code and its message values,
    and the defined names the reader must not look for (so no 'namn_saknas' for them)."""

    code: str
    scope: str
    params: dict[str, str]
    skip: frozenset[str] = frozenset()


def template_changes(catalog: Catalog, unit_id: str, period: Period, cells: Sequence[Any],
                     names: Collection[str], content: str | None = None) -> tuple[TemplateChange, ...]:
    """Differences between a template as returned and the catalog for its unit and period.

    `cells` are the layout's InputCells, `names` the workbook's defined names (lower case, also those
    that point nowhere), `content` the template's `innehall` from _meta (None for older templates).
    An item of the catalog none of whose names the workbook has was added after the template was made
    (ny_indikator / ny_tabell, one finding each); an indicator or table the workbook has but the
    catalog no longer asks of the unit in the period is not read (utgatt, a warning). With the same
    content fingerprint nothing differs; otherwise a partly missing item is left to the reader."""
    if content is not None and content == catalog.template_fingerprint(unit_id, period):
        return ()
    by_scope: dict[str, list[Any]] = {}
    for cell in cells:
        by_scope.setdefault(cell.scope, []).append(cell)
    changes: list[TemplateChange] = []
    for scope, scope_cells in by_scope.items():
        if any(c.name in names for c in scope_cells):
            continue
        is_indicator = scope_cells[0].name.startswith("ind_")
        item = catalog.indicator(scope) if is_indicator else catalog.table(scope)
        if item is None:
            continue
        since = reporting_since(catalog, unit_id, item, period)
        label = item.name_in(period)
        when = (f"tillkom {since}" if since is not None
                else "har lagts till i katalogen efter att mallen skapades")
        changes.append(TemplateChange("ny_indikator" if is_indicator else "ny_tabell", scope,
                                      {"label": label, "when": when, "period_text": str(period)},
                                      frozenset(c.name for c in scope_cells)))
    asked = {(c.name.startswith("ind_"), c.scope) for c in cells}
    known = {c.name for c in cells}
    for key in sorted(_scopes_of(catalog, [n for n in names if n not in known]) - asked):
        is_indicator, scope = key
        item = catalog.indicator(scope) if is_indicator else catalog.table(scope)
        if item is None:
            continue
        label = item.name_in(period)
        span = item.span
        if span.ended_before(period):
            why = f"avslutades {span.end}"
        elif not span.started_by(period):
            why = f"börjar först {span.start}"
        else:
            why = "rapporteras inte längre av er enhet"
        changes.append(TemplateChange("utgatt", scope, {"what": "Indikatorn" if is_indicator else "Tabellen",
                                                        "label": label, "why": why, "period_text": str(period)}))
    return tuple(changes)


def item_of_name(catalog: Catalog, name: str) -> Indicator | Table | None:
    """The indicator or table a template's defined name belongs to (ind_<id>_<field>,
    tab_<id>_<row>_<field>), whether or not it is in the plan of a period; None for another name.
    With `span` and `reporting_since` it tells whether the name is asked in a period, and since when."""
    name = name.lower()
    if name.startswith("ind_"):
        return catalog.indicator(name[4:].rsplit("_", 1)[0])
    if name.startswith("tab_"):
        rest = name[4:]
        return next((t for t in _longest_first(catalog) if rest.startswith(t.id + "_")), None)
    return None


@functools.lru_cache(maxsize=8)
def _longest_first(catalog: Catalog) -> tuple[Table, ...]:
    """Tables by id length, longest first: 'service_myndighet_2026_…' is not 'service_myndighet'."""
    return tuple(sorted(catalog.tables, key=lambda t: -len(t.id)))


def _scopes_of(catalog: Catalog, names: Collection[str]) -> set[tuple[bool, str]]:
    """Catalog items a workbook's defined names belong to, as (is an indicator, id)."""
    found: set[tuple[bool, str]] = set()
    for name in names:
        item = item_of_name(catalog, name)
        if item is not None:
            found.add((name.startswith("ind_"), item.id))
    return found
