"""When a value is doubtful: the slip rules shared by the checks on a file (validate) and the marks
on the board (doubt), as polars expressions, so the two can never disagree."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from .catalog import Catalog
from .periods import Period, parse_period
from .svformat import sv_number

# A value that differs from the same unit's previous tertial by this factor or more, either way,
# is a likely entry slip: a decimal comma or a digit too many or too few gives about 10, tkr typed
# for mnkr about 1 000. Real changes of a unit's figure within four months stay well below it.
SLIP_FACTOR = 7.0
# Counts, days and a share's numerators move by such factors when they are small (2 -> 15): the
# larger of the two whole numbers must be at least this for a slip.
COUNT_FLOOR = 20.0
# Kinds whose values are whole numbers (after validate: an indicator's share row is "andel", and
# its size is the larger numerator).
WHOLE_KINDS = ("antal", "dygn", "andel")
# tkr typed for mnkr, or the reverse: the factor lies between these (or their inverses).
THOUSAND = (500.0, 2000.0)

# A month of a monthly series stands out when it is at least MONTH_FACTOR times the median of the
# series' other filled months; the median counts as at least MONTH_FLOOR, so only a month of 20
# or more can stand out (staff leaving, 4 to 10 a month, never does), and MONTH_OTHERS other
# months are needed to say what is usual.
MONTH_FACTOR = 5.0
MONTH_FLOOR = 4.0
MONTH_OTHERS = 3


def thousand(cur: pl.Expr, prev: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """An amount in mnkr about 1 000 times larger or smaller than before: tkr and mnkr mixed up."""
    factor = cur / prev
    low, high = THOUSAND
    return (kind == "mnkr") & (factor.is_between(low, high) | factor.is_between(1 / high, 1 / low))


def slip(cur: pl.Expr, prev: pl.Expr, size: pl.Expr) -> pl.Expr:
    """Both values above 0 and one SLIP_FACTOR times the other or more; `size` is the larger whole
    number behind them (null for amounts and years of work, which have no floor)."""
    factor = cur / prev
    return ((cur > 0) & (prev > 0) & ((factor >= SLIP_FACTOR) | (factor <= 1 / SLIP_FACTOR))
            & (size.is_null() | (size >= COUNT_FLOOR)))


def slip_size(kind: pl.Expr, now: pl.Expr, before: pl.Expr) -> pl.Expr:
    """The larger whole number of the two (values, or a share's numerators); null for amounts."""
    return pl.when(kind.is_in(WHOLE_KINDS)).then(pl.max_horizontal(now, before))


def times_text(cur: float, prev: float) -> tuple[str, str]:
    """"10", "1 000" or "23", and "större" or "mindre": how one value compares with another, said
    the way a slip is thought of (a power of ten when it is near one)."""
    factor = cur / prev if cur >= prev else prev / cur
    power = 10 ** round(math.log10(factor))
    shown = power if power / 1.5 <= factor <= power * 1.5 else round(factor)
    return sv_number(shown), "större" if cur > prev else "mindre"


def indicator_values(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """One value per file and indicator from long values: `keys`, kind, cur (the number itself, or
    numerator over denominator, kind "andel"), n (the number or the numerator) and d."""
    plain = (frame.filter(pl.col("field") == "varde")
             .select(*keys, "kind", cur=pl.col("value"), n=pl.col("value"),
                     d=pl.lit(None, pl.Float64)))
    num = frame.filter(pl.col("field") == "taljare").select(*keys, n=pl.col("value"))
    den = frame.filter(pl.col("field") == "namnare").select("file", "scope", d=pl.col("value"))
    ratio = num.join(den, on=["file", "scope"], how="left").select(
        *keys, kind=pl.lit("andel"), cur=pl.when(pl.col("d") > 0).then(pl.col("n") / pl.col("d")),
        n=pl.col("n"), d=pl.col("d"))
    return pl.concat([plain, ratio], how="vertical_relaxed")


def compared_with(period: Period, annual: bool) -> Period:
    """The period a value is compared with: the tertial before, or for an indicator followed up
    once a year (asked in T3 only) the same tertial a year before."""
    return Period(period.year - 1, period.tertial) if annual else period.previous


def compared_in(period: Period, annual: bool) -> Period:
    """The period whose values are compared with this one's (compared_with, the other way)."""
    return Period(period.year + 1, period.tertial) if annual else period.next


def before_text(annual: bool) -> str:
    return "samma tertial året innan" if annual else "föregående tertial"


def annual_ids(catalog: Catalog) -> list[str]:
    """The indicators reported yearly (in T3), compared with the year before, not the tertial."""
    return sorted(i.id for i in catalog.indicators if i.frequency == "årsbasis")


def wanted(catalog: Catalog) -> pl.Expr:
    """Per value (columns period, scope) the period it is compared with, as text."""
    annual = annual_ids(catalog)

    def compute(keys: pl.Series) -> pl.Series:
        # Worked out once per (period, yearly or not), not once per value: a region has 100 000.
        frame = keys.struct.unnest().select(
            "period", annual=pl.col("scope").is_in(annual).cast(pl.String))
        joined = pl.concat_str("period", "annual", separator="|")
        table = {f"{p}|{a}": str(compared_with(parse_period(p), a == "true"))
                 for p, a in frame.unique().iter_rows()}
        return frame.select(joined.replace_strict(table, return_dtype=pl.String)).to_series()

    return pl.struct("period", "scope").map_batches(compute, return_dtype=pl.String)


def carried(before: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Earlier indicator values (unit, scope, period, cur, n, d) as the unit that reports them when
    they are compared (compared_in) sees them: a unit merged into another passes its value on to
    it, and two units' values that one unit now reports are combined by the indicator's rule (sum,
    ratio of sums, mean). Returns unit, scope, period, prev and prev_n."""
    annual = annual_ids(catalog)
    keys = before.select("unit", "period", annual=pl.col("scope").is_in(annual).cast(pl.String))
    # Who reports for the unit when the value is compared: once per (unit, period, yearly or not).
    heirs = {f"{u}|{p}|{a}": catalog.reporter(u, compared_in(parse_period(p), a == "true")) or u
             for u, p, a in keys.unique().iter_rows()}
    heir = keys.select(pl.concat_str("unit", "period", "annual", separator="|")
                       .replace_strict(heirs, return_dtype=pl.String)).to_series()
    rule = {i.id: i.combine for i in catalog.indicators}
    grouped = (before.with_columns(unit=heir)
               .group_by("unit", "scope", "period")
               .agg(n=pl.col("n").sum(), d=pl.col("d").sum(), total=pl.col("cur").sum(),
                    mean=pl.col("cur").mean(), shares=pl.col("d").is_not_null().any(),
                    count=pl.col("cur").is_not_null().sum()))
    combine = pl.col("scope").replace_strict(rule, default="summa", return_dtype=pl.String)
    ratio = pl.when(pl.col("d") > 0).then(pl.col("n") / pl.col("d"))
    return grouped.filter(pl.col("count") > 0).select(
        "unit", "scope", "period", prev_n=pl.col("n"),
        prev=pl.when(pl.col("shares")).then(ratio)
        .when(combine == "medel").then(pl.col("mean")).otherwise(pl.col("total")))


def month_outliers(months: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Each month of `months` (one series per `keys`, the month in "field") with the median of the
    series' other filled months, how many there are, and whether the month stands out."""
    filled = months.filter(pl.col("value").is_not_null()).select(*keys, "field", "value")
    others = (filled.join(filled.select(*keys, other_field=pl.col("field"),
                                        other=pl.col("value")), on=keys)
              .filter(pl.col("field") != pl.col("other_field"))
              .group_by(*keys, "field").agg(median=pl.col("other").median(), others=pl.len()))
    joined = months.join(others, on=[*keys, "field"], how="left")
    usual = pl.max_horizontal(pl.col("median"), pl.lit(MONTH_FLOOR))
    return joined.with_columns(
        outlier=(pl.col("others") >= MONTH_OTHERS) & (pl.col("value") >= MONTH_FACTOR * usual))
