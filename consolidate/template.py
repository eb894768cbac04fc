"""Write the unit templates (xlsxwriter): protected sheets, named input cells, live checks."""

from __future__ import annotations

import datetime as dt
import errno
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .catalog import Catalog, Table
from .deadlines import sv_date
from .errors import UsageError
from .layout import (
    COL_BASELINE,
    COL_CHECK,
    COL_COMMENT,
    COL_DENOM,
    COL_GOAL,
    COL_MEASURE,
    COL_NAME,
    COL_SHARE,
    COL_TARGET,
    COL_VALUE,
    FIRST_ROW,
    HEADER_ROW,
    INDICATOR_SHEET,
    INSTRUCTION_SHEET,
    META_SHEET,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    InputCell,
    Layout,
    TableBlock,
    build_layout,
    col_letter,
)
from .periods import MONTHS, Period
from .plan import absence
from .printsetup import fit_width, row_height, xlsxwriter_print
from .templatehistory import UnitHistory, history_lines, write_history
from .templatestyle import (
    VALIDATION,
    Formats,
    heading,
    measure_text,
    share_check,
    value_format,
    value_text,
)

_OS_REASONS = {
    errno.ENOTDIR: "är ingen mapp (en del av sökvägen är en fil)",
    errno.EEXIST: "finns redan och är ingen mapp",
    errno.EACCES: "går inte att skriva till (behörighet saknas)",
    errno.EPERM: "går inte att skriva till (behörighet saknas)",
    errno.EROFS: "ligger på en skrivskyddad disk",
    errno.ENOSPC: "kan inte skrivas: disken är full",
}


def template_filename(catalog: Catalog, unit_id: str, period: Period) -> str:
    return f"{period}_{unit_id}.xlsx"


def write_templates(catalog: Catalog, period: Period, out_dir: Path,
                    unit_ids: Iterable[str] | None = None,
                    history: Mapping[str, UnitHistory] | None = None) -> list[Path]:
    """Write one template per unit valid in the period; unknown units, and units not in the period's
    plan (not started, ended, merged), are refused before anything is written. `history`
    (templatehistory.read_history): earlier values to show beside the inputs, per unit."""
    wanted = list(unit_ids) if unit_ids else [u.id for u in catalog.units_in(period)]
    unknown = [u for u in wanted if u not in catalog.unit_ids()]
    if unknown:
        raise UsageError(
            f"Okänd enhet: {', '.join(unknown)}. "
            f"Enheter i katalogen: {', '.join(catalog.unit_ids())}."
        )
    absent = [absence(catalog, u, period) for u in wanted if not catalog.unit_active(u, period)]
    if absent:
        raise UsageError(f"Ingen mall för {period}: {'; '.join(absent)} (se katalogen).")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return [write_template(catalog, unit, period,
                               out_dir / template_filename(catalog, unit, period),
                               (history or {}).get(unit))
                for unit in wanted]
    except OSError as exc:
        reason = _OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))
        raise UsageError(f"Mallarna kan inte skrivas till {out_dir}: "
                         f"{exc.filename or out_dir} {reason}.") from None


def write_template(catalog: Catalog, unit_id: str, period: Period, path: Path,
                   history: UnitHistory | None = None) -> Path:
    """Write one template atomically: a temp file in the same folder, then rename."""
    layout = build_layout(catalog, unit_id, period)
    return write_atomically(path, lambda tmp: _write(catalog, layout, tmp, history))


def _write(catalog: Catalog, layout: Layout, path: Path, history: UnitHistory | None) -> None:
    import xlsxwriter

    unit = catalog.unit(layout.unit_id)
    period = layout.period
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    # Fixed document date so the same catalog and period give the same bytes.
    start = dt.datetime(period.year, period.first_month, 1)
    wb.set_properties({
        "title": f"Tertialuppföljning {period} – {unit.name}",
        "subject": f"{catalog.board.name}, {period.label}",
        "author": catalog.board.administration,
        "company": catalog.board.municipality,
        "comments": "Mall skapad av consolidate. Fyll bara i de gula cellerna.",
        "created": start,
    })
    wb.set_custom_property("consolidate_mall", TEMPLATE_ID)
    fmt = Formats(wb)
    _instructions(wb, fmt, catalog, layout, history_lines(catalog, history))
    _indicator_sheet(wb, fmt, catalog, layout)
    if history is not None:
        write_history(wb, fmt, catalog, layout, history)
    for block in layout.tables:
        _table_sheet(wb, fmt, catalog, layout, block)
    for cell in layout.cells:
        wb.define_name(cell.name, f"='{cell.sheet}'!${col_letter(cell.col)}${cell.row + 1}")
    meta = wb.add_worksheet(META_SHEET)
    for row, (key, value) in enumerate(meta_rows(catalog, layout)):
        meta.write_string(row, 0, key)
        meta.write_string(row, 1, value)
    meta.protect()
    meta.hide()
    wb.close()


def meta_rows(catalog: Catalog, layout: Layout) -> list[tuple[str, str]]:
    unit = catalog.unit(layout.unit_id)
    return [
        ("typ", "enhetsmall"),
        ("mall_id", TEMPLATE_ID),
        ("mallversion", str(TEMPLATE_VERSION)),
        ("namnd", catalog.board.id),
        ("enhet", unit.id),
        ("enhetsnamn", unit.name),
        ("period", str(layout.period)),
        ("katalog", catalog.fingerprint),
        # What the template's cells are, for this unit and period only: a later change of the plan
        # elsewhere leaves it equal, so the reader can tell what (if anything) a file lacks.
        ("innehall", catalog.template_fingerprint(unit.id, layout.period)),
    ]


def _input(ws: Any, fmt: Formats, cell: InputCell) -> None:
    ws.write_blank(cell.row, cell.col, None, fmt.inputs[cell.kind])
    ws.data_validation(cell.row, cell.col, cell.row, cell.col, dict(VALIDATION[cell.kind]))


def _setup(ws: Any, layout: Layout, unit: str) -> None:
    ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True,
                    "insert_columns": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})
    ws.freeze_panes(FIRST_ROW, 0)
    xlsxwriter_print(ws, unit, layout.period.heading, title_row=HEADER_ROW)


def _instructions(wb: Any, fmt: Formats, catalog: Catalog, layout: Layout,
                  extra: list[str]) -> None:
    ws = wb.add_worksheet(INSTRUCTION_SHEET)
    unit = catalog.unit(layout.unit_id)
    width = 125
    ws.set_column(0, 0, width)
    xlsxwriter_print(ws, unit.name, layout.period.heading)
    lines = [
        (fmt.title, f"Tertialuppföljning {layout.period.label} – {unit.name}"),
        (fmt.text, (f"{catalog.board.name}, {catalog.board.municipality}. Mallen gäller bara "
                    f"{unit.name} och perioden {layout.period}.")),
        (fmt.text, ""),
        (fmt.text, "Så fyller du i mallen"),
        (fmt.text, "1. Fyll i de gula cellerna på flikarna. Övriga celler är låsta."),
        (fmt.text, ("2. Skriv tal som vanligt: 1 931, 170,2 eller 4,2 %. "
                    "Belopp anges i miljoner kronor (mnkr).")),
        (fmt.text, ("3. Andelar på fliken Indikatorer fylls i som täljare och nämnare; "
                    "andelen räknas ut åt dig.")),
        (fmt.text, ("4. Lämna inte en cell tom om värdet är noll: skriv 0. "
                    "En tom cell betyder att värdet saknas.")),
        (fmt.text, ("5. Kontrollkolumnen blir röd när delarna inte stämmer med SUMMA, "
                    "när andelarna inte stämmer med antalen eller inte blir 100 %. "
                    "Rätta innan du lämnar in.")),
        (fmt.text, ("6. Du får infoga rader och kolumner, "
                    "men byt inte namn på flikarna och ta inte bort celler.")),
        (fmt.text, "7. Spara som Excel-arbetsbok (.xlsx) och lämna filen i den gemensamma mappen."),
        *((fmt.text, line) for line in extra),
        (fmt.text, ""),
        *_deadline_line(fmt, catalog, layout),
        (fmt.muted, (f"Frågor: {catalog.board.contact}. Mallversion {TEMPLATE_VERSION}, "
                     f"katalog {catalog.fingerprint}.")),
    ]
    for row, (style, text) in enumerate(lines):
        ws.write_string(row, 0, text, style)
        big = style is fmt.title
        ws.set_row(row, row_height([(text, width)], bold=big, size=14 if big else 11))
    ws.protect("", {"select_locked_cells": True})
    ws.activate()


def _deadline_line(fmt: Formats, catalog: Catalog, layout: Layout) -> list[tuple[Any, str]]:
    due = catalog.settings.deadlines.due(layout.period)
    if due is None:
        return []
    return [(fmt.title, f"Lämna in senast {sv_date(due)}."), (fmt.text, "")]


def _indicator_sheet(wb: Any, fmt: Formats, catalog: Catalog, layout: Layout) -> None:
    ws = wb.add_worksheet(INDICATOR_SHEET)
    unit = catalog.unit(layout.unit_id)
    heads = ["Målområde", "Indikator", "Mäts som", "Värde / täljare", "Nämnare", "Andel (beräknas)",
             "Nuläge", "Börläge", "Kommentar till nämnden", "Kontroll"]
    # What the locked columns show, row by row: their widths follow what they hold.
    shown = [{COL_GOAL: ind.goal_area, COL_NAME: ind.name, COL_MEASURE: measure_text(ind),
              COL_BASELINE: value_text(ind, ind.baseline),
              COL_TARGET: f"{value_text(ind, ind.target)} ({ind.target_year})"}
             for ind in layout.indicators]
    fitted = {COL_GOAL: (14, 26), COL_NAME: (20, 40), COL_MEASURE: (14, 30), COL_BASELINE: (9, 14),
              COL_TARGET: (10, 16)}
    widths = [fit_width([heads[col], *(r[col] for r in shown)], *fitted[col]) if col in fitted
              else {COL_COMMENT: 30.0, COL_CHECK: 26.0}.get(col, 12.0)
              for col in range(len(heads))]
    heading(ws, fmt, f"Indikatorer – {unit.name}, {layout.period.label}",
            "Fyll i periodens utfall i de gula cellerna. Andelar anges som täljare och nämnare.",
            widths)
    _heads(ws, fmt, heads, widths)
    by_id = {c.scope + ":" + c.field: c for c in layout.indicator_cells}
    for offset, (ind, texts) in enumerate(zip(layout.indicators, shown, strict=True)):
        row = FIRST_ROW + offset
        ws.set_row(row, row_height([(text, widths[col]) for col, text in texts.items()],
                                   least=34))
        for col, text in texts.items():
            ws.write_string(row, col, text, fmt.label)
        if ind.is_share:
            _input(ws, fmt, by_id[ind.id + ":taljare"])
            _input(ws, fmt, by_id[ind.id + ":namnare"])
            v, d = f"{col_letter(COL_VALUE)}{row + 1}", f"{col_letter(COL_DENOM)}{row + 1}"
            ws.write_formula(row, COL_SHARE,
                             f'=IF(AND(ISNUMBER({v}),ISNUMBER({d}),{d}>0),{v}/{d},"")',
                             value_format(fmt, ind), "")
            ws.write_formula(row, COL_CHECK, share_check(v, d), fmt.check, "")
        else:
            _input(ws, fmt, by_id[ind.id + ":varde"])
            ws.write_blank(row, COL_DENOM, None, fmt.label)
            ws.write_blank(row, COL_SHARE, None, fmt.label)
            ws.write_blank(row, COL_CHECK, None, fmt.check)
        _input(ws, fmt, by_id[ind.id + ":kommentar"])
    last = FIRST_ROW + max(len(layout.indicators), 1) - 1
    ws.conditional_format(FIRST_ROW, COL_CHECK, last, COL_CHECK,
                          {"type": "formula",
                           "criteria": f"=LEN(${col_letter(COL_CHECK)}{FIRST_ROW + 1})>0",
                           "format": fmt.red})
    _setup(ws, layout, unit.name)


def _table_sheet(wb: Any, fmt: Formats, catalog: Catalog, layout: Layout,
                 block: TableBlock) -> None:
    table = block.table
    ws = wb.add_worksheet(table.sheet)
    cells = {(c.item, c.field): c for c in block.cells}
    if table.kind == "fordelning":
        widths = _distribution(ws, fmt, table, cells)
    elif table.kind == "enkat":
        widths = _survey(ws, fmt, table, cells)
    elif table.kind == "manad":
        widths = _monthly(ws, fmt, table, cells, layout.period)
    else:
        widths = _varav(ws, fmt, table, cells)
    heading(ws, fmt, table.title, table.description, widths)
    _setup(ws, layout, catalog.unit(layout.unit_id).name)


def _heads(ws: Any, fmt: Formats, heads: list[str], widths: list[float]) -> list[float]:
    for col, (head, width) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(HEADER_ROW, col, head, fmt.head)
        ws.set_column(col, col, width)
    ws.set_row(HEADER_ROW, row_height(zip(heads, widths), bold=True, least=20))
    return widths


def _label(ws: Any, row: int, text: str, width: float, style: Any) -> None:
    """A row's label in the first column, the row as tall as the label needs."""
    ws.write_string(row, 0, text, style)
    ws.set_row(row, row_height([(text, width)], least=20))


def _red_when_text(ws: Any, fmt: Formats, first: int, last: int, col: int) -> None:
    ws.conditional_format(first, col, last, col, {
        "type": "formula", "criteria": f"=LEN(${col_letter(col)}{first + 1})>0", "format": fmt.red})


def _distribution(ws: Any, fmt: Formats, table: Table,
                  cells: dict[tuple[str, str], InputCell]) -> list[float]:
    check_col = 3 if table.with_share else 2
    heads = ["Kategori", table.count_label] + (["Andel"] if table.with_share else []) + ["Kontroll"]
    first = fit_width(["Kategori", "SUMMA", *(r.label for r in table.rows)], 16, 40)
    widths = _heads(ws, fmt, heads, [first, fit_width([table.count_label], 12, 20)]
                    + ([12.0] if table.with_share else []) + [36.0])
    summa_row = FIRST_ROW + len(table.rows)
    total = f"$B${summa_row + 1}"
    for offset, trow in enumerate(table.rows):
        row = FIRST_ROW + offset
        _label(ws, row, trow.label, first, fmt.label)
        _input(ws, fmt, cells[(trow.id, "antal")])
        if table.with_share:
            _input(ws, fmt, cells[(trow.id, "andel")])
            b, c = f"B{row + 1}", f"C{row + 1}"
            # Honest rounding: a share typed with d decimals may differ from count/total by half a
            # unit.
            ws.write_formula(row, check_col,
                             f'=IF(AND(ISNUMBER({b}),ISNUMBER({c}),ISNUMBER({total}),{total}>0),'
                             f'IF(ABS({c}-{b}/{total})>0.005+1E-9,'
                             '"Andelen stämmer inte med antalet",""),"")',
                             fmt.check, "")
        else:
            ws.write_blank(row, check_col, None, fmt.check)
    _label(ws, summa_row, "SUMMA", first, fmt.bold_label)
    _input(ws, fmt, cells[("summa", "antal")])
    first, last = FIRST_ROW + 1, summa_row
    parts = f"SUM(B{first}:B{last})"
    otherwise = '""'
    if table.with_share:
        _input(ws, fmt, cells[("summa", "andel")])
        shares, n = f"C{first}:C{last}", len(table.rows)
        # Shares typed as whole percent may each be half a percent off, so their sum may be n/2 off.
        otherwise = (f'IF(AND(ISNUMBER($C${summa_row + 1}),ABS($C${summa_row + 1}-1)>0.005+1E-9),'
                     f'"SUMMA-andelen ska vara 100 %",'
                     f'IF(AND(COUNT({shares})={n},ABS(SUM({shares})-1)>{n}*0.005+1E-9),'
                     f'"Andelarna blir "&ROUND(SUM({shares})*100,1)&" %, inte 100 %",""))')
    ws.write_formula(summa_row, check_col,
                     f'=IF(AND(ISNUMBER({total}),{parts}<>{total}),'
                     f'"Delarna blir "&{parts}&", inte SUMMA",'
                     f'{otherwise})', fmt.check, "")
    _red_when_text(ws, fmt, FIRST_ROW, summa_row, check_col)
    return widths


def _survey(ws: Any, fmt: Formats, table: Table,
            cells: dict[tuple[str, str], InputCell]) -> list[float]:
    first = fit_width(["Antal inkomna enkäter", *(r.label for r in table.rows)], 30, 70)
    widths = _heads(ws, fmt, ["Fråga", "Mycket nöjd / helt nöjd", "Kontroll"], [first, 16, 34])
    for offset, trow in enumerate(table.rows):
        row = FIRST_ROW + offset
        _label(ws, row, trow.label, first, fmt.label)
        _input(ws, fmt, cells[(trow.id, "andel")])
        ws.write_blank(row, 2, None, fmt.check)
    row = FIRST_ROW + len(table.rows)
    _label(ws, row, "Antal inkomna enkäter", first, fmt.bold_label)
    _input(ws, fmt, cells[("svar", "antal")])
    answers = f"B{FIRST_ROW + 1}:B{row}"
    ws.write_formula(row, 2, f'=IF(AND(ISNUMBER(B{row + 1}),B{row + 1}=0,COUNT({answers})>0),'
                             f'"Inga enkäter men andelar ifyllda","")', fmt.check, "")
    _red_when_text(ws, fmt, FIRST_ROW, row, 2)
    return widths


def _monthly(ws: Any, fmt: Formats, table: Table, cells: dict[tuple[str, str], InputCell],
             period: Period) -> list[float]:
    heads = ["Serie"] + [m.capitalize() for m in MONTHS] + ["Summa", "Kontroll"]
    first = fit_width([r.label for r in table.rows], 16, 34)
    widths = _heads(ws, fmt, heads, [first] + [8.0] * 12 + [10.0, 20.0])
    for offset, trow in enumerate(table.rows):
        row = FIRST_ROW + offset
        _label(ws, row, trow.label, first, fmt.label)
        for month in MONTHS:
            _input(ws, fmt, cells[(trow.id, month)])
        ws.write_formula(row, 13, f"=SUM(B{row + 1}:M{row + 1})", fmt.shown["0"], 0)
        need = f"B{row + 1}:{col_letter(period.last_month)}{row + 1}"
        ws.write_formula(row, 14, f'=IF(COUNT({need})<{period.last_month},'
                                  f'"Fyll i jan–{MONTHS[period.last_month - 1]}","")',
                                  fmt.check, "")
    _red_when_text(ws, fmt, FIRST_ROW, FIRST_ROW + len(table.rows) - 1, 14)
    return widths


def _varav(ws: Any, fmt: Formats, table: Table,
           cells: dict[tuple[str, str], InputCell]) -> list[float]:
    first = fit_width([table.total_label or "Totalt",
                       *(f"   varav {r.label.lower()}" for r in table.rows)], 24, 50)
    widths = _heads(ws, fmt, ["", "Antal", "Kontroll"], [first, 12, 32])
    _label(ws, FIRST_ROW, table.total_label or "Totalt", first, fmt.bold_label)
    _input(ws, fmt, cells[("total", "antal")])
    total = f"$B${FIRST_ROW + 1}"
    for offset, trow in enumerate(table.rows, start=1):
        row = FIRST_ROW + offset
        _label(ws, row, f"   varav {trow.label.lower()}", first, fmt.label)
        _input(ws, fmt, cells[(trow.id, "antal")])
        ws.write_formula(row, 2, f'=IF(AND(ISNUMBER(B{row + 1}),ISNUMBER({total}),'
                                 f'B{row + 1}>{total}),'
                                 f'"Större än totalen","")', fmt.check, "")
    last = FIRST_ROW + len(table.rows)
    if table.complete:
        parts = f"B{FIRST_ROW + 2}:B{last + 1}"
        ws.write_formula(FIRST_ROW, 2, f'=IF(AND(ISNUMBER({total}),COUNT({parts})>0,'
                                       f'SUM({parts})<>{total}),'
                                       f'"Delarna blir "&SUM({parts})&", inte totalen","")',
                                       fmt.check, "")
    else:
        ws.write_blank(FIRST_ROW, 2, None, fmt.check)
    _red_when_text(ws, fmt, FIRST_ROW, last, 2)
    return widths
