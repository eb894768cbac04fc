"""The board model: every figure of the period and its history, computed once from the accepted
values."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import polars as pl

from .boardmodel import (
    Board,
    BoardCell,
    Column,
    Doubt,
    Figure,
    IndicatorRow,
    Judgement,
    Key,
    Mark,
    RunResult,
    Status,
    TableLine,
    TableView,
    Trend,
    UnitPart,
    cell_key,
)
from .catalog import Catalog, Indicator, Table, Unit
from .combine import board_values, judge, lacking_text, table_totals, unit_indicator_values
from .doubt import doubt_reason, find_doubts, without_figures
from .periods import MONTH_NAMES, MONTHS, Period
from .svformat import sv_value

_COUNT_INDICATORS = ("antal", "dygn")
# Free text can hold a small count ("2 placeringar avslutade"): a masked output leaves out texts
# with digits.
WITHHELD = "(texten innehåller siffror och visas inte i den maskerade versionen)"
DATA_SORT = ("period", "unit", "file", "sheet", "name")


def _year(column: Column) -> int:
    return column.period.year if column.period is not None else int(column.key.split(":", 1)[1])


def _notes(catalog: Catalog, ind: Indicator, cells: tuple[BoardCell, ...],
           period: Period) -> tuple[str, ...]:
    """What changed in the plan over the columns shown: start, börläge, nuläge, name, merged
    units."""
    shown = [c.column for c in cells if c.in_plan]
    periods = [c.period for c in shown if c.period is not None]
    years = sorted({_year(c) for c in shown})
    notes = []
    start = ind.span.start
    if start is not None and any(not c.in_plan
                                 and (c.column.period or Period(_year(c.column), 3)) < start
                                 for c in cells):
        notes.append(f"Ny från {start}.")

    def number(value: float | None) -> str:
        return (sv_value(value, ind.kind, ind.decimals) if value is not None
                else ind.target_text or "–")

    for before, after in itertools.pairwise(years):
        old, new = ind.target_in(before)[1], ind.target_in(after)[1]
        if old != new:
            notes.append(f"Börläge ändrat {after}: {number(old)} → {number(new)}.")
        (old_base, _), (new_base, date) = ind.baseline_in(before), ind.baseline_in(after)
        if old_base != new_base:
            notes.append(f"Nuläge ändrat {after}: {number(old_base)} → {number(new_base)} "
                         f"(per {date.isoformat()}).")
    current = ind.name_in(period)
    for last, name in ind.former_names:
        if name != current and any(p <= last for p in periods):
            notes.append(f"Hette till och med {last}: {name}.")
    for unit_id in ind.units:
        unit = catalog.unit(unit_id)
        end = unit.span.end
        if (unit.successor and end is not None and any(p <= end for p in periods)
                and any(p > end for p in periods)):
            notes.append(f"{unit.name} ingår i {catalog.unit(unit.successor).name} "
                         f"från {end.next}.")
    return tuple(notes)


def build_board(result: RunResult, catalog: Catalog,
                marks: Mapping[Key, Mark] | None = None) -> Board:
    """The board model of a run; `marks` (from masking) hide figures and what they would give
    away."""
    return _Builder(result, catalog, marks).board()


class _Builder:
    def __init__(self, result: RunResult, catalog: Catalog,
                 marks: Mapping[Key, Mark] | None) -> None:
        self.r, self.c = result, catalog
        self.masked = marks is not None
        self.marks: Mapping[Key, Mark] = marks or {}
        self.period = result.period
        self.period_text = str(result.period)  # keys are built tens of thousands of times
        values = result.values
        self.unit_vals = unit_indicator_values(values, catalog) if values.height else pl.DataFrame(
            schema={"period": pl.String, "unit": pl.String, "indicator": pl.String,
                    "num": pl.Float64, "den": pl.Float64, "value": pl.Float64})
        board = board_values(self.unit_vals, catalog) if self.unit_vals.height else None
        self.board_vals: dict[tuple[str, str], float | None] = {} if board is None else dict(
            zip(zip(board["indicator"], board["period"], strict=True), board["value"], strict=True))
        self.parts: dict[tuple[str, str],
                         list[tuple[str, float | None, float | None, float | None]]] = {}
        for period, unit, ind, num, den, value in self.unit_vals.filter(
                pl.col("num").is_not_null()).iter_rows():
            self.parts.setdefault((ind, period), []).append((unit, num, den, value))
        accepted = {(s.unit, s.period) for s in result.accepted}
        self.rejected = {(s.unit, s.period) for s in result.checked.submissions
                         if s.unit and s.period and s.readable} - accepted
        self.columns = self._columns()
        # A masked board leaves out what speaks of a hidden figure (its mark would narrow it), and
        # quotes no figure in the rest.
        self.doubts = tuple(without_figures(d) if self.masked else d
                            for d in find_doubts(result.values, catalog)
                            if not any(k in self.marks for k in d.keys))
        self.open: dict[tuple[str, str], tuple[Doubt, ...]] = {}
        for d in self.doubts:
            if not d.explained:
                key = (d.indicator, d.period)
                self.open[key] = (*self.open.get(key, ()), d)

    def figure(self, key: Key, value: float | None, count: bool = False) -> Figure:
        if not self.marks:
            return Figure(key, value, count)
        return Figure(key, value, count, self.marks.get(key))

    def board(self) -> Board:
        """Indicators of the period's plan, and retired ones while their history is in the columns;
        one not yet started is left out. Tables of the period's plan."""
        rows = tuple(self._row(ind) for ind in self.c.indicators
                     if ind.span.started_by(self.period)
                     and any(self._in_span(ind, c) for c in self.columns))
        tables = tuple(self._table(t) for t in self.c.tables if self.period in t.span)
        return Board(
            catalog=self.c, period=self.period, periods=tuple(self.r.periods), columns=self.columns,
            rows=rows, tables=tables, register=tuple(self.r.register), report=self.r.report,
            data=self._data(), masked=self.masked, units=self.c.units_in(self.period),
            source=self.r, doubts=self.doubts,
        )

    # ---- indicators ---------------------------------------------------------------------------
    def _columns(self) -> tuple[Column, ...]:
        """Outcome years from the catalog that no period covers, then the periods in the folder."""
        years = {p.year for p in self.r.periods}
        extra = sorted({y for ind in self.c.indicators if ind.span.started_by(self.period)
                        for y, _ in ind.outcomes if int(y) not in years})
        return (tuple(Column(f"rapport:{y}", f"Utfall {y} (rapport)") for y in extra)
                + tuple(Column(str(p), p.heading, p) for p in self.r.periods))

    @staticmethod
    def _in_span(ind: Indicator, column: Column) -> bool:
        if column.period is None:
            return ind.span.overlaps_year(_year(column))
        return column.period in ind.span

    def _cell(self, ind: Indicator, column: Column) -> BoardCell:
        if not self._in_span(ind, column):  # the indicator was not in the plan then: "ej aktuell"
            return BoardCell(column, Figure(("board", ind.id, column.key), None), asked=False,
                             in_plan=False)
        if column.period is None:  # an outcome the board's own report gave: not unit data
            year = column.key.split(":", 1)[1]
            return BoardCell(column, Figure(("report", ind.id, year), dict(ind.outcomes).get(year)),
                             asked=False, target=ind.target_in(int(year))[1])
        period = column.key
        count = ind.kind in _COUNT_INDICATORS
        parts = []
        for unit, num, den, value in self.parts.get((ind.id, period), ()):
            if ind.is_share:
                parts.append(UnitPart(
                    unit, self.figure(("unitshare", period, unit, ind.id), value),
                    self.figure(cell_key(period, unit, f"ind_{ind.id}_taljare"), num, True),
                    self.figure(cell_key(period, unit, f"ind_{ind.id}_namnare"), den, True)))
            else:
                parts.append(UnitPart(
                    unit, self.figure(cell_key(period, unit, f"ind_{ind.id}_varde"), value, count)))
        asked = ind.asked_in(column.period.tertial)
        have = {p.unit for p in parts}
        # Expected from the units of the plan then: a merged unit's successor, never the merged
        # unit.
        reporting = self.c.reporters(ind, column.period)
        lacking = [u for u in reporting if u not in have] if asked else []
        board_value = self.figure(("board", ind.id, period), self.board_vals.get((ind.id, period)),
                                  count)
        return BoardCell(column, board_value, tuple(parts), lacking=tuple(lacking),
                         rejected=tuple(u for u in lacking if (u, period) in self.rejected),
                         asked=asked, target=ind.target_in(column.period.year)[1],
                         reporting=reporting, doubts=self.open.get((ind.id, period), ()))

    def _row(self, ind: Indicator) -> IndicatorRow:
        cells = tuple(self._cell(ind, column) for column in self.columns)
        current = cells[-1]
        now = ind.as_of(self.period)
        history = [(c.column, c.complete_value) for c in cells[:-1]]
        if current.in_plan:
            lacking = lacking_text(self.c, current)
            judgement = judge(now, current.value, history, self.period, lacking, target=now.target)
            if current.doubts and current.value.mark is None:  # a likely slip is not judged
                judgement = Judgement(Status.GREY, doubt_reason(current.doubts, lacking),
                                      Trend.NONE, "–")
        else:  # retired: its history stays, it is not judged any more
            judgement = Judgement(Status.GREY, f"Avslutad {ind.span.end}", Trend.NONE, "–")
        return IndicatorRow(now, cells, judgement, self._comments(ind.id),
                            _notes(self.c, ind, cells, self.period))

    def _names(self, units: tuple[str, ...]) -> list[str]:
        return [self.c.unit(u).name for u in units]

    def _comments(self, indicator: str) -> tuple[tuple[str, str], ...]:
        if not hasattr(self, "_comment_map"):
            self._comment_map: dict[str, list[tuple[str, str]]] = {}
            vals = self.r.values
            if vals.height:
                rows = vals.filter((pl.col("period") == str(self.period))
                                   & (pl.col("field") == "kommentar")
                                   & pl.col("text").is_not_null() & (pl.col("text") != ""))
                for scope, unit, text in zip(rows["scope"], rows["unit"], rows["text"],
                                             strict=True):
                    if self.masked and any(ch.isdigit() for ch in text):
                        text = WITHHELD
                    self._comment_map.setdefault(scope, []).append((unit, text))
        return tuple(self._comment_map.get(indicator, ()))

    # ---- unit tables --------------------------------------------------------------------------
    def _table_values(self) -> dict[str, dict[tuple[str, str, str], float | None]]:
        if not hasattr(self, "_tables"):
            self._tables: dict[str, dict[tuple[str, str, str], float | None]] = {}
            totals = table_totals(self.r.values, self.period_text) if self.r.values.height else None
            if totals is not None:
                for (scope,), part in totals.partition_by("scope", as_dict=True).items():
                    self._tables[str(scope)] = dict(zip(
                        zip(part["item"], part["field"], part["unit"], strict=True),
                        part["value"], strict=True))
        return self._tables

    def _table(self, table: Table) -> TableView:
        data = self._table_values().get(table.id, {})
        reporting = set(self.c.reporters(table, self.period))
        units = [u for u in self.c.units if u.id in reporting]
        if table.kind == "manad":
            return self._monthly(table, units, data)
        if table.kind == "enkat":
            return self._survey(table, units, data)
        return self._counts(table, units, data)

    def _tkey(self, table: Table, *rest: str) -> Key:
        return ("table", self.period_text, table.id, *rest)

    def _unit_cells(self, table: Table, cells: Iterable[tuple[str, str, str]],
                    data: Mapping[tuple[str, str, str], float | None],
                    count: bool = True) -> list[Figure]:
        """The figures of (unit, item, field) cells in one loop: a region's tables hold a hundred
        thousand."""
        period, marks, out = self.period_text, self.marks, []
        for unit, item, field in cells:
            key = cell_key(period, unit, f"tab_{table.id}_{item}_{field}")
            out.append(Figure(key, data.get((item, field, unit)), count,
                              marks.get(key) if marks else None))
        return out

    def _counts(self, table: Table, units: list[Unit],
                data: Mapping[tuple[str, str, str], float | None]) -> TableView:
        if table.kind == "fordelning":
            items = [(r.id, r.label) for r in table.rows] + [("summa", "SUMMA")]
            order = list(range(len(items)))
        else:  # varav: the total first, as the templates list it
            items = ([(r.id, f"   varav {r.label.lower()}") for r in table.rows]
                     + [("total", table.total_label or "Totalt")])
            order = [len(items) - 1] + list(range(len(items) - 1))
        with_share = table.kind == "fordelning"
        heads = (["Kategori" if with_share else ""] + [u.name for u in units] + ["Totalt"]
                 + (["Andel"] if with_share else []))
        totals: dict[str, Figure] = {}
        lines: dict[int, TableLine] = {}
        for index, (item, label) in enumerate(items):
            cells = self._unit_cells(table, ((u.id, item, "antal") for u in units), data)
            known = [c.value for c in cells if c.value is not None]
            totals[item] = self.figure(self._tkey(table, item, "antal"),
                                       sum(known) if known else None, True)
            lines[index] = TableLine(label, (*cells, totals[item]),
                                     total=item in ("summa", "total"))
        if with_share:
            grand = totals["summa"].value
            for index, (item, _) in enumerate(items):
                value = totals[item].value
                share = self.figure(self._tkey(table, item, "andel"),
                                    value / grand if value is not None and grand else None)
                line = lines[index]
                lines[index] = TableLine(line.label, (*line.cells, share), line.total)
        shares = frozenset({len(units) + 1}) if with_share else frozenset()
        return TableView(table, tuple(heads), tuple(lines[i] for i in order), shares)

    def _monthly(self, table: Table, units: list[Unit],
                 data: Mapping[tuple[str, str, str], float | None]) -> TableView:
        trow = table.rows[0]  # one series per monthly table in the catalog today
        heads = [trow.label] + [m.capitalize() for m in MONTHS] + ["Summa"]
        lines = []
        columns: list[list[float]] = [[] for _ in range(len(MONTHS) + 1)]
        for unit in units:
            cells = self._unit_cells(table, ((unit.id, trow.id, m) for m in MONTHS), data)
            known = [c.value for c in cells if c.value is not None]
            year = self.figure(self._tkey(table, trow.id, "summa", unit.id),
                               sum(known) if known else None, True)
            for col, fig in enumerate((*cells, year)):
                if fig.value is not None:
                    columns[col].append(fig.value)
            lines.append(TableLine(unit.name, (*cells, year)))
        fields = [*MONTHS, "summa"]
        total = tuple(self.figure(self._tkey(table, trow.id, f), sum(col) if col else None, True)
                      for f, col in zip(fields, columns, strict=True))
        lines.append(TableLine("Totalt", total, total=True))
        return TableView(table, tuple(heads), tuple(lines))

    def _survey(self, table: Table, units: list[Unit],
                data: Mapping[tuple[str, str, str], float | None]) -> TableView:
        heads = ["Fråga"] + [u.name for u in units] + ["Samtliga (vägt med antal svar)"]
        answers = self._unit_cells(table, ((u.id, "svar", "antal") for u in units), data)
        lines = []
        for trow in table.rows:
            shares = self._unit_cells(table, ((u.id, trow.id, "andel") for u in units), data,
                                      count=False)
            weighted = total = 0.0
            for share, n in zip(shares, answers, strict=True):
                if share.value is not None and n.value:
                    weighted += share.value * n.value
                    total += n.value
            lines.append(TableLine(trow.label, (*shares, self.figure(
                self._tkey(table, trow.id, "andel"), weighted / total if total else None))))
        known = [a.value for a in answers if a.value is not None]
        lines.append(TableLine("Antal inkomna enkäter", (
            *answers, self.figure(self._tkey(table, "svar", "antal"),
                                  sum(known) if known else None, True)), total=True))
        return TableView(table, tuple(heads), tuple(lines), frozenset(range(len(units) + 1)))

    # ---- the long data ------------------------------------------------------------------------
    def _data(self) -> pl.DataFrame:
        """Every filled cell of the accepted files, in long format, with unit names and a mark."""
        names = {u.id: u.name for u in self.c.units}
        scopes, items = _labels(self.c, self.period)
        values = self.r.values
        filled = values.filter(pl.col("value").is_not_null() | (pl.col("text").fill_null("") != ""))
        frame = filled.sort(*DATA_SORT).select(
            "period", "unit",
            pl.col("unit").replace_strict(names, default=None, return_dtype=pl.String)
            .alias("unit_name"),
            pl.when(pl.col("name").str.starts_with("ind_")).then(pl.lit("indikator")).otherwise(pl.lit("tabell"))
            .alias("area"),
            "scope", pl.col("scope").replace_strict(scopes, default=None, return_dtype=pl.String)
            .alias("scope_name"),
            "item", pl.concat_str("scope", "item", separator="/")
            .replace_strict(items, default=None, return_dtype=pl.String)
            .alias("item_label"),
            "field", pl.col("field")
            .replace_strict(FIELD_LABELS, default=None, return_dtype=pl.String)
            .alias("field_label"),
            "value", "text", "sheet", "cell", "file", "name", "kind",
        )
        cells = {k: m for k, m in self.marks.items() if k[0] == "cell"}
        if not self.masked:
            return frame.with_columns(mark=pl.lit(None, dtype=pl.String))
        marks = pl.DataFrame({"period": [k[1] for k in cells], "unit": [k[2] for k in cells],
                              "name": [k[3] for k in cells],
                              "mark": [str(m) for m in cells.values()]},
                             schema={"period": pl.String, "unit": pl.String, "name": pl.String,
                                     "mark": pl.String})
        marked = frame.join(marks, on=["period", "unit", "name"], how="left", maintain_order="left")
        return marked.with_columns(
            value=pl.when(pl.col("mark").is_null()).then(pl.col("value")),
            text=pl.when(pl.col("text").str.contains(r"\d")).then(pl.lit(WITHHELD)).otherwise(pl.col("text")),
        )


FIELD_LABELS = {"varde": "Värde", "taljare": "Täljare", "namnare": "Nämnare",
                "kommentar": "Kommentar", "antal": "Antal", "andel": "Andel",
                **{m: name.capitalize() for m, name in zip(MONTHS, MONTH_NAMES, strict=True)}}


def _labels(catalog: Catalog, period: Period) -> tuple[dict[str, str], dict[str, str]]:
    """Names for the long data's ids: indicator and table by id; a table's rows by "table/row"."""
    scopes = ({i.id: i.name_in(period) for i in catalog.indicators}
              | {t.id: t.title for t in catalog.tables})
    items: dict[str, str] = {}
    for table in catalog.tables:
        items |= {f"{table.id}/{r.id}": r.label for r in table.rows}
        items |= {f"{table.id}/summa": "SUMMA", f"{table.id}/total": table.total_label or "Totalt",
                  f"{table.id}/svar": "Antal inkomna enkäter"}
    return scopes, items
