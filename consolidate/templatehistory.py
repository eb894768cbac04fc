"""Last tertial beside the input (`template --historik MAPP`): the unit's accepted values of the
previous tertial and of the same tertial a year before, greyed beside each indicator of its
template, and a live check that colours the input when the new value moves more than the catalog's
hopp_varning from the nearer of them, so a slip shows while it is typed.

The grey cells carry no defined name: the reader never sees them (it finds inputs by name only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .combine import unit_indicator_values
from .errors import UsageError
from .layout import (
    COL_CHECK,
    COL_DENOM,
    COL_VALUE,
    FIRST_ROW,
    HEADER_ROW,
    INDICATOR_SHEET,
    Layout,
    col_letter,
)
from .periods import Period
from .templatestyle import JUMP_FILL, JUMP_FONT, Formats, share_check, value_format_key

COL_PREVIOUS, COL_YEAR_BEFORE = COL_CHECK + 1, COL_CHECK + 2
PAST_FONT = "#7F7F7F"


@dataclass(frozen=True)
class UnitHistory:
    """A unit's earlier values for one template: per indicator id (previous tertial, a year
    before); None where the unit had no accepted value."""

    period: Period
    values: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    @property
    def previous(self) -> Period:
        return self.period.previous

    @property
    def year_before(self) -> Period:
        return Period(self.period.year - 1, self.period.tertial)


def read_history(folder: Path, catalog: Catalog, period: Period,
                 units: Sequence[str] = ()) -> dict[str, UnitHistory]:
    """Per unit, its accepted values (the files `run` on the folder would use) of the tertial before
    `period` and of the same tertial a year before; a merged unit's values count for the unit that
    reports for it in `period`. Units with none are left out: their templates look as without
    history. No `units`: those of the period's plan."""
    import polars as pl

    from .run import check_files_from, collect_paths, read_all

    if not folder.is_dir():
        raise UsageError(f"Mappen {folder} (--historik) finns inte eller är ingen mapp.")
    paths, _ = collect_paths([folder])
    subs, values = read_all(paths, catalog, folder)
    checked = check_files_from([s for s in subs if not s.unchanged_copy], catalog, values)
    wanted = {str(period.previous): 0, str(Period(period.year - 1, period.tertial)): 1}
    used = [s.file for (_, p), s in checked.used().items() if p in wanted]
    frame = values.filter(pl.col("file").is_in(used))
    parts: dict[tuple[str, str, int], list[tuple[float | None, float | None, float | None]]] = {}
    if frame.height:
        for when, unit, ind, num, den, value in unit_indicator_values(frame, catalog).iter_rows():
            heir = catalog.reporter(unit, period)
            if heir is not None:
                parts.setdefault((heir, ind, wanted[when]), []).append((num, den, value))
    found: dict[str, UnitHistory] = {}
    for unit in units or [u.id for u in catalog.units_in(period)]:
        pairs = {ind.id: (_combined(catalog, ind.id, parts.get((unit, ind.id, 0))),
                          _combined(catalog, ind.id, parts.get((unit, ind.id, 1))))
                 for ind in catalog.indicators_for(unit, period)}
        if any(v is not None for pair in pairs.values() for v in pair):
            found[unit] = UnitHistory(period, pairs)
    return found


def _combined(catalog: Catalog, indicator: str,
              parts: list[tuple[float | None, float | None, float | None]] | None) -> float | None:
    """One value from the units that report as one now: by the indicator's rule."""
    ind = catalog.indicator(indicator)
    known = [p for p in parts or () if p[2] is not None]
    if ind is None or not known:
        return None
    if len(known) == 1:
        return known[0][2]
    if ind.is_share:
        den = sum(p[1] or 0.0 for p in known)
        return sum(p[0] or 0.0 for p in known) / den if den else None
    values = [p[2] for p in known if p[2] is not None]
    return sum(values) / len(values) if ind.combine == "medel" else sum(values)


def history_lines(catalog: Catalog, history: UnitHistory | None) -> list[str]:
    """The instruction sheet's words on the grey columns (none without history)."""
    if history is None:
        return []
    limit = f"{catalog.settings.jump_warning * 100:.0f} %"
    return [f"8. De grå kolumnerna till höger på fliken Indikatorer visar enhetens godkända värden "
            f"för {history.previous.heading} och {history.year_before.heading}. Blir en gul cell "
            f"orange har värdet ändrats mer än {limit} sedan dess (förra tertialet, annars samma "
            "tertial i fjol): kontrollera att det stämmer (mnkr, inte tkr; rätt antal siffror) "
            "och förklara förändringen i kommentaren."]


def write_history(wb: Any, fmt: Formats, catalog: Catalog, layout: Layout,
                  history: UnitHistory) -> None:
    """The grey columns, the live colour of the inputs and the check text, on the indicator
    sheet the template has already written."""
    ws = wb.get_worksheet_by_name(INDICATOR_SHEET)
    base = {"font_name": "Calibri", "font_size": 11, "valign": "top", "border": 1,
            "bg_color": "#F2F2F2", "font_color": PAST_FONT, "italic": True}
    past = {key: wb.add_format({**base, "num_format": shown.num_format})
            for key, shown in fmt.shown.items()}
    jump = wb.add_format({"bg_color": JUMP_FILL, "font_color": JUMP_FONT})
    heads = ((COL_PREVIOUS, history.previous), (COL_YEAR_BEFORE, history.year_before))
    for col, period in heads:
        ws.write_string(HEADER_ROW, col, f"{period.heading} (godkänt)", fmt.head)
        ws.set_column(col, col, 13)
    note = wb.add_format({"font_name": "Calibri", "font_size": 11, "italic": True,
                          "font_color": "#595959"})  # one line, just above the headings
    ws.write_string(HEADER_ROW - 1, 0, "Grå kolumner längst till höger: enhetens godkända värden "
                    "tidigare perioder. En gul cell blir orange när värdet ändrats mycket sedan "
                    "dess.", note)
    limit = repr(float(catalog.settings.jump_warning))
    for offset, ind in enumerate(layout.indicators):
        row = FIRST_ROW + offset
        shown = past[value_format_key(ind.in_percent, ind.decimals)]
        before = history.values.get(ind.id, (None, None))
        for (col, _), value in zip(heads, before, strict=True):
            if value is None:
                ws.write_string(row, col, "–", shown)
            else:
                ws.write_number(row, col, value, shown)
        nearer = next(((col, period) for (col, period), v in zip(heads, before, strict=True)
                       if v is not None), None)
        if nearer is None:
            continue
        r = row + 1
        v, d, p = f"$D{r}", f"$E{r}", f"${col_letter(nearer[0])}{r}"
        new = f"{v}/{d}" if ind.is_share else v
        usable = f"ISNUMBER({v}),ISNUMBER({d}),{d}>0" if ind.is_share else f"ISNUMBER({v})"
        moved = f"AND({usable},ISNUMBER({p}),{p}<>0,ABS({new}/{p}-1)>{limit})"
        ws.conditional_format(row, COL_VALUE, row, COL_DENOM if ind.is_share else COL_VALUE,
                              {"type": "formula", "criteria": "=" + moved, "format": jump})
        said = (f'IF({moved},"Stor förändring mot {nearer[1].heading}: stämmer värdet? '
                'Förklara i kommentaren.","")')
        ws.write_formula(row, COL_CHECK, share_check(v, d, said) if ind.is_share else "=" + said,
                         fmt.check, "")
