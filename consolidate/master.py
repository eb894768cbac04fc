"""The board's master workbook: the board model laid out as sheets; no figure is computed here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from . import __version__
from .atomic import write_atomically
from .boardmodel import Board, BoardCell, Figure, Mark, TableView
from .catalog import Indicator
from .combine import STATUS_RULE, lacking_text, names_text
from .doubt import doubt_note
from .errors import UsageError
from .masterchart import CHART_DATA, write_charts
from .mastercompare import about_lines, summary_heads, summary_notes, write_summary_cells
from .mastermeta import summary_of, write_meta_sheet
from .masterstyle import MASK_ABOUT, MASK_LEGEND, STATE_FILL, STATUS_LABEL, formats, num_format
from .model import Severity, UnitState
from .xlsxrows import Cell, LongTable, RowWriter, fast_path_available

SUMMARY_SHEET = "Sammanställning"
EXCEL_ROWS = 1_048_576
_COMMENT = {"author": "consolidate", "x_scale": 2, "y_scale": 1.2}
# Names for people first, the ids (what the catalog and the export call things) in their own
# columns.
DATA_HEADS = ["Period", "Enhet", "Område", "Indikator eller tabell", "Rad", "Fält", "Värde", "Text",
              "Flik", "Cell", "Fil", "Enhets-id", "Id", "Rad-id", "Fält-id"]
_DATA_WIDTHS = [9, 26, 10, 40, 26, 10, 12, 30, 20, 7, 34, 16, 30, 22, 10]
NOT_IN_PLAN = "ej aktuell"  # the indicator was not in the board's plan that period


def mark_text(mark: Mark, limit: int) -> str:
    """What a masked figure shows: "<5" for a small count, ".." for a cell hidden to protect one."""
    return f"<{limit}" if mark == Mark.SMALL else ".."


def write_master(board: Board, path: Path, source: Path | None = None,
                 fast: bool | None = None) -> Path:
    """Write the board's master workbook atomically (a unique temp file beside the target, then a
    rename); `fast` None picks xlsxwriter's fast internals when this version is one they are tested
    with."""
    data = master_data(board)
    if data.height >= EXCEL_ROWS:
        raise UsageError(
            f"Fliken Data skulle få {data.height} rader, men ett Excel-blad rymmer "
            f"{EXCEL_ROWS - 1} under rubriken. Flytta äldre perioder ur mappen (eller sammanställ "
            "med en mindre katalog) och kör igen.")
    rows = RowWriter(fast_path_available() if fast is None else fast)
    return write_atomically(path, lambda tmp: _Writer(board, data, rows, tmp, source).write(),
                            prefix=".~sammanställning_")


def master_data(board: Board) -> pl.DataFrame:
    """The Data sheet's columns: the board's long data, with a column for marks when masked."""
    frame = board.data.select(
        "period", "unit_name",
        pl.when(pl.col("area") == "indikator").then(pl.lit("Indikator"))
        .otherwise(pl.lit("Tabell")).alias("area"),
        "scope_name", "item_label", "field_label", "value", "text", "sheet", "cell", "file", "unit",
        "scope", "item", "field")
    if board.masked:
        limit = board.catalog.settings.suppression_limit
        frame = frame.with_columns(board.data["mark"].replace_strict(
            {str(Mark.SMALL): f"<{limit}", str(Mark.COVER): ".."}, default=None,
            return_dtype=pl.String).alias("mask"))
    return frame


class _Writer:
    def __init__(self, board: Board, data: pl.DataFrame, rows: RowWriter, path: Path,
                 source: Path | None) -> None:
        self.b, self.c, self.data, self.rows = board, board.catalog, data, rows
        self.path, self.source = path, source
        self.period = board.period
        self.limit = self.c.settings.suppression_limit

    def write(self) -> None:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(self.path), self.rows.workbook_options())
        self.wb = wb
        wb.set_properties({
            "title": f"{self.c.board.name} – tertialuppföljning {self.period}",
            "subject": f"Uppföljning av omställningen, {self.period.label}",
            "author": self.c.board.administration, "company": self.c.board.municipality,
            "keywords": f"tertialuppföljning, {self.period}",
            "comments": f"Skapad av consolidate {__version__}",
            # The period's end, not the clock: same inputs give the same bytes.
            "created": dt.datetime(self.period.year, self.period.last_month, 28),
        })
        self.f = formats(wb)
        self.long = LongTable(self.rows, wb, self.data)  # built while the sheets before it are
                                                         # written
        try:
            self._summary()
            self._per_unit()
            for view in self.b.tables:
                self._table(view)
            self._charts()
            self._register()
            self._log()
            self._data()
            self._about()
            write_meta_sheet(wb, summary_of(self.b, f"consolidate {__version__}",
                                            str(self.source or "")))
        finally:
            self.long.close()
        wb.close()

    def _sheet(self, name: str, landscape: bool = True, streaming: bool = False) -> Any:
        ws = self.wb.add_worksheet(name)
        self.rows.streaming(ws, streaming)
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_header(f"&L{self.c.board.name}&C{name}&R{self.period}")
        ws.set_footer("&LSkapad av consolidate&RSida &P av &N")
        return ws

    def _masked_note(self, ws: Any, row: int) -> None:
        if self.b.masked:
            ws.write_string(row, 0, MASK_LEGEND.format(limit=self.limit, small=self.limit - 1),
                            self.f.muted)

    # ---- figures -------------------------------------------------------------------------------
    def _figure(self, fig: Figure | None, fmt: Any) -> Cell:
        if fig is None:
            return None, self.f.na
        if fig.mark is not None:
            return mark_text(fig.mark, self.limit), self.f.center
        if fig.value is None:
            return "–", self.f.center
        return fig.value, fmt

    def _board_cell(self, ind: Indicator, cell: BoardCell,
                    bold: bool = False) -> tuple[Cell, str | None]:
        """A board value, its format and comment: a partial one in italics, naming the units it
        lacks."""
        if not cell.in_plan:
            return (NOT_IN_PLAN, self.f.na), None
        value, fmt = self._figure(cell.value, None)
        if fmt is not None:
            return (value, fmt), None
        notes = [doubt_note(d) for d in cell.doubts]
        if cell.incomplete:
            reported = {p.unit for p in cell.parts}
            have = [u.name for u in self.c.units if u.id in reported]
            notes.append(f"Ofullständigt underlag: {lacking_text(self.c, cell)}. "
                         f"Värdet gäller bara {names_text(have)}.")
        return (value, self.f.num(num_format(ind), bold=bold, italic=cell.incomplete,
                                  doubt=bool(cell.doubts))), "\n\n".join(notes) or None

    def _names(self, units: tuple[str, ...]) -> list[str]:
        return [self.c.unit(u).name for u in units]

    # ---- sheets --------------------------------------------------------------------------------
    def _summary(self) -> None:
        ws = self._sheet(SUMMARY_SHEET)
        f = self.f
        first_hist = 3
        columns = self.b.columns
        compared = summary_heads(self.b)  # Kolada's figures beside the board's, when compared
        heads = (["Målområde", "Indikator", "Nuläge*"] + [c.header for c in columns]
                 + [h for h, _ in compared] + ["Börläge", "Uppföljning", "Riktning", "Status",
                                               "Trend", "Kommentarer från enheterna"])
        widths = ([30, 46, 11] + [12] * len(columns) + [w for _, w in compared]
                  + [16, 12, 11, 26, 14, 50])
        last_col = len(heads) - 1
        title = f"{self.c.board.name} – uppföljning av omställningen, {self.period.label}"
        ws.merge_range(0, 0, 0, min(last_col, 8), title + (" (maskerad)" if self.b.masked else ""),
                       f.title)
        states = self.b.unit_states()
        delivered = sum(1 for u in self.b.units if states.get(u.id) == UnitState.DELIVERED)
        ws.write_string(1, 0, f"{self.c.board.municipality}. Underlag från {delivered} av "
                              f"{len(self.b.units)} enheter. Statusregeln står under tabellen och "
                              "på fliken Om sammanställningen.", f.muted)
        self._masked_note(ws, 2)
        for col, (head, width) in enumerate(zip(heads, widths, strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        ws.set_row(3, 32)
        row = 4
        section = None
        notes: list[str] = []
        for item in self.b.rows:
            ind, judgement = item.indicator, item.judgement
            if ind.section != section:
                section = ind.section
                ws.merge_range(row, 0, row, last_col, section, f.section)
                row += 1
            fmt = f.num(num_format(ind))
            ws.write_string(row, 0, ind.goal_area, f.wrap)
            name = ind.name + (f" (Kolada {ind.kolada})" if ind.kolada else "")
            if ind.note:
                notes.append(f"**) {ind.name}: {ind.note}")
                name += " **"
            ws.write_string(row, 1, "\n".join((name, *item.notes)), f.wrap)
            ws.write_number(row, 2, ind.baseline, fmt)
            for offset, cell in enumerate(item.cells):
                (value, cell_fmt), comment = self._board_cell(ind, cell)
                ws.write(row, first_hist + offset, value, cell_fmt)
                if comment:
                    ws.write_comment(row, first_hist + offset, comment, _COMMENT)
            col = first_hist + len(columns)
            col += write_summary_cells(ws, row, col, self.b, item, f)
            if ind.target is not None:
                ws.write_number(row, col, ind.target, fmt)
            else:
                ws.write_string(row, col, ind.target_text or "", f.wrap)
            ws.write_string(row, col + 1, ind.frequency.capitalize(), f.wrap)
            ws.write_string(row, col + 2, ind.direction.capitalize(), f.wrap)
            ws.write_string(row, col + 3, f"{STATUS_LABEL[judgement.status]}\n{judgement.reason}",
                            f.status[judgement.status])
            ws.write_string(row, col + 4, f"{judgement.arrow} {judgement.trend}", f.wrap)
            ws.write_string(row, col + 5, "\n".join(f"{self._unit_name(u)}: {text}"
                                                    for u, text in item.comments), f.wrap)
            ws.set_row(row, 48 + 13 * len(item.notes))
            row += 1
        dates = sorted({r.indicator.baseline_date for r in self.b.rows})
        row += 1
        ws.write_string(row, 0, "*) Nuläget avser mätperioden per "
                        + ", ".join(d.isoformat() for d in dates) + ".", f.muted)
        for note in notes + summary_notes(self.b):
            row += 1
            ws.write_string(row, 0, note, f.muted)
        row += 2
        ws.merge_range(row, 0, row, min(last_col, 8), "Statusregel: " + STATUS_RULE, f.wrap)
        ws.set_row(row, 90)
        ws.freeze_panes(4, 2)
        ws.repeat_rows(3)
        ws.activate()

    def _catalog_text(self) -> str:
        """Which catalog: the board's own by its path, the bundled example by name (its place on
        this computer says nothing and would make the same inputs give other bytes elsewhere)."""
        return "exempelkatalogen som följer med consolidate" if self.c.bundled else self.c.label

    def _unit_name(self, unit: str) -> str:
        return self.c.unit(unit).name if self.c.has_unit(unit) else unit

    def _per_unit(self) -> None:
        ws = self._sheet("Per enhet", streaming=True)
        f = self.f
        units = list(self.b.units)
        ws.write_string(0, 0, f"Per enhet – {self.period.label}", f.title)
        ws.write_string(1, 0, "Enheternas värden för perioden; andelar räknade från varje enhets "
                              "täljare och nämnare.", f.muted)
        self._masked_note(ws, 2)
        heads = ["Indikator"] + [u.name for u in units] + ["Nämnden"]
        for col, head in enumerate(heads):
            ws.write_string(3, col, head, f.head)
        ws.set_column(0, 0, 50)
        ws.set_column(1, len(heads) - 1, 15)
        ws.set_row(3, 32)
        for offset, item in enumerate(r for r in self.b.rows if r.current.in_plan):
            ind, current = item.indicator, item.current
            parts = {p.unit: p for p in current.parts}
            reporting = set(current.reporting)
            cells: list[Cell] = [(ind.name, f.wrap)]
            doubts = {d.unit: doubt_note(d, unit=False) for d in current.doubts}
            comments = [(1 + n, doubts[u.id]) for n, u in enumerate(units) if u.id in doubts]
            for unit in units:
                part = parts.get(unit.id)
                if unit.id not in reporting:
                    cells.append((None, f.na))
                elif unit.id in current.rejected:  # handed in, but the file has errors: not missing
                    cells.append(("underkänd", f.missing))
                elif part is None or (part.value.value is None and part.value.mark is None):
                    cells.append(("ej rapporterad", f.missing))
                else:
                    cells.append(self._figure(part.value, f.num(num_format(ind),
                                                                 doubt=unit.id in doubts)))
            cell, comment = self._board_cell(ind, current, bold=True)
            cells.append(cell)
            self.rows.put_row(ws, 4 + offset, cells,
                              comments + ([(len(cells) - 1, comment)] if comment else []), _COMMENT)
        ws.freeze_panes(4, 1)
        ws.repeat_rows(3)

    def _table(self, view: TableView) -> None:
        table = view.table
        ws = self._sheet(table.sheet, streaming=True)
        f = self.f
        ws.write_string(0, 0, f"{table.title} – {self.period.label}", f.title)
        note = "Summerat över enheterna; andelar räknade om från de summerade antalen."
        if self.b.masked:
            note += " " + MASK_LEGEND.format(limit=self.limit, small=self.limit - 1)
        ws.write_string(1, 0, note, f.muted)
        for col, head in enumerate(view.heads):
            ws.write_string(3, col, head, f.head)
        widths = {"fordelning": (36, 14), "varav": (36, 14), "manad": (34, 8),
                  "enkat": (60, 16)}[table.kind]
        ws.set_column(0, 0, widths[0])
        ws.set_column(1, 13 if table.kind == "manad" else len(view.heads) - 1, widths[1])
        if table.kind in ("fordelning", "varav"):
            ws.set_row(3, 32)
        for r, line in enumerate(view.lines):
            label_fmt = f.bold if line.total else f.wrap
            count_fmt = f.count_bold if line.total else f.count
            cells: list[Cell] = [(line.label, label_fmt)]
            for col, fig in enumerate(line.cells):
                share = col in view.share_columns and not (table.kind == "enkat" and line.total)
                cells.append(self._figure(fig, f.share if share else count_fmt))
            self.rows.put_row(ws, 4 + r, cells)
        ws.freeze_panes(4, 1)
        ws.repeat_rows(3)

    def _charts(self) -> None:
        ws = self._sheet("Diagram")
        data_ws = self.wb.add_worksheet(CHART_DATA)
        self.rows.streaming(data_ws, False)
        ws.write_string(0, 0, f"Indikatorerna över tid mot börläget – {self.period.label}",
                        self.f.title)
        ws.write_string(1, 0, "Perioder med ofullständigt underlag (någon enhet saknas eller är "
                              "underkänd) eller värden att kontrollera visas inte i diagrammen; "
                              "se Sammanställning.",
                              self.f.muted)
        self._masked_note(ws, 2)
        write_charts(self.wb, ws, data_ws, self.b)

    def _register(self) -> None:
        ws = self._sheet("Inlämning", streaming=True)
        f = self.f
        register = self.b.register
        ws.write_string(0, 0, f"Inlämning – {self.period.label}", f.title)
        counts = {s: sum(1 for e in register if e.state == s) for s in STATE_FILL}
        ws.write_string(1, 0, ", ".join(f"{s}: {n}" for s, n in counts.items() if n), f.muted)
        # The whole SHA-256, as Get-FileHash or sha256sum print it, so a file can be matched
        # exactly.
        heads = ["Enhet", "Status", "Fil", "Ändrad", "Fel", "Varningar", "Anmärkning", "SHA-256"]
        for col, (head, width) in enumerate(zip(heads, [30, 13, 40, 17, 6, 10, 50, 70],
                                                strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        for r, entry in enumerate(register, start=4):
            self.rows.put_row(ws, r, [
                (entry.unit_name or "(ingen enhet)", f.wrap),
                (str(entry.state), f.state[entry.state]),
                (entry.file, f.wrap), (entry.modified, f.wrap), (entry.errors, f.count),
                (entry.warnings, f.count), (entry.note, f.wrap), (entry.sha256, f.mono)])
        ws.freeze_panes(4, 1)
        ws.autofilter(3, 0, 3 + len(register), len(heads) - 1)

    def _log(self) -> None:
        ws = self._sheet("Valideringslogg", streaming=True)
        f = self.f
        findings = self.b.report.findings
        ws.write_string(0, 0, f"Valideringslogg – {len(findings)} fynd", f.title)
        note = "Fel stoppar en inlämning; varningar ska kontrolleras men stoppar inte."
        if self.b.masked:
            note += (" I den maskerade versionen visas inga värden ur filerna; se den omaskerade "
                     "sammanställningen.")
        ws.write_string(1, 0, note, f.muted)
        heads = ["Allvarlighet", "Fil", "Enhet", "Period", "Flik", "Cell", "Regel", "Meddelande",
                 "Värde", "Förväntat", "Enhets-id", "Regelkod"]
        for col, (head, width) in enumerate(
                zip(heads, [11, 34, 26, 9, 20, 7, 28, 70, 14, 14, 16, 18], strict=True)):
            ws.write_string(3, col, head, f.head)
            ws.set_column(col, col, width)
        for r, item in enumerate(findings, start=4):
            message, value, expected = item.message, item.value, item.expected
            if self.b.masked:  # a message quotes what was typed: values, sums, the file's own
                               # numbers
                message, value, expected = f"{item.title}.", "", ""
            self.rows.put_row(ws, r, [(str(item.severity),
                                       f.fel if item.severity == Severity.ERROR else f.wrap)] + [
                (text, f.wrap) for text in (item.file,
                                            self._unit_name(item.unit) if item.unit else "",
                                            item.period, item.sheet, item.cell, item.title, message,
                                            value, expected, item.unit, item.code)])
        ws.freeze_panes(4, 0)
        if findings:
            ws.autofilter(3, 0, 3 + len(findings), len(heads) - 1)

    def _data(self) -> None:
        ws = self._sheet("Data", streaming=True)
        heads = DATA_HEADS + (["Maskering"] if self.b.masked else [])
        for col, width in enumerate(_DATA_WIDTHS + ([10] if self.b.masked else [])):
            ws.set_column(col, col, width)
        self.long.write(ws, "Data", heads, self.f.head, "Table Style Medium 2")
        ws.freeze_panes(1, 0)

    def _about(self) -> None:
        ws = self._sheet("Om sammanställningen", landscape=False)
        f = self.f
        ws.set_column(0, 0, 110)
        lines = [
            (f.title, "Om sammanställningen" + (" (maskerad version)" if self.b.masked else "")),
            (f.wrap, f"{self.c.board.name}, {self.c.board.municipality}. "
                     f"Period: {self.period.label}."),
            (f.wrap, "Perioder i underlaget: " + ", ".join(str(p) for p in self.b.periods) + "."),
            (f.wrap, "Statusregel: " + STATUS_RULE),
            (f.wrap, ("Sammanvägning: antal och belopp summeras över enheterna; andelar räknas "
                     "från summerade täljare och nämnare; enkätandelar vägs med antal svar.")),
            (f.wrap, ("Bara inlämningar utan fel ingår. Finns två filer för samma enhet och period "
                     "används den nyaste giltiga; se fliken Inlämning.")),
            (f.wrap, f"Skapad av consolidate {__version__}. Katalog: {self._catalog_text()} "
                     f"(fingeravtryck {self.c.fingerprint})."),
        ]
        lines += [(f.wrap, text) for text in about_lines(self.b)]
        if self.b.masked:
            lines.append((f.wrap, MASK_ABOUT.format(limit=self.limit, small=self.limit - 1)))
        for row, (style, text) in enumerate(lines):
            ws.write_string(row, 0, text, style)
            if row:
                ws.set_row(row, 45 if len(text) > 110 else 18)
