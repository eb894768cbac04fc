"""Rules on the values of all submissions at once: pandera schemas derived from the catalog."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pandera.polars as pa
import polars as pl

from .catalog import Catalog
from .errors import PeriodError
from .findings import finding
from .layout import build_layout
from .model import Finding
from .periods import MONTH_NAMES, MONTHS, parse_period
from .plausible import (
    MONTH_FACTOR,
    annual_ids,
    before_text,
    carried,
    indicator_values,
    month_outliers,
    slip,
    slip_size,
    thousand,
    times_text,
    wanted,
)
from .svformat import sv_number, sv_percent, sv_value

KEY = ["file", "unit", "period", "sheet", "cell", "scope"]
_EPS = 1e-9
_MONTH_INDEX = {m: i for i, m in enumerate(MONTHS, start=1)}
_BLANK = r"[\s\u200b\u200c\u200d\u2060\ufeff]"


def _blank_raw() -> pl.Expr:
    """Nothing typed: empty, blanks, invisible characters or a lone dash (which parse as empty)."""
    return pl.col("raw").str.replace_all(_BLANK, "").is_in(["", "-", "–", "—", "−"])


def _ok(expr: pl.Expr) -> Callable[[Any], pl.LazyFrame]:
    """A dataframe-level check: a boolean column, true where the rule holds."""
    return lambda data: data.lazyframe.select(expr.fill_null(True).alias("ok"))


def _schema(name: str, rules: dict[str, pl.Expr]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(name=name,
                              checks=[pa.Check(_ok(e), name=code) for code, e in rules.items()])


def _decimals_tolerance(share: pl.Expr) -> pl.Expr:
    """Half a unit of the rounding a typed share shows (24 % -> 0,5 %-enheter; 24,3 % -> 0,05)."""
    pct = share * 100
    expr = pl.lit(0.5e-6)
    for digits in (4, 3, 2, 1, 0):
        scaled = pct * 10**digits
        expr = (pl.when((scaled - scaled.round(0)).abs() < 1e-6)
                .then(pl.lit(0.5 * 10**-digits / 100)).otherwise(expr))
    return expr


@lru_cache(maxsize=8)
def _catalog_maps(catalog: Catalog) -> tuple[dict[str, str], dict[str, float], dict[str, float],
                                             set[str]]:
    table_kind = {t.id: t.kind for t in catalog.tables}
    low = {i.id: i.plausible[0] for i in catalog.indicators}
    high = {i.id: i.plausible[1] for i in catalog.indicators}
    complete = {t.id for t in catalog.tables if t.kind == "varav" and t.complete}
    return table_kind, low, high, complete


@lru_cache(maxsize=64)
def _labels(catalog: Catalog, period_text: str) -> dict[str, str]:
    """What each input cell is called in the templates of a period (names change with the plan)."""
    period = parse_period(period_text)
    labels: dict[str, str] = {}
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for unit in catalog.unit_ids():
        signature = catalog.signature(unit, period)
        if signature in seen:  # units reporting the same things have the same labels
            continue
        seen.add(signature)
        for cell in build_layout(catalog, unit, period).cells:
            labels.setdefault(cell.name, cell.label.split(", ")[0] if cell.field in _MONTH_INDEX
                              else cell.label)
    return labels


def _labels_of(catalog: Catalog, periods: list[str]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for text in periods:
        try:
            out.update(((text, name), label) for name, label in _labels(catalog, text).items())
        except PeriodError:
            continue
    return out


def validate(values: pl.DataFrame, catalog: Catalog,
             previous: pl.DataFrame | None = None) -> list[Finding]:
    """Every rule on every submission in one pass; returns findings (fel and varning). With
    `previous` (the values each unit's previous tertial is taken from) also the jumps."""
    if values.height == 0:
        return []
    cells = _cells(values, catalog)
    frames = _rules(cells, catalog)
    if previous is not None and previous.height:
        frames += _jump_frames(cells, previous, catalog)
    return _run(frames, values, catalog)


def jump_findings(values: pl.DataFrame, catalog: Catalog,
                  previous: pl.DataFrame) -> list[Finding]:
    """The jumps of each file's indicators against the same unit's value in `previous` (the files a
    run uses) for the tertial before."""
    if values.height == 0 or previous.height == 0:
        return []
    return _run(_jump_frames(_cells(values, catalog), previous, catalog), values, catalog)


def _cells(values: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    table_kind, low, high, _ = _catalog_maps(catalog)
    return values.with_columns(
        tkind=pl.col("scope").replace_strict(table_kind, default="indikator",
                                             return_dtype=pl.String),
        month=pl.col("field").replace_strict(_MONTH_INDEX, default=0, return_dtype=pl.Int32),
        last_month=pl.col("period").str.slice(-1).cast(pl.Int32) * 4,
        lo=pl.when(pl.col("field") == "varde").then(
            pl.col("scope").replace_strict(low, default=None, return_dtype=pl.Float64)),
        hi=pl.when(pl.col("field") == "varde").then(
            pl.col("scope").replace_strict(high, default=None, return_dtype=pl.Float64)),
    )


def _run(frames: list[tuple[pl.DataFrame, pa.DataFrameSchema]], values: pl.DataFrame,
         catalog: Catalog) -> list[Finding]:
    labels = _labels_of(catalog, sorted(values["period"].drop_nulls().unique().to_list()))
    found: list[Finding] = []
    for frame, schema in frames:
        if frame.height:
            found += _failures_to_findings(frame, schema, labels)
    return found


def _rules(cells: pl.DataFrame, catalog: Catalog) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    _, low, high, complete = _catalog_maps(catalog)
    v = pl.col("value")
    # A lone dash or invisible characters parse as "nothing": in a required cell that is a missing
    # value.
    empty = v.is_null() & _blank_raw()
    share = pl.col("kind").is_in(["andel", "procent"])
    frames: list[tuple[pl.DataFrame, pa.DataFrameSchema]] = [(cells, _schema("celler", {
        "saknas": ~(pl.col("required") & empty & (pl.col("tkind") != "manad")),
        "manad_saknas": ~(pl.col("required") & empty & (pl.col("tkind") == "manad")),
        "negativ": share | v.is_null() | (v >= 0),
        "heltal": ~pl.col("kind").is_in(["antal", "dygn"]) | v.is_null() | (v == v.round(0)),
        "andel_intervall": ~share | v.is_null() | v.is_between(0, 1),
        # A negative value is already an error; do not also call it implausible.
        "orimligt": pl.col("lo").is_null() | v.is_null() | (v < 0)
        | v.is_between(pl.col("lo") - _EPS, pl.col("hi") + _EPS),
        "framtida_manad": (pl.col("tkind") != "manad") | (pl.col("month") <= pl.col("last_month"))
        | v.is_null(),
    }))]
    frames += _distribution_frames(cells)
    frames += _varav_frames(cells, complete)
    frames += _ratio_frames(cells, low, high)
    frames += _survey_frames(cells)
    frames += _month_frames(cells)
    return frames


def _month_frames(cells: pl.DataFrame) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    """A month far above the rest of its series (plausible.month_outliers)."""
    months = cells.filter((pl.col("tkind") == "manad") & (pl.col("month") > 0))
    if months.height == 0:
        return []
    stats = month_outliers(months, ["file", "scope", "item"])
    return [(stats, _schema("manader", {"manad_avvikande": ~pl.col("outlier")}))]


def _distribution_frames(cells: pl.DataFrame) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    dist = cells.filter(pl.col("tkind") == "fordelning")
    counts = dist.filter(pl.col("field") == "antal")
    parts = (counts.filter(pl.col("item") != "summa").group_by("file", "scope")
             .agg(parts=pl.col("value").sum(), gaps=pl.col("value").is_null().sum()))
    totals = counts.filter(pl.col("item") == "summa").select(*KEY, "name", total=pl.col("value"))
    sums = totals.join(parts, on=["file", "scope"], how="inner").sort("file", "scope")
    summa = (pl.col("total").is_null() | (pl.col("gaps") > 0)
             | ((pl.col("parts") - pl.col("total")).abs() < _EPS))
    shares = (dist.filter(pl.col("field") == "andel")
              .join(counts.select("file", "scope", "item", count=pl.col("value")),
                    on=["file", "scope", "item"], how="left")
              .join(totals.select("file", "scope", total=pl.col("total")), on=["file", "scope"],
                    how="left")
              .with_columns(expected=pl.when(pl.col("item") == "summa").then(pl.lit(1.0))
                            .otherwise(pl.col("count") / pl.col("total")),
                            tol=_decimals_tolerance(pl.col("value"))))
    close = (pl.col("value") - pl.col("expected")).abs() <= pl.col("tol") + _EPS
    is_summa = pl.col("item") == "summa"
    usable = (pl.col("value").is_not_null() & pl.col("expected").is_not_null()
              & (pl.col("total") > 0))
    return [
        (sums, _schema("summor", {"summa": summa})),
        (shares, _schema("andelar", {
            "andel_antal": is_summa | ~usable | close,
            "andel_summa": ~is_summa | pl.col("value").is_null() | close,
        })),
    ]


def _varav_frames(cells: pl.DataFrame,
                  complete: set[str]) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    varav = cells.filter(pl.col("tkind") == "varav")
    totals = varav.filter(pl.col("item") == "total").select(*KEY, "name", total=pl.col("value"))
    parts = varav.filter(pl.col("item") != "total").join(
        totals.select("file", "scope", total=pl.col("total")), on=["file", "scope"], how="left")
    sums = (parts.filter(pl.col("scope").is_in(sorted(complete))).group_by("file", "scope")
            .agg(parts=pl.col("value").sum(), gaps=pl.col("value").is_null().sum()))
    whole = totals.join(sums, on=["file", "scope"], how="inner").sort("file", "scope")
    return [
        (parts, _schema("varav", {"varav_storre": pl.col("value").is_null()
                                  | pl.col("total").is_null()
                                  | (pl.col("value") <= pl.col("total") + _EPS)})),
        (whole, _schema("varav_summa", {"varav_summa": pl.col("total").is_null()
                                        | (pl.col("gaps") > 0)
                                        | ((pl.col("parts") - pl.col("total")).abs() < _EPS)})),
    ]


def _ratio_frames(cells: pl.DataFrame, low: dict[str, float],
                  high: dict[str, float]) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    num = cells.filter(pl.col("field") == "taljare").select(*KEY, "name", num=pl.col("value"))
    den = cells.filter(pl.col("field") == "namnare").select(*KEY, "name", den=pl.col("value"))
    ratios = num.join(den.select("file", "scope", "den"), on=["file", "scope"],
                      how="left").with_columns(
        ratio=pl.when(pl.col("den") > 0).then(pl.col("num") / pl.col("den")),
        kind=pl.lit("andel"),
        lo=pl.col("scope").replace_strict(low, default=None, return_dtype=pl.Float64),
        hi=pl.col("scope").replace_strict(high, default=None, return_dtype=pl.Float64),
    )
    dens = den.join(num.select("file", "scope", "num"), on=["file", "scope"], how="left")
    r = pl.col("ratio")
    return [
        (ratios, _schema("kvoter", {
            "taljare_storre": pl.col("num").is_null() | pl.col("den").is_null()
            | (pl.col("den") < 0) | (pl.col("num") <= pl.col("den")),
            # A numerator above the denominator or below 0 is already an error.
            "orimligt": r.is_null() | (pl.col("num") > pl.col("den")) | (pl.col("num") < 0)
            | r.is_between(pl.col("lo") - _EPS, pl.col("hi") + _EPS),
        })),
        (dens, _schema("namnare", {"namnare_noll": pl.col("den").is_null()
                                   | (pl.col("den") != 0)})),
    ]


def _survey_frames(cells: pl.DataFrame) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    survey = cells.filter(pl.col("tkind") == "enkat")
    answers = (survey.filter(pl.col("item") == "svar")
               .select("file", "scope", answers=pl.col("value")))
    shares = survey.filter(pl.col("item") != "svar").join(answers, on=["file", "scope"], how="left")
    n = pl.col("answers")
    return [(shares, _schema("enkat", {
        "enkat_utan_svar": n.is_null() | (n > 0) | pl.col("value").is_null(),
        "enkat_andel_saknas": n.is_null() | (n == 0) | pl.col("value").is_not_null()
        | ~_blank_raw(),
    }))]


def _jump_frames(cells: pl.DataFrame, previous: pl.DataFrame,
                 catalog: Catalog) -> list[tuple[pl.DataFrame, pa.DataFrameSchema]]:
    _, low, high, _ = _catalog_maps(catalog)
    now = indicator_values(cells.filter(pl.col("tkind") == "indikator"), [*KEY, "name"])
    # One previous value per unit and indicator, even when given two files for that tertial; a
    # merged unit's goes to the unit that reports for it now.
    before = carried(indicator_values(previous, KEY).sort("file")
                     .unique(subset=["unit", "scope", "period"], keep="first", maintain_order=True),
                     catalog).rename({"period": "prev_period"})
    joined = now.with_columns(
        want=wanted(catalog), annual=pl.col("scope").is_in(annual_ids(catalog))
    ).join(before, left_on=["unit", "scope", "want"], right_on=["unit", "scope", "prev_period"],
           how="inner")
    cur, prev = pl.col("cur"), pl.col("prev")
    mixed = thousand(cur, prev, pl.col("kind"))
    # A slip of a power of ten, against a previous value that was itself plausible (after one
    # that was not, going back to normal is no slip).
    lo = pl.col("scope").replace_strict(low, default=None, return_dtype=pl.Float64)
    hi = pl.col("scope").replace_strict(high, default=None, return_dtype=pl.Float64)
    prev_ok = prev.is_between(lo - _EPS, hi + _EPS)
    slipped = slip(cur, prev, slip_size(pl.col("kind"), pl.col("n"), pl.col("prev_n"))) & prev_ok
    limit = catalog.settings.jump_warning
    usable = cur.is_not_null() & prev.is_not_null() & (prev != 0)
    return [(joined, _schema("hopp", {
        "tkr_mnkr": ~usable | ~mixed,
        "storleksordning": ~usable | mixed | ~slipped,
        "hopp": ~usable | mixed | slipped | ((cur / prev - 1).abs() <= limit),
    }))]


def _failures_to_findings(frame: pl.DataFrame, schema: pa.DataFrameSchema,
                          labels: dict[tuple[str, str], str]) -> list[Finding]:
    """The one place where pandera's failure cases become findings."""
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    rows = frame.with_row_index("__row")
    picked = cases.select(pl.col("check").cast(pl.String), pl.col("index").cast(pl.UInt32)).join(
        rows, left_on="index", right_on="__row", how="inner").sort("file", "index", "check")
    found = []
    for row in picked.iter_rows(named=True):
        code = row["check"]
        label = labels.get((row["period"], row.get("name") or ""), row.get("scope", ""))
        params, value, expected = _PARAMS[code](row, label)
        found.append(finding(code, row["file"], unit=row["unit"], period=row["period"],
                             sheet=row["sheet"], cell=row["cell"], scope=row["scope"], value=value,
                             expected=expected, **params))
    return found


def _shown(row: dict[str, Any]) -> str:
    value, kind = row.get("value"), row.get("kind", "")
    return sv_value(value, kind) if value is not None else (row.get("raw") or "")


def _typed_blank(row: dict[str, Any]) -> str:
    typed = (row.get("raw") or "").strip()
    return f'"{typed}" räknas som tomt; ' if typed else ""


def _implausible(row: dict[str, Any], label: str) -> tuple[dict[str, str], str, str]:
    kind = row.get("kind", "")
    value = row["ratio"] if "ratio" in row else row.get("value")
    span = f"{sv_value(row['lo'], kind)}–{sv_value(row['hi'], kind)}"
    shown = sv_value(value, kind)
    return {"label": label.split(": täljare")[0], "shown": shown, "span": span}, shown, span


def _slip(row: dict[str, Any], label: str) -> tuple[dict[str, str], str, str]:
    times, direction = times_text(row["cur"], row["prev"])
    shown, previous = sv_value(row["cur"], row["kind"]), sv_value(row["prev"], row["kind"])
    return ({"label": label.split(":")[0], "shown": shown, "times": times, "direction": direction,
             "previous": previous, "previous_period": row["want"],
             "before": before_text(row["annual"])}, shown, f"nära {previous}")


def _months(row: dict[str, Any]) -> str:
    last = row["last_month"]
    return "januari" if last == 1 else f"januari–{MONTH_NAMES[last - 1]}"


# Per rule: the template's values, the finding's value and what was expected, from a failing row.
Params = Callable[[dict[str, Any], str], tuple[dict[str, str], str, str]]
_PARAMS: dict[str, Params] = {
    "saknas": lambda r, lab: ({"label": lab, "typed_blank": _typed_blank(r)},
                              (r.get("raw") or "").strip(), "ett värde"),
    "manad_saknas": lambda r, lab: ({"label": lab, "month": r["field"], "months": _months(r),
                                     "period_text": r["period"]}, "", "ett värde"),
    "negativ": lambda r, lab: ({"label": lab, "shown": _shown(r)}, _shown(r), "≥ 0"),
    "heltal": lambda r, lab: ({"label": lab, "shown": _shown(r)}, _shown(r), "heltal"),
    "andel_intervall": lambda r, lab: ({"label": lab, "shown": _shown(r)}, _shown(r), "0–100 %"),
    "orimligt": _implausible,
    "framtida_manad": lambda r, lab: ({"label": lab, "month": r["field"],
                                       "period_text": r["period"]}, _shown(r), "tom"),
    "summa": lambda r, lab: ({"parts": sv_number(r["parts"]), "total": sv_number(r["total"])},
                             sv_number(r["total"]), sv_number(r["parts"])),
    "andel_antal": lambda r, lab: ({"label": lab, "shown": sv_percent(r["value"]),
                                    "count": sv_number(r["count"]), "total": sv_number(r["total"]),
                                    "expected_share": sv_percent(r["expected"], 1)},
                                   sv_percent(r["value"]), sv_percent(r["expected"], 1)),
    "andel_summa": lambda r, lab: ({"shown": sv_percent(r["value"])}, sv_percent(r["value"]),
                                   "100 %"),
    "varav_storre": lambda r, lab: ({"label": lab, "shown": sv_number(r["value"]),
                                     "total": sv_number(r["total"])},
                                    sv_number(r["value"]), f"≤ {sv_number(r['total'])}"),
    "varav_summa": lambda r, lab: ({"parts": sv_number(r["parts"]), "total": sv_number(r["total"])},
                                   sv_number(r["total"]), sv_number(r["parts"])),
    "taljare_storre": lambda r, lab: ({"label": lab.split(":")[0], "num": sv_number(r["num"]),
                                       "den": sv_number(r["den"])}, sv_number(r["num"]),
                                      f"≤ {sv_number(r['den'])}"),
    "namnare_noll": lambda r, lab: ({"label": lab}, "0", "> 0"),
    "enkat_utan_svar": lambda r, lab: ({"label": lab, "shown": sv_percent(r["value"])},
                                       sv_percent(r["value"]), "tom när inga enkäter kommit in"),
    "enkat_andel_saknas": lambda r, lab: ({"label": lab, "answers": sv_number(r["answers"])}, "",
                                          "en andel"),
    "hopp": lambda r, lab: ({"label": lab.split(":")[0], "shown": sv_value(r["cur"], r["kind"]),
                             "previous": sv_value(r["prev"], r["kind"]),
                             "previous_period": r["want"], "before": before_text(r["annual"])},
                            sv_value(r["cur"], r["kind"]),
                            f"nära {sv_value(r['prev'], r['kind'])}"),
    "storleksordning": lambda r, lab: _slip(r, lab),
    "manad_avvikande": lambda r, lab: ({"label": lab, "shown": sv_number(r["value"]),
                                        "month": MONTH_NAMES[_MONTH_INDEX[r["field"]] - 1],
                                        "median": sv_number(r["median"]),
                                        "factor": sv_number(MONTH_FACTOR)},
                                       sv_number(r["value"]), f"nära {sv_number(r['median'])}"),
    "tkr_mnkr": lambda r, lab: ({"label": lab, "shown": sv_value(r["cur"], r["kind"]),
                                 "direction": "större" if r["cur"] > r["prev"] else "mindre",
                                 "previous": sv_value(r["prev"], r["kind"]),
                                 "before": before_text(r["annual"])},
                                sv_value(r["cur"], r["kind"]),
                                f"nära {sv_value(r['prev'], r['kind'])}"),
}
