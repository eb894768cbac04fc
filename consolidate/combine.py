"""Combine accepted submissions across units and periods, and judge each indicator's status."""

from __future__ import annotations

import polars as pl

from .boardmodel import BoardCell, Column, Figure, Judgement, Status, Trend
from .catalog import Catalog, Indicator
from .periods import Period
from .svformat import lacking_phrase
from .svformat import names_text as names_text  # used by master.py

STATUS_TEXT = {
    Status.GREEN: "Målet är nått",
    Status.YELLOW: "Närmare målet än nuläget",
    Status.RED: "Oförändrat eller längre från målet",
    Status.GREY: "Ej rapporterad",
}
MASKED_TEXT = "Bedöms inte i den maskerade versionen: värdet är dolt (litet antal)"
STATUS_RULE = (
    "Status jämför periodens utfall med nuläget och börläget i indikatorns riktning. "
    "Grön: börläget är nått. "
    "Gul: utfallet har rört sig mot börläget sedan nuläget men är inte framme. "
    "Röd: oförändrat (inom indikatorns tolerans) eller längre från börläget än nuläget. "
    "Grå: inget värde denna period (ej rapporterad, eller indikatorn följs upp årsvis i T3), eller "
    "ofullständigt underlag: "
    "någon av enheterna som rapporterar indikatorn saknas eller är underkänd, så "
    "värdet gäller bara en del av nämnden. "
    "Ett sådant värde visas kursivt med en kommentar om vilka enheter "
    "som saknas, bedöms inte och tas inte med i diagrammen eller i trendpilen. "
    "Grå \"kontrollera värdet\": ett värde i underlaget ligger utanför indikatorns rimliga "
    "intervall eller är minst 7 gånger större eller mindre än enhetens föregående tertial (ett "
    "decimaltecken eller en siffra fel ger 10, tkr i stället för mnkr 1 000), och enheten har inte "
    "förklarat det i kommentaren. Värdet är markerat, bedöms inte och tas inte med i diagrammen "
    "eller i trendpilen. "
    "Saknar indikatorn ett börläge i siffror räcker en förändring i önskad riktning för grön. "
    "Trendpilen visar förändringen sedan föregående period med värde: ▲ ökning, ▼ minskning, "
    "► oförändrad; bättre/sämre avgörs av riktningen. Andelar räknas alltid från summerade "
    "täljare och nämnare, aldrig som medel av procenttal. "
    "När nämndens plan ändras bedöms varje period mot börläget och nuläget som gällde för dess år; "
    "ändringar av börläge, nuläge, namn och enheter står under indikatorns namn. \"Ej aktuell\": "
    "indikatorn ingick inte i planen den perioden. "
    "En avslutad indikator visas med sin historik, grå, "
    "med den sista perioden den följdes upp."
)


def unit_indicator_values(values: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Per period, unit and indicator: value, or numerator and denominator for shares."""
    ind = values.filter(pl.col("name").str.starts_with("ind_")
                        & pl.col("field").is_in(["varde", "taljare", "namnare"]))
    wide = ind.pivot(on="field", index=["period", "unit", "scope"], values="value",
                     aggregate_function="first")
    for column in ("varde", "taljare", "namnare"):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    return wide.select(
        "period", "unit", pl.col("scope").alias("indicator"),
        num=pl.coalesce("taljare", "varde"), den=pl.col("namnare"),
    ).with_columns(
        value=pl.when(pl.col("den").is_not_null()).then(
            pl.when(pl.col("den") > 0).then(pl.col("num") / pl.col("den"))).otherwise(pl.col("num"))
    ).sort("period", "indicator", "unit")


def board_values(unit_values: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Per period and indicator, by the catalog's rule: sum, ratio of sums, or mean."""
    rule = {i.id: i.combine for i in catalog.indicators}
    grouped = unit_values.group_by("period", "indicator").agg(
        num=pl.col("num").sum(), den=pl.col("den").sum(), mean=pl.col("value").mean(),
        units=pl.col("unit").filter(pl.col("num").is_not_null()).sort().str.join(", "),
        reported=pl.col("num").is_not_null().sum(),
    ).with_columns(combine=pl.col("indicator").replace_strict(rule, default="summa"))
    return grouped.with_columns(
        value=pl.when(pl.col("reported") == 0).then(None)
        .when(pl.col("combine") == "kvot")
        .then(pl.when(pl.col("den") > 0).then(pl.col("num") / pl.col("den")))
        .when(pl.col("combine") == "medel").then(pl.col("mean"))
        .otherwise(pl.col("num"))
    ).sort("indicator", "period")


def lacking_text(catalog: Catalog, cell: BoardCell) -> str:
    """Who a board figure lacks, by name: 'saknar A och B; underkänd: C' (a unit that handed in a
    rejected file is not missing)."""
    return lacking_phrase([catalog.unit(u).name for u in cell.missing],
                          [catalog.unit(u).name for u in cell.rejected])


def judge(ind: Indicator, current: Figure, history: list[tuple[Column, Figure | None]],
          period: Period, lacking: str = "", target: float | None = None) -> Judgement:
    """Status against the target, and the trend since the previous period with a value.

    `lacking` says which units that report the indicator have no accepted workbook this period
    (lacking_text); the caller leaves incomplete periods out of `history` (None) so the trend
    compares like with like. A masked figure is judged as no value: its status would give it
    back."""
    target = ind.target if target is None else target
    sign = 1.0 if ind.direction == "ökning" else -1.0
    previous = next(((c, f) for c, f in reversed(history)
                     if f is not None and f.shown is not None), None)
    value = current.shown
    if value is None:
        if current.mark is not None:
            text = MASKED_TEXT
        elif not ind.asked_in(period.tertial):
            text = "Följs upp årsvis (T3)"
        else:
            text = STATUS_TEXT[Status.GREY] + (f": {lacking}" if lacking else "")
        return Judgement(Status.GREY, text, Trend.NONE, "–",
                         None if previous is None else previous[1],
                         None if previous is None else previous[0])
    if lacking:
        # A sum over some of the units, or a ratio of part of the population, is not the board's
        # figure.
        return Judgement(Status.GREY, f"Ofullständigt underlag: {lacking}", Trend.NONE, "–")
    better = (value - ind.baseline) * sign
    # Without a numeric target, a move in the wanted direction beyond the tolerance counts as
    # reached.
    reached = (value - target) * sign >= -1e-12 if target is not None else better > ind.tolerance
    if reached:
        state = Status.GREEN
    elif target is not None and better > ind.tolerance:
        state = Status.YELLOW
    else:
        state = Status.RED
    text = (STATUS_TEXT[state] if target is not None or state != Status.GREEN
            else "Förändring i önskad riktning")
    if previous is None:
        return Judgement(state, text, Trend.NONE, "–")
    before = previous[1].shown
    assert before is not None
    change = value - before
    if abs(change) <= ind.tolerance + 1e-12:
        trend, arrow = Trend.SAME, "►"
    else:
        arrow = "▲" if change > 0 else "▼"
        trend = Trend.BETTER if change * sign > 0 else Trend.WORSE
    return Judgement(state, text, trend, arrow, previous[1], previous[0])


def table_totals(values: pl.DataFrame, period: str) -> pl.DataFrame:
    """Unit tables of one period summed over units, per table, row and field."""
    tab = values.filter((pl.col("period") == period) & pl.col("name").str.starts_with("tab_"))
    return (tab.group_by("scope", "item", "field", "unit").agg(value=pl.col("value").first())
            .sort("scope", "item", "field", "unit"))
