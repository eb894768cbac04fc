"""The board's master workbook (xlsxwriter): summary, per unit, tables, charts, register, log, data."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from xlsxwriter.utility import xl_col_to_name, xl_range

from . import __version__
from .atomic import write_atomically
from .catalog import Catalog, Indicator, Table
from .combine import (
    GREEN,
    GREY,
    RED,
    STATUS_RULE,
    YELLOW,
    Judgement,
    board_values,
    judge,
    names_text,
    table_totals,
    unit_indicator_values,
)
from .errors import UsageError
from .export import long_values
from .mastermeta import MasterSummary, Move, UnitStatus, write_meta_sheet
from .periods import MONTHS, parse_period
from .suppress import masked_text, suppress
from .svformat import sv_value

if TYPE_CHECKING:
    from .model import RunResult

STATUS_FILL = {GREEN: "#C6EFCE", YELLOW: "#FFEB9C", RED: "#FFC7CE", GREY: "#D9D9D9"}
STATUS_FONT = {GREEN: "#006100", YELLOW: "#7F6000", RED: "#9C0006", GREY: "#404040"}
STATUS_LABEL = {GREEN: "● Grön", YELLOW: "● Gul", RED: "● Röd", GREY: "● Grå"}
STATE_FILL = {"levererad": "#C6EFCE", "saknas": "#FFC7CE", "underkänd": "#FFC7CE", "dubblett": "#FFEB9C",
              "överhoppad": "#D9D9D9"}
SUMMARY_SHEET = "Sammanställning"
EXCEL_ROWS = 1_048_576
_COMMENT = {"author": "consolidate", "x_scale": 2, "y_scale": 1.2}


def num_format(ind: Indicator) -> str:
    if ind.is_share:
        return "0" + ("." + "0" * ind.decimals if ind.decimals else "") + " %"
    base = "#,##0" + ("." + "0" * ind.decimals if ind.decimals else "")
    return base + (' "mnkr"' if ind.kind == "mnkr" else "")


def write_master(result: RunResult, catalog: Catalog, path: Path, mask: bool = False,
                 source: Path | None = None) -> Path:
    """Write atomically: a unique temp file beside the target, then rename over it."""
    return write_atomically(path, lambda tmp: _Writer(result, catalog, tmp, mask, source).write(),
                            prefix=".~sammanställning_")


class _Writer:
    def __init__(self, result: RunResult, catalog: Catalog, path: Path, mask: bool, source: Path | None) -> None:
        self.r = result
        self.c = catalog
        self.path = path
        self.mask = mask
        self.source = source
        self._missing_memo: dict[tuple[str, str], tuple[str, ...]] = {}
        self._comments: dict[str, list[str]] | None = None
        self.period = result.period
        self.unit_vals = (unit_indicator_values(result.values, catalog) if result.values.height
                          else pl.DataFrame(schema={"period": pl.String, "unit": pl.String, "indicator": pl.String,
                                                    "num": pl.Float64, "den": pl.Float64, "value": pl.Float64}))
        board = board_values(self.unit_vals, catalog) if self.unit_vals.height else None
        self.board: dict[tuple[str, str], float | None] = {} if board is None else dict(
            zip(zip(board["indicator"], board["period"], strict=True), board["value"], strict=True))
        reported = self.unit_vals.filter(pl.col("num").is_not_null())
        self.reporting: dict[tuple[str, str], set[str]] = {}
        for period, unit, indicator in zip(reported["period"], reported["unit"], reported["indicator"], strict=True):
            self.reporting.setdefault((indicator, period), set()).add(unit)
        self.columns = self._history_columns()
        self.judgements = {ind.id: self._judge(ind) for ind in catalog.indicators}
        totals = table_totals(result.values, str(self.period)) if result.values.height else None
        self.table_values: dict[str, pl.DataFrame] = (
            {} if totals is None else {key[0]: part for key, part in totals.partition_by("scope", as_dict=True).items()})

    # ---- data helpers -------------------------------------------------------------------------
    def _history_columns(self) -> list[tuple[str, str]]:
        """(header, key) per outcome column: report outcomes of years with no period, then periods."""
        years = {p.year for p in self.r.periods}
        extra = sorted({y for ind in self.c.indicators for y, _ in ind.outcomes if int(y) not in years})
        return [(f"Utfall {y} (rapport)", f"rapport:{y}") for y in extra] + [(str(p), str(p)) for p in self.r.periods]

    def board_value(self, indicator: str, key: str) -> float | None:
        if key.startswith("rapport:"):
            year = key.split(":", 1)[1]
            ind = next(i for i in self.c.indicators if i.id == indicator)
            return dict(ind.outcomes).get(year)
        return self.board.get((indicator, key))

    def missing(self, ind: Indicator, key: str) -> tuple[str, ...]:
        """Names of the units that report the indicator but have no accepted value for the period."""
        if key.startswith("rapport:") or not ind.asked_in(parse_period(key).tertial):
            return ()
        memo = self._missing_memo.get((ind.id, key))
        if memo is None:
            have = self.reporting.get((ind.id, key), set())
            memo = self._missing_memo[(ind.id, key)] = tuple(self.c.unit(u).name for u in ind.units if u not in have)
        return memo

    def complete_value(self, ind: Indicator, key: str) -> float | None:
        """The board value when every reporting unit is in it; a partial value is not the board's figure."""
        return None if self.missing(ind, key) else self.board_value(ind.id, key)

    def _judge(self, ind: Indicator) -> Judgement:
        keys = [k for _, k in self.columns]
        current = self.board_value(ind.id, str(self.period))
        history = [(k, self.complete_value(ind, k)) for k in keys if k != str(self.period)]
        return judge(ind, current, history, self.period, self.missing(ind, str(self.period)))

    def _value_cell(self, ind: Indicator, key: str, bold: bool = False) -> tuple[Any, Any, str | None]:
        """A board value, its format and comment: a partial one in italics, naming the units it lacks."""
        value = self.board_value(ind.id, key)
        if value is None:
            return "–", self.f.center, None
        missing = self.missing(ind, key)
        comment = None
        if missing:
            have = [u.name for u in self.c.units if u.id in self.reporting.get((ind.id, key), set())]
            comment = f"Ofullständigt underlag: saknar {names_text(missing)}. Värdet gäller bara {names_text(have)}."
        return value, self.f.num(num_format(ind), bold=bold, italic=bool(missing)), comment

    def _write_value(self, ws: Any, row: int, col: int, ind: Indicator, key: str) -> None:
        value, fmt, comment = self._value_cell(ind, key)
        ws.write(row, col, value, fmt)
        if comment:
            ws.write_comment(row, col, comment, _COMMENT)

    def comments(self, indicator: str) -> str:
        if self._comments is None:
            self._comments = {}
            vals = self.r.values
            if vals.height:
                rows = vals.filter((pl.col("period") == str(self.period)) & (pl.col("field") == "kommentar")
                                   & pl.col("text").is_not_null() & (pl.col("text") != ""))
                for scope, unit, text in zip(rows["scope"], rows["unit"], rows["text"], strict=True):
                    self._comments.setdefault(scope, []).append(
                        f"{self.c.unit(unit).name if self.c.has_unit(unit) else unit}: {text}")
        return "\n".join(self._comments.get(indicator, []))

    # ---- workbook -----------------------------------------------------------------------------
    def write(self) -> None:
        import xlsxwriter

        data = long_values(self.r.values, self.c, areas=("Indikator", "Tabell"),
                           sort=("period", "unit", "file", "sheet", "name"))
        if data.height >= EXCEL_ROWS:
            raise UsageError(
                f"Fliken Data skulle få {data.height} rader, men ett Excel-blad rymmer {EXCEL_ROWS - 1} under "
                "rubriken. Flytta äldre perioder ur mappen (eller sammanställ med en mindre katalog) och "
                "kör igen.")
        options: dict[str, Any] = {"strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False}
        # Rows are flushed to disk as they are written: memory stays flat for thousands of files.
        options["constant_memory"] = True
        wb = xlsxwriter.Workbook(str(self.path), options)
        self.wb = wb
        end_month = self.period.last_month
        wb.set_properties({
            "title": f"{self.c.board.name} – tertialuppföljning {self.period}",
            "subject": f"Uppföljning av omställningen, {self.period.label}",
            "author": self.c.board.administration, "company": self.c.board.municipality,
            "keywords": f"tertialuppföljning, {self.period}", "comments": f"Skapad av consolidate {__version__}",
            # The period's end, not the clock: same inputs give the same bytes.
            "created": dt.datetime(self.period.year, end_month, 28),
        })
        self.f = _formats(wb)
        # The Data sheet's rows are built on a thread while the sheets before it are written.
        self._data_rows = _RowStream(wb, data, first_row=1)
        try:
            self._write_sheets()
        finally:
            self._data_rows.close()
        wb.close()

    def _write_sheets(self) -> None:
        self._summary()
        self._per_unit()
        for table in self.c.tables:
            self._table(table)
        self._charts()
        self._register()
        self._log()
        self._data()
        self._about()
        write_meta_sheet(self.wb, self._meta())

    def _sheet(self, name: str, landscape: bool = True, streaming: bool = False) -> Any:
        """A sheet; `streaming` ones grow with the number of units or files, so their rows are
        written in order and flushed as they go (_put_row, _RowStream). The others stay in
        memory, so charts get their cached values and cells may be written in any order."""
        ws = self.wb.add_worksheet(name)
        if not streaming:
            ws.constant_memory = 0
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_header(f"&L{self.c.board.name}&C{name}&R{self.period}")
        ws.set_footer("&LSkapad av consolidate&RSida &P av &N")
        return ws

    def _summary(self) -> None:
        ws = self._sheet(SUMMARY_SHEET)
        f = self.f
        first_hist = 3
        heads = (["Målområde", "Indikator", "Nuläge*"] + [h for h, _ in self.columns]
                 + ["Börläge", "Uppföljning", "Riktning", "Status", "Trend", "Kommentarer från enheterna"])
        widths = [30, 46, 11] + [12] * len(self.columns) + [16, 12, 11, 26, 14, 50]
        last_col = len(heads) - 1
        ws.merge_range(0, 0, 0, min(last_col, 8), f"{self.c.board.name} – uppföljning av omställningen, "
                       f"{self.period.label}", f.title)
        delivered = sum(1 for e in self.r.register if e.state == "levererad")
        expected = len(self.c.units)
        ws.write_string(1, 0, f"{self.c.board.municipality}. Underlag från {delivered} av {expected} enheter. "
                              "Statusregeln står under tabellen och på fliken Om sammanställningen.", f.muted)
        for col, (head, width) in enumerate(zip(heads, widths, strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        ws.set_row(3, 32)
        row = 4
        section = None
        notes: list[str] = []
        for ind in self.c.indicators:
            if ind.section != section:
                section = ind.section
                ws.merge_range(row, 0, row, last_col, section, f.section)
                row += 1
            fmt = f.num(num_format(ind))
            judgement = self.judgements[ind.id]
            ws.write_string(row, 0, ind.goal_area, f.wrap)
            name = ind.name + (f" (Kolada {ind.kolada})" if ind.kolada else "")
            if ind.note:
                notes.append(f"**) {ind.name}: {ind.note}")
                name += " **"
            ws.write_string(row, 1, name, f.wrap)
            ws.write_number(row, 2, ind.baseline, fmt)
            for offset, (_, key) in enumerate(self.columns):
                self._write_value(ws, row, first_hist + offset, ind, key)
            col = first_hist + len(self.columns)
            if ind.target is not None:
                ws.write_number(row, col, ind.target, fmt)
            else:
                ws.write_string(row, col, ind.target_text or "", f.wrap)
            ws.write_string(row, col + 1, ind.frequency.capitalize(), f.wrap)
            ws.write_string(row, col + 2, ind.direction.capitalize(), f.wrap)
            ws.write_string(row, col + 3, f"{STATUS_LABEL[judgement.state]}\n{judgement.text}", f.status[judgement.state])
            ws.write_string(row, col + 4, f"{judgement.arrow} {judgement.trend}", f.wrap)
            ws.write_string(row, col + 5, self.comments(ind.id), f.wrap)
            ws.set_row(row, 48)
            row += 1
        dates = sorted({i.baseline_date for i in self.c.indicators})
        row += 1
        ws.write_string(row, 0, "*) Nuläget avser mätperioden per " + ", ".join(d.isoformat() for d in dates) + ".", f.muted)
        for note in notes:
            row += 1
            ws.write_string(row, 0, note, f.muted)
        row += 2
        ws.merge_range(row, 0, row, min(last_col, 8), "Statusregel: " + STATUS_RULE, f.wrap)
        ws.set_row(row, 90)
        ws.freeze_panes(4, 2)
        ws.repeat_rows(3)
        ws.activate()

    def _per_unit(self) -> None:
        ws = self._sheet("Per enhet", streaming=True)
        f = self.f
        units = list(self.c.units)
        ws.write_string(0, 0, f"Per enhet – {self.period.label}", f.title)
        ws.write_string(1, 0, "Enheternas värden för perioden; andelar räknade från varje enhets täljare och nämnare.", f.muted)
        heads = ["Indikator"] + [u.name for u in units] + ["Nämnden"]
        for col, head in enumerate(heads):
            ws.write_string(3, col, head, f.head)
        ws.set_column(0, 0, 50)
        ws.set_column(1, len(heads) - 1, 15)
        ws.set_row(3, 32)
        current = self.unit_vals.filter(pl.col("period") == str(self.period))
        lookup = {(u, i): v for u, i, v in zip(current["unit"], current["indicator"], current["value"], strict=True)}
        for offset, ind in enumerate(self.c.indicators):
            fmt = f.num(num_format(ind))
            cells: list[tuple[Any, Any]] = [(ind.name, f.wrap)]
            reporting = set(ind.units)
            for unit in units:
                if unit.id not in reporting:
                    cells.append((None, f.na))
                elif (value := lookup.get((unit.id, ind.id))) is None:
                    cells.append(("ej rapporterad", f.missing))
                else:
                    cells.append((value, fmt))
            value, fmt, comment = self._value_cell(ind, str(self.period), bold=True)
            cells.append((value, fmt))
            _put_row(ws, 4 + offset, cells, [(len(cells) - 1, comment)] if comment else ())
        ws.freeze_panes(4, 1)
        ws.repeat_rows(3)

    # ---- unit tables --------------------------------------------------------------------------
    def _table(self, table: Table) -> None:
        ws = self._sheet(table.sheet, streaming=True)
        f = self.f
        ws.write_string(0, 0, f"{table.title} – {self.period.label}", f.title)
        note = "Summerat över enheterna; andelar räknade om från de summerade antalen."
        if self.mask:
            note += f" Antal 1–{self.c.settings.suppression_limit - 1} visas som \"{masked_text(self.c.settings.suppression_limit)}\"; fler celler döljs så att inget kan räknas fram."
        ws.write_string(1, 0, note, f.muted)
        members = set(table.units)
        units = [u for u in self.c.units if u.id in members]
        data: dict[tuple[str, str, str], float | None] = {}
        part = self.table_values.get(table.id)
        if part is not None:
            for item, field, unit, value in zip(part["item"], part["field"], part["unit"], part["value"], strict=True):
                data[(item, field, unit)] = value
        if table.kind == "manad":
            self._monthly(ws, table, units, data)
        elif table.kind == "enkat":
            self._survey(ws, table, units, data)
        else:
            self._counts(ws, table, units, data)
        ws.freeze_panes(4, 1)
        ws.repeat_rows(3)

    def _count_cells(self, line: list[float | None], masks: list[bool], bold: bool) -> list[tuple[Any, Any]]:
        f = self.f
        style = f.count_bold if bold else f.count
        masked = masked_text(self.c.settings.suppression_limit)
        return [("–", f.center) if value is None else (masked, f.center) if hidden else (value, style)
                for value, hidden in zip(line, masks, strict=True)]

    def _masks(self, matrix: list[list[float | None]], total_row: bool, total_col: bool) -> list[list[bool]]:
        if not self.mask:
            return [[False] * len(line) for line in matrix]
        ints = [[None if v is None else round(v) for v in line] for line in matrix]
        return suppress(ints, total_row=total_row, total_col=total_col, limit=self.c.settings.suppression_limit)

    def _counts(self, ws: Any, table: Table, units: list[Any], data: dict[tuple[str, str, str], float | None]) -> None:
        f = self.f
        if table.kind == "fordelning":
            items = [(r.id, r.label) for r in table.rows] + [("summa", "SUMMA")]
        else:
            items = [(r.id, f"   varav {r.label.lower()}") for r in table.rows] + [("total", table.total_label or "Totalt")]
        heads = ["Kategori" if table.kind == "fordelning" else ""] + [u.name for u in units] + ["Totalt"]
        with_share = table.kind == "fordelning"
        if with_share:
            heads.append("Andel")
        for col, head in enumerate(heads):
            ws.write_string(3, col, head, f.head)
        ws.set_column(0, 0, 36)
        ws.set_column(1, len(heads) - 1, 14)
        ws.set_row(3, 32)
        matrix: list[list[float | None]] = []
        for item, _ in items:
            line = [data.get((item, "antal", u.id)) for u in units]
            known = [v for v in line if v is not None]
            line.append(sum(known) if known else None)
            matrix.append(line)
        complete = table.kind == "fordelning" or table.complete
        masks = self._masks(matrix, total_row=complete, total_col=True)
        # varav tables list the total first, as the templates do.
        order = list(range(len(items))) if table.kind == "fordelning" else [len(items) - 1] + list(range(len(items) - 1))
        grand = matrix[-1][-1]
        for out_row, index in enumerate(order):
            row = 4 + out_row
            is_total = index == len(items) - 1
            cells = [(items[index][1], f.bold if is_total else f.wrap),
                     *self._count_cells(matrix[index], masks[index], bold=is_total)]
            if with_share:
                value = matrix[index][-1]
                cells.append(("–", f.center) if value is None or not grand or masks[index][-1]
                             else (value / grand, f.share))
            _put_row(ws, row, cells)

    def _monthly(self, ws: Any, table: Table, units: list[Any], data: dict[tuple[str, str, str], float | None]) -> None:
        f = self.f
        for trow in table.rows:
            heads = [trow.label] + [m.capitalize() for m in MONTHS] + ["Summa"]
            for col, head in enumerate(heads):
                ws.write_string(3, col, head, f.head)
            ws.set_column(0, 0, 34)
            ws.set_column(1, 13, 8)
            matrix: list[list[float | None]] = []
            for unit in units:
                line = [data.get((trow.id, m, unit.id)) for m in MONTHS]
                known = [v for v in line if v is not None]
                matrix.append(line + [sum(known) if known else None])
            total_line: list[float | None] = []
            for c in range(13):
                column = [v for line in matrix if (v := line[c]) is not None]
                total_line.append(sum(column) if column else None)
            matrix.append(total_line)
            masks = self._masks(matrix, total_row=True, total_col=True)
            for r, unit in enumerate(units + [None]):
                _put_row(ws, 4 + r, [(unit.name if unit else "Totalt", f.bold if unit is None else f.wrap),
                                     *self._count_cells(matrix[r], masks[r], bold=unit is None)])
            break  # one series per monthly table in the catalog today

    def _survey(self, ws: Any, table: Table, units: list[Any], data: dict[tuple[str, str, str], float | None]) -> None:
        f = self.f
        heads = ["Fråga"] + [u.name for u in units] + ["Samtliga (vägt med antal svar)"]
        for col, head in enumerate(heads):
            ws.write_string(3, col, head, f.head)
        ws.set_column(0, 0, 60)
        ws.set_column(1, len(heads) - 1, 16)
        for r, trow in enumerate(table.rows):
            cells: list[tuple[Any, Any]] = [(trow.label, f.wrap)]
            weighted, answers = 0.0, 0.0
            for unit in units:
                share = data.get((trow.id, "andel", unit.id))
                n = data.get(("svar", "antal", unit.id))
                if share is None:
                    cells.append(("–", f.center))
                else:
                    cells.append((share, f.share))
                    if n:
                        weighted += share * n
                        answers += n
            cells.append((weighted / answers, f.share) if answers else ("–", f.center))
            _put_row(ws, 4 + r, cells)
        counts: list[float | None] = [data.get(("svar", "antal", u.id)) for u in units]
        known = [v for v in counts if v is not None]
        line = counts + [sum(known) if known else None]
        masks = self._masks([line], total_row=False, total_col=True)[0]
        _put_row(ws, 4 + len(table.rows), [("Antal inkomna enkäter", f.bold), *self._count_cells(line, masks, bold=True)])

    # ---- charts, register, log, data ----------------------------------------------------------
    def _charts(self) -> None:
        ws = self._sheet("Diagram")
        data_ws = self.wb.add_worksheet("_diagramdata")
        data_ws.constant_memory = 0
        data_ws.hide()
        f = self.f
        ws.write_string(0, 0, f"Indikatorerna över tid mot börläget – {self.period.label}", f.title)
        ws.write_string(1, 0, "Perioder med ofullständigt underlag (någon enhet saknas eller är underkänd) "
                              "visas inte i diagrammen; se Sammanställning.", f.muted)
        keys = [(h, k) for h, k in self.columns]
        for c, (head, _) in enumerate(keys, start=1):
            data_ws.write_string(0, c, head)
        for index, ind in enumerate(self.c.indicators):
            row = 1 + index * 2
            data_ws.write_string(row, 0, ind.name)
            for c, (_, key) in enumerate(keys, start=1):
                value = self.complete_value(ind, key)
                if value is not None:
                    data_ws.write_number(row, c, value)
            data_ws.write_string(row + 1, 0, "Börläge")
            for c in range(1, len(keys) + 1):
                if ind.target is not None:
                    data_ws.write_number(row + 1, c, ind.target)
            chart = self.wb.add_chart({"type": "line"})
            last = len(keys)
            chart.add_series({
                "name": "Utfall", "categories": ["_diagramdata", 0, 1, 0, last],
                "values": ["_diagramdata", row, 1, row, last],
                "marker": {"type": "circle", "size": 6}, "line": {"color": "#1F4E79", "width": 2.25},
                "data_labels": {"value": True, "num_format": num_format(ind), "position": "above"},
            })
            if ind.target is not None:
                chart.add_series({
                    "name": f"Börläge {ind.target_year}", "categories": ["_diagramdata", 0, 1, 0, last],
                    "values": ["_diagramdata", row + 1, 1, row + 1, last],
                    "line": {"color": "#C00000", "dash_type": "dash", "width": 1.5}, "marker": {"type": "none"},
                })
            title = ind.name if len(ind.name) <= 70 else ind.name[:67] + "…"
            chart.set_title({"name": title, "name_font": {"size": 10, "bold": True}})
            chart.set_y_axis({"num_format": num_format(ind), "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
            chart.set_legend({"position": "bottom"})
            chart.set_size({"width": 520, "height": 290})
            ws.insert_chart(3 + (index // 2) * 15, (index % 2) * 8, chart)

    def _register(self) -> None:
        ws = self._sheet("Inlämning", streaming=True)
        f = self.f
        ws.write_string(0, 0, f"Inlämning – {self.period.label}", f.title)
        counts = {s: sum(1 for e in self.r.register if e.state == s) for s in STATE_FILL}
        ws.write_string(1, 0, ", ".join(f"{s}: {n}" for s, n in counts.items() if n), f.muted)
        heads = ["Enhet", "Status", "Fil", "Ändrad", "Fel", "Varningar", "SHA-256", "Anmärkning"]
        for col, (head, width) in enumerate(zip(heads, [30, 13, 40, 17, 6, 10, 20, 50], strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        for r, entry in enumerate(self.r.register, start=4):
            _put_row(ws, r, [(entry.unit_name or "(okänd)", f.wrap), (entry.state, f.state[entry.state]),
                             (entry.file, f.wrap), (entry.modified, f.wrap), (entry.errors, f.count),
                             (entry.warnings, f.count), (entry.sha256[:16], f.mono), (entry.note, f.wrap)])
        ws.freeze_panes(4, 1)
        ws.autofilter(3, 0, 3 + len(self.r.register), len(heads) - 1)

    def _log(self) -> None:
        ws = self._sheet("Valideringslogg", streaming=True)
        f = self.f
        findings = self.r.report.findings
        ws.write_string(0, 0, f"Valideringslogg – {len(findings)} fynd", f.title)
        ws.write_string(1, 0, "Fel stoppar en inlämning; varningar ska kontrolleras men stoppar inte.", f.muted)
        heads = ["Allvarlighet", "Fil", "Enhet", "Period", "Flik", "Cell", "Regel", "Meddelande", "Värde", "Förväntat"]
        for col, (head, width) in enumerate(zip(heads, [11, 34, 16, 9, 20, 7, 28, 70, 14, 14], strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        for r, item in enumerate(findings, start=4):
            _put_row(ws, r, [(item.severity, f.fel if item.severity == "fel" else f.wrap)] + [
                (text, f.wrap) for text in (item.file, item.unit, item.period, item.sheet, item.cell, item.title,
                                            item.message, item.value, item.expected)])
        ws.freeze_panes(4, 0)
        if findings:
            ws.autofilter(3, 0, 3 + len(findings), len(heads) - 1)

    def _data(self) -> None:
        ws = self._sheet("Data", streaming=True)
        f = self.f
        heads = ["Period", "Enhet", "Enhetsnamn", "Område", "Id", "Rad", "Fält", "Värde", "Text", "Flik", "Cell", "Fil"]
        last_row = max(self._data_rows.frame.height, 1)
        # The workbook is written with constant memory, where xlsxwriter refuses add_table(): declare
        # the table before any row is flushed with that mode switched off for the call, then write
        # the header cells again in the streaming mode (checked by the tests and LibreOffice).
        # add_table() also records every cell of its range to catch overlaps (100 bytes a cell), so
        # it is declared over two rows and then given its real range; nothing else overlaps it.
        streaming = ws.constant_memory
        ws.constant_memory = 0
        ws.add_table(0, 0, 1, len(heads) - 1, {
            "name": "Data", "style": "Table Style Medium 2", "columns": [{"header": h} for h in heads]})
        ws.constant_memory = streaming
        table = ws.tables[-1]
        table["range"] = table["a_range"] = table["autofilter"] = xl_range(0, 0, last_row, len(heads) - 1)
        for col, (head, width) in enumerate(zip(heads, [9, 16, 26, 10, 30, 22, 10, 12, 30, 20, 7, 34], strict=True)):
            ws.set_column(col, col, width)
            ws.write_string(0, col, head, f.head)
        # Hundreds of thousands of cells cost seconds through xlsxwriter's per-cell calls; the rows
        # are built as XML by polars and appended to the sheet's row stream (tests and LibreOffice
        # check the result).
        self._data_rows.append(ws, last_col=len(heads) - 1)
        ws.freeze_panes(1, 0)

    def _about(self) -> None:
        ws = self._sheet("Om sammanställningen", landscape=False)
        f = self.f
        ws.set_column(0, 0, 110)
        lines = [
            (f.title, "Om sammanställningen"),
            (f.wrap, f"{self.c.board.name}, {self.c.board.municipality}. Period: {self.period.label}."),
            (f.wrap, "Perioder i underlaget: " + ", ".join(str(p) for p in self.r.periods) + "."),
            (f.wrap, "Statusregel: " + STATUS_RULE),
            (f.wrap, ("Sammanvägning: antal och belopp summeras över enheterna; andelar räknas från summerade "
                     "täljare och nämnare; enkätandelar vägs med antal svar.")),
            (f.wrap, ("Bara inlämningar utan fel ingår. Finns två filer för samma enhet och period används den "
                     "nyaste giltiga; se fliken Inlämning.")),
            (f.wrap, f"Skapad av consolidate {__version__} från katalogen (fingeravtryck {self.c.fingerprint})."),
        ]
        if self.mask:
            lines.append((f.wrap, (f"Små tal (1–{self.c.settings.suppression_limit - 1}) är maskerade som "
                                  f"\"{masked_text(self.c.settings.suppression_limit)}\", med sekundär maskering.")))
        for row, (style, text) in enumerate(lines):
            ws.write_string(row, 0, text, style)
            if row:
                ws.set_row(row, 45 if len(text) > 110 else 18)

    def _meta(self) -> MasterSummary:
        states: dict[str, str] = {}
        for entry in self.r.register:
            if entry.unit and entry.state != "dubblett":
                states.setdefault(entry.unit, entry.state)
        units = tuple(UnitStatus(u.id, u.name, u.email, states.get(u.id, "saknas")) for u in self.c.units)
        counts = {s: 0 for s in (GREEN, YELLOW, RED, GREY)}
        for j in self.judgements.values():
            counts[j.state] += 1
        moves = []
        for ind in self.c.indicators:
            j = self.judgements[ind.id]
            current = self.board_value(ind.id, str(self.period))
            if current is None or j.previous is None:
                continue
            span = abs((ind.target if ind.target is not None else ind.baseline) - ind.baseline) or abs(ind.baseline) or 1.0
            toward = (current - j.previous) * (1 if ind.direction == "ökning" else -1)
            text = (f"{ind.name}: {sv_value(j.previous, ind.kind, ind.decimals)} ({j.previous_period}) → "
                    f"{sv_value(current, ind.kind, ind.decimals)} ({self.period}), "
                    f"{'mot' if toward > 0 else 'från'} börläget {sv_value(ind.target, ind.kind, ind.decimals) if ind.target is not None else ind.target_text}")
            moves.append(Move(ind.id, ind.name, text, abs(toward) / span))
        moves.sort(key=lambda m: (-m.size, m.indicator_id))
        return MasterSummary(
            tool=f"consolidate {__version__}", board=self.c.board.name, municipality=self.c.board.municipality,
            period=str(self.period), period_label=self.period.label, errors=self.r.report.errors,
            warnings=self.r.report.warnings, units=units, status_counts=counts, moves=tuple(moves),
            masked=self.mask, source=str(self.source or ""),
        )


_COLUMN_NAMES: list[str] = []


def _put_row(ws: Any, row: int, cells: Sequence[tuple[Any, Any]],
             comments: Sequence[tuple[int, str]] = ()) -> None:
    """One whole row of a streaming (constant-memory) sheet, written as XML in one string.

    xlsxwriter spends about 10 µs a cell on checks and XML calls; a region's Per enhet and table
    sheets have tens of thousands. The row is what xlsxwriter writes for the same calls: cells
    (value, format) from column A, numbers as %.16G, text through the shared string table (so
    never a formula), a blank only with a format. Rows come in order, each whole, after the cells
    xlsxwriter holds (those are flushed first). Tests read the sheets back with openpyxl."""
    while len(_COLUMN_NAMES) < len(cells):
        _COLUMN_NAMES.append(xl_col_to_name(len(_COLUMN_NAMES)))
    ws._check_dimensions(row, 0)
    ws._check_dimensions(row, len(cells) - 1)
    ws._write_single_row(row)  # flush earlier rows held by xlsxwriter
    for col, text in comments:  # stored for the comments part, not in the row
        ws.write_comment(row, col, text, _COMMENT)
    number = str(row + 1)
    strings = ws.str_table
    out = [f'<row r="{number}">']
    for col, (value, fmt) in enumerate(cells):
        style = "" if fmt is None else f' s="{fmt._get_xf_index()}"'
        if isinstance(value, str):
            out.append(f'<c r="{_COLUMN_NAMES[col]}{number}"{style} t="s"><v>'
                       f'{strings._get_shared_string_index(value)}</v></c>')
        elif value is not None and math.isfinite(value):
            out.append(f'<c r="{_COLUMN_NAMES[col]}{number}"{style}><v>{value:.16G}</v></c>')
        elif style:
            out.append(f'<c r="{_COLUMN_NAMES[col]}{number}"{style}/>')
    out.append("</row>")
    ws.row_data_fh.write("".join(out))
    ws.previous_row = row + 1


_SLICE = 20_000  # rows turned into XML at a time: memory stays flat for any number of files


class _RowStream:
    """A frame's rows as sheet XML, built on a background thread while the other sheets are
    written (polars and the file writes release the GIL), into a temporary file; `append()` puts
    them after the rows xlsxwriter holds for the sheet (the header); `close()` ends both. Memory
    stays flat.

    Numbers become numbers; text goes into the workbook's shared string table, as write_string()
    puts it there (xlsxwriter escapes it), so it is never a formula. The shared string ids are
    taken on the calling thread, in column order, so the same inputs give the same bytes."""

    def __init__(self, wb: Any, frame: pl.DataFrame, first_row: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.frame, self.first_row = frame, first_row
        strings = wb.str_table
        ids: dict[str, pl.Expr] = {}
        for name, dtype in frame.schema.items():
            if dtype != pl.Float64:
                column = frame[name].cast(pl.String)
                filled = column.filter(column.is_not_null() & (column != ""))
                unique = filled.unique(maintain_order=True).to_list()
                index = [str(strings._get_shared_string_index(text)) for text in unique]
                strings.count += filled.len() - len(unique)  # one reference per cell, as write_string
                ids[name] = pl.col(name).cast(pl.String).replace_strict(unique, index, default=None,
                                                                        return_dtype=pl.String)
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.job = self.pool.submit(self._build, ids)

    def _build(self, ids: dict[str, pl.Expr]) -> None:
        for offset, chunk in enumerate(self.frame.iter_slices(_SLICE)):
            self.file.write(_rows_xml(chunk, self.first_row + offset * _SLICE, ids))

    def append(self, ws: Any, last_col: int) -> None:
        self.job.result()  # re-raises what failed on the thread
        if self.frame.height:
            ws._check_dimensions(self.first_row + self.frame.height - 1, last_col)
        ws._write_single_row(self.first_row + self.frame.height)  # flush the held rows; ours follow
        ws.row_data_fh.flush()
        self.file.seek(0)
        shutil.copyfileobj(self.file, ws.row_data_fh.buffer)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.file.close()


def _rows_xml(frame: pl.DataFrame, first_row: int, ids: dict[str, pl.Expr]) -> bytes:
    """<row> elements (1-based r) of a frame: numbers as values, text as shared string ids.

    Cells leave out their optional reference (r): each follows the one before, an empty cell is
    an empty <c/>. A third less XML to write and pack for the largest sheet."""
    row = pl.int_range(first_row + 1, first_row + 1 + pl.len()).cast(pl.String)
    cells = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64:
            column = pl.col(name)
            cell = pl.lit("<c><v>") + column.cast(pl.String) + pl.lit("</v></c>")
            cells.append(pl.when(column.is_null() | column.is_nan()).then(pl.lit("<c/>")).otherwise(cell))
        else:
            cell = pl.lit('<c t="s"><v>') + ids[name] + pl.lit("</v></c>")
            cells.append(pl.when(ids[name].is_null()).then(pl.lit("<c/>")).otherwise(cell))
    xml = frame.select(pl.concat_str([pl.lit('<row r="') + row + pl.lit('">'), *cells, pl.lit("</row>")])
                       .str.join("").cast(pl.Binary))
    return bytes(xml.item()) if frame.height else b""


class _Fmt:
    pass


def _formats(wb: Any) -> Any:
    f = _Fmt()
    base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}
    f.title = wb.add_format({**base, "bold": True, "font_size": 14})  # type: ignore[attr-defined]
    f.muted = wb.add_format({**base, "italic": True, "font_color": "#595959"})  # type: ignore[attr-defined]
    f.head = wb.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E79",  # type: ignore[attr-defined]
                            "text_wrap": True, "border": 1})
    f.section = wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1})  # type: ignore[attr-defined]
    f.wrap = wb.add_format({**base, "text_wrap": True, "border": 1})  # type: ignore[attr-defined]
    f.bold = wb.add_format({**base, "bold": True, "border": 1})  # type: ignore[attr-defined]
    f.center = wb.add_format({**base, "align": "center", "border": 1, "font_color": "#595959"})  # type: ignore[attr-defined]
    f.na = wb.add_format({**base, "border": 1, "bg_color": "#F2F2F2"})  # type: ignore[attr-defined]
    f.missing = wb.add_format({**base, "border": 1, "italic": True, "font_color": "#9C0006"})  # type: ignore[attr-defined]
    f.count = wb.add_format({**base, "num_format": "#,##0", "border": 1})  # type: ignore[attr-defined]
    f.count_bold = wb.add_format({**base, "num_format": "#,##0", "border": 1, "bold": True})  # type: ignore[attr-defined]
    f.share = wb.add_format({**base, "num_format": "0.0 %", "border": 1})  # type: ignore[attr-defined]
    f.mono = wb.add_format({**base, "font_name": "Consolas", "border": 1})  # type: ignore[attr-defined]
    f.fel = wb.add_format({**base, "border": 1, "bold": True, "font_color": "#9C0006"})  # type: ignore[attr-defined]
    f.status = {s: wb.add_format({**base, "text_wrap": True, "border": 1, "bold": True,  # type: ignore[attr-defined]
                                  "bg_color": STATUS_FILL[s], "font_color": STATUS_FONT[s]}) for s in STATUS_FILL}
    f.state = {s: wb.add_format({**base, "border": 1, "bg_color": c}) for s, c in STATE_FILL.items()}  # type: ignore[attr-defined]
    cache: dict[tuple[str, bool, bool], Any] = {}

    def num(code: str, bold: bool = False, italic: bool = False) -> Any:
        if (code, bold, italic) not in cache:
            extra = {"italic": True, "font_color": "#7F7F7F"} if italic else {}
            cache[(code, bold, italic)] = wb.add_format({**base, "num_format": code, "border": 1, "bold": bold,
                                                          **extra})
        return cache[(code, bold, italic)]

    f.num = num  # type: ignore[attr-defined]
    return f
