"""Values the board must not see unchecked: the board model's marks on likely entry slips.

A value in a file the run uses is doubtful when (the numbers are in consolidate.plausible)
- it lies outside its indicator's plausible range (the catalog's `rimligt`; a share as numerator
  over denominator), or
- it is SLIP_FACTOR (7) times the same unit's value of the tertial before (for an indicator
  followed up once a year: of the same tertial a year before), or that much smaller:
  a decimal comma or a digit wrong gives about 10, tkr typed for mnkr about 1 000. Both values are
  above 0, the earlier one lies in the plausible range (else going back to normal is no slip), and
  for counts, days and a share's numerators the larger whole number is at least COUNT_FLOOR (20).
The unit explains one by a comment in the indicator's comment cell of the same file: it is then
listed, but not marked, and the indicator is judged as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from .boardmodel import DOUBT_KEYS, Doubt, cell_key
from .catalog import Catalog
from .findings import RULES, finding
from .model import json_keys
from .periods import parse_period
from .plausible import (
    annual_ids,
    before_text,
    carried,
    indicator_values,
    slip,
    slip_size,
    thousand,
    times_text,
    wanted,
)
from .svformat import sv_value

_EPS = 1e-9
_WHERE = ("file", "period", "unit", "scope", "sheet", "cell")
RANGE_SHORT = "utanför det rimliga intervallet"


def find_doubts(values: pl.DataFrame, catalog: Catalog) -> list[Doubt]:
    """Every doubtful indicator value in `values` (the accepted files' long values, all periods),
    in period, catalog and unit order."""
    ind = values.filter(pl.col("name").str.starts_with("ind_"))
    if ind.height == 0:
        return []
    now = indicator_values(ind, _WHERE).filter(pl.col("cur").is_not_null())
    # A merged unit's value goes to the unit that reports for it when it is compared.
    before = carried(now, catalog).rename({"period": "want"})
    comments = (ind.filter(pl.col("field") == "kommentar")
                .select("file", "scope", explanation=pl.col("text").fill_null("").str.strip_chars())
                .filter(pl.col("explanation") != ""))
    low = {i.id: i.plausible[0] for i in catalog.indicators}
    high = {i.id: i.plausible[1] for i in catalog.indicators}
    lo = pl.col("scope").replace_strict(low, default=None, return_dtype=pl.Float64) - _EPS
    hi = pl.col("scope").replace_strict(high, default=None, return_dtype=pl.Float64) + _EPS
    cur, prev = pl.col("cur"), pl.col("prev")
    prev_ok = prev.is_between(lo, hi)
    annual = annual_ids(catalog)
    rows = (now.with_columns(want=wanted(catalog), annual=pl.col("scope").is_in(annual))
            .join(before, on=["unit", "scope", "want"], how="left")
            .join(comments, on=["file", "scope"], how="left")
            .with_columns(lo=lo, hi=hi,
                          outside=~cur.is_between(lo, hi),
                          mixed=thousand(cur, prev, pl.col("kind")) & prev_ok,
                          slipped=slip(cur, prev, slip_size(pl.col("kind"), pl.col("n"),
                                                            pl.col("prev_n"))) & prev_ok)
            .filter(pl.col("outside").fill_null(False) | pl.col("mixed").fill_null(False)
                    | pl.col("slipped").fill_null(False)))
    found = [d for row in rows.iter_rows(named=True) if (d := _doubt(row, catalog)) is not None]
    order = {i.id: n for n, i in enumerate(catalog.indicators)}
    units = {u: n for n, u in enumerate(catalog.unit_ids())}
    return sorted(found, key=lambda d: (d.period, order.get(d.indicator, 0),
                                        units.get(d.unit, 0)))


def _doubt(row: dict[str, Any], catalog: Catalog) -> Doubt | None:
    ind = catalog.indicator(row["scope"])
    if ind is None:
        return None
    period, unit, kind = row["period"], row["unit"], row["kind"]
    label = ind.name_in(parse_period(period))
    shown = sv_value(row["cur"], kind)
    previous = "" if row["prev"] is None else sv_value(row["prev"], kind)
    params: dict[str, str] = {"label": label, "shown": shown}
    if row["mixed"] or row["slipped"]:
        times, direction = times_text(row["cur"], row["prev"])
        code = "tkr_mnkr" if row["mixed"] else "storleksordning"
        params |= {"direction": direction, "previous": previous,
                   "before": before_text(row["annual"])}
        if code == "storleksordning":
            params |= {"times": times, "previous_period": row["want"]}
        else:
            times = "1 000"
        short = f"ungefär {times} gånger {direction} än {before_text(row['annual'])}"
        detail = f"är {short} ({previous} i {row['want']})" + (
            "; tkr i stället för mnkr?" if code == "tkr_mnkr" else "")
    else:
        code, short = "orimligt", RANGE_SHORT
        params["span"] = f"{sv_value(row['lo'] + _EPS, kind)}–{sv_value(row['hi'] - _EPS, kind)}"
        detail = f"ligger {short} {params['span']}"
    names = ([f"ind_{ind.id}_taljare", f"ind_{ind.id}_namnare"] if ind.is_share
             else [f"ind_{ind.id}_varde"])
    keys = [cell_key(period, unit, n) for n in names]
    if code != "orimligt":
        keys += [cell_key(row["want"], unit, n) for n in names]
    message = finding(code, row["file"], **params).message
    return Doubt(ind.id, label, period, unit,
                 catalog.unit(unit).name if catalog.has_unit(unit) else unit, code, message, short,
                 detail, row["file"], row["sheet"], row["cell"], shown,
                 previous if code != "orimligt" else "", row["explanation"] or "", tuple(keys))


def without_figures(doubt: Doubt) -> Doubt:
    """The doubt as a masked output may say it: what rule, no value (as the masked validation log
    quotes none)."""
    verb = "ligger" if doubt.code == "orimligt" else "är"
    return replace(doubt, message=RULES[doubt.code].title + ".", value="", previous="",
                   detail=f"{verb} {doubt.short}",
                   explanation="(förklarad i kommentaren)" if doubt.explained else "")


def doubt_reason(doubts: Sequence[Doubt], lacking: str = "") -> str:
    """The status reason of an indicator with values to check: "Kontrollera värdet: …"."""
    text = "Kontrollera värdet: " + "; ".join(f"{d.unit_name}, {d.short}" for d in doubts)
    return text + (f". Ofullständigt underlag: {lacking}" if lacking else "")


def doubt_note(doubt: Doubt, unit: bool = True) -> str:
    """A master cell's comment on a value to check: the unit's own cell, or the board's sum."""
    what = doubt.value or "värdet"
    what = f"{doubt.unit_name}: {what}" if unit else what[:1].upper() + what[1:]
    return (f"Kontrollera värdet. {what} {doubt.detail}. Rätta i enhetens fil, eller låt enheten "
            "förklara värdet i kommentaren till indikatorn.")


def doubt_lines(doubts: Sequence[Doubt], where: bool = True) -> list[str]:
    """One line per value still to check (not explained): who, when, what and why, and for the
    controller where it was typed."""
    return [f"{d.unit_name} {d.period}, {d.indicator_name}: {d.value or 'värdet'} {d.detail}"
            + (f" ({d.file}, {d.sheet}!{d.cell})" if where else "")
            for d in doubts if not d.explained]


def doubt_summary(doubts: Sequence[Doubt]) -> list[str]:
    """The terminal's lines on the values to check: how many, how many explained, each one."""
    lines = doubt_lines(doubts)
    if not doubts:
        return []
    explained = len(doubts) - len(lines)
    return [f"Värden att kontrollera: {len(lines)} (markerade i sammanställningen)"
            + (f"; {explained} förklarade av enheterna i kommentaren" if explained else "") + ".",
            *(f"  {line}" for line in lines)]


def doubts_json(doubts: Sequence[Doubt]) -> list[dict[str, Any]]:
    """The report's "kontrollera": Swedish keys (schemas/rapport.schema.json)."""
    return [{**json_keys(d, DOUBT_KEYS), "forklarad": d.explained} for d in doubts]
