"""What changes between a catalog's plans: when a unit started reporting, why it is not expected,
what a template from another plan lacks, and the plan's changes in words."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, Indicator, Table, boundaries, reporters
from .periods import Period
from .span import FIRST
from .svformat import sv_value


def reporting_since(catalog: Catalog, unit_id: str, item: Indicator | Table,
                    period: Period) -> Period | None:
    """The first period of the unbroken run, up to `period`, in which the unit reports the item;
    None when it always has."""
    by_id = {u.id: u for u in catalog.units}
    points = [p for p in boundaries(catalog.units, (*catalog.indicators, *catalog.tables))
              if p <= period]
    for point in reversed(points):
        if point == FIRST:
            return None
        if (unit_id in reporters(by_id, item, point)
                and unit_id not in reporters(by_id, item, point.previous)):
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
        return (f"{unit.name} ingår i {catalog.unit(successor).name} från "
                f"{unit.span.end.next if unit.span.end else period}")
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
            parts.append("börläge " + ", ".join(f"{y}: {sv_value(v, ind.kind, ind.decimals)}"
                                                for y, v in ind.targets))
        if ind.baselines:
            parts.append("nuläge " + ", ".join(f"från {y}: {sv_value(v, ind.kind, ind.decimals)}"
                                               for y, v, _ in ind.baselines))
        if ind.former_names:
            parts.append("tidigare namn till och med "
                         + ", ".join(str(p) for p, _ in ind.former_names))
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
                     names: Collection[str],
                     content: str | None = None) -> tuple[TemplateChange, ...]:
    """Differences between a template as returned and the catalog for its unit and period.

    `cells` are the layout's InputCells, `names` the workbook's defined names (lower case, also
    those that point nowhere), `content` the template's `innehall` from _meta (None for older
    templates). An item of the catalog none of whose names the workbook has was added after the
    template was made (ny_indikator / ny_tabell, one finding each); an indicator or table the
    workbook has but the catalog no longer asks of the unit in the period is not read (utgatt, a
    warning). With the same content fingerprint nothing differs; otherwise a partly missing item is
    left to the reader."""
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
        changes.append(TemplateChange("utgatt", scope,
                                      {"what": "Indikatorn" if is_indicator else "Tabellen",
                                       "label": label, "why": why, "period_text": str(period)}))
    return tuple(changes)


def item_of_name(catalog: Catalog, name: str) -> Indicator | Table | None:
    """The indicator or table a template's defined name belongs to (ind_<id>_<field>,
    tab_<id>_<row>_<field>), whether or not it is in the plan of a period; None for another name.
    With `span` and `reporting_since` it tells whether the name is asked in a period, and since
    when."""
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


def catalog_warnings(catalog: Catalog) -> list[str]:
    """What in a valid catalog is probably a mistake: a börläge already reached at its nuläge (then
    the indicator is green before anyone has done anything)."""
    found = []
    for ind in catalog.indicators:
        years = [y for y, _ in ind.targets] or [ind.target_year]
        for year in years:
            _, target = ind.target_in(year)
            baseline, date = ind.baseline_in(year)
            if target is None:
                continue
            reached = baseline >= target if ind.direction == "ökning" else baseline <= target
            if reached:
                found.append(
                    f"Indikatorn {ind.id}: börläget {sv_value(target, ind.kind, ind.decimals)} "
                    f"({year}) är redan nått vid nuläget "
                    f"{sv_value(baseline, ind.kind, ind.decimals)} (per {date.isoformat()}) med "
                    f"riktning {ind.direction}, så indikatorn blir grön utan någon förändring. "
                    "Kontrollera börläget, nuläget och riktningen.")
    return found
