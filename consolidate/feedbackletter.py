"""The Återkoppling sheet of a feedback copy: a short letter to the unit head (whose file, for
which period, the verdict, what to do and by when, who to ask), then one row per finding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .layout import FEEDBACK_SHEET
from .model import Finding, Severity, sort_key
from .printsetup import FONT, PAGE_WIDTH, fit_width, openpyxl_print, row_height
from .svformat import count_text

# The findings table's column heads; feedbackmail reads the table by them.
HEADS = ("Allvarlighet", "Fält", "Flik och cell", "Vad är fel och vad som väntas")
NOTHING_FOUND = "Inga fel eller varningar."
MARK = {Severity.ERROR: "FF9C9C", Severity.WARNING: "FFD966"}  # the cells' marks, as in the letter
EDGE = {Severity.ERROR: "C00000", Severity.WARNING: "BF8F00"}
_VERDICT_FILL = {"underkänd": MARK[Severity.ERROR], "godkänd med varningar": MARK[Severity.WARNING],
                 "godkänd": "C6EFCE"}
_HEAD_FILL = "1F4E79"  # the templates' column heads (templatestyle.HEAD_FILL)
_LINK = "0563C1"


@dataclass(frozen=True)
class LetterHead:
    """Who the letter is to and what it is about."""

    unit: str  # the unit's name
    period: str  # 'tertial 1 2026 (jan–apr)'
    heading: str  # 'T1 2026', for the running head
    board: str  # 'Socialnämnden, Exempelkommun'
    file: str  # the checked file's name
    deadline: str = ""  # '10 maj 2026', or '' when the catalog sets none
    contact: str = ""


@dataclass(frozen=True)
class LetterRow:
    severity: Severity
    field: str  # the field's name as the template shows it, or the rule's title
    sheet: str
    cell: str
    what: str  # what is wrong and what is expected

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "hela filen"


def verdict(errors: int, warnings: int) -> str:
    if errors:
        return "underkänd"
    return "godkänd med varningar" if warnings else "godkänd"


def letter_lines(head: LetterHead, rows: Sequence[LetterRow]) -> list[tuple[str, str]]:
    """(style, text) of the letter above the table: title, file, verdict, what to do, who to
    ask."""
    errors = [r for r in rows if r.severity == Severity.ERROR]
    warnings = len(rows) - len(errors)
    said = verdict(len(errors), warnings)
    counts = (f"{count_text(len(errors), 'fel', 'fel')} och "
              f"{count_text(warnings, 'varning', 'varningar')}" if rows
              else "inga fel och inga varningar")
    lines = [("title", f"Återkoppling – {head.unit}, {head.period}"),
             ("muted", ". ".join(filter(None, (head.board, f"Granskad fil: {head.file}"))) + "."),
             ("blank", ""),
             ("verdict", f"Bedömning: {said} – {counts}.")]
    by = f" senast {head.deadline}" if head.deadline else ""
    if errors:
        fix = ("Rätta de röda cellerna i den här filen" if all(r.cell for r in errors)
               else "Rätta felen nedan")
        lines.append(("text", f"{fix} och lämna in den igen i den gemensamma mappen{by}. Filen "
                              "kommer med i sammanställningen när felen är rättade."))
    elif not rows:
        lines.append(("text", "Filen är godkänd och kommer med i sammanställningen. Du behöver "
                              "inte göra något mer. Tack!"))
    else:
        lines.append(("text", "Filen är godkänd och kommer med i sammanställningen."))
    if warnings:
        lines.append(("text", "De gula cellerna är varningar: kontrollera värdet. Stämmer det "
                              "behöver du inte ändra något, men förklara det gärna i kommentaren "
                              "till nämnden."))
    if head.contact:
        lines.append(("text", f"Frågor? Kontakta {head.contact}."))
    lines.append(("blank", ""))
    return lines


def letter_rows(findings: Sequence[Finding], labels: Mapping[tuple[str, str], str],
                sheets: Sequence[str] = ()) -> list[LetterRow]:
    """One row per finding, fel before varningar, each in reading order (the sheets in the
    workbook's order); the field named as the template names it, and the message without that
    name in front."""
    order = {name: index for index, name in enumerate(sheets)}

    def key(f: Finding) -> tuple[bool, int, tuple[str, str, int, int, str, str]]:
        return f.severity != Severity.ERROR, order.get(f.sheet, len(order)), sort_key(f)

    rows = []
    for item in sorted(findings, key=key):
        label = labels.get((item.sheet, item.cell), "")
        rows.append(LetterRow(item.severity, label or item.title, item.sheet, item.cell,
                              _without(item.message, label)))
    return rows


def _without(message: str, label: str) -> str:
    """'Antal …: Texten "ca 60" är inte ett tal.' -> 'Texten "ca 60" är inte ett tal.': a rule's
    message starts with the field's label, or its part before ': ' or ', '."""
    if label:
        for name in sorted({label, label.split(": ")[0], label.split(", ")[0]}, key=len,
                           reverse=True):
            if message.startswith(name + ": ") and len(message) > len(name) + 2:
                rest = message[len(name) + 2:]
                return rest[0].upper() + rest[1:]
    return message


def write_letter(wb: Any, head: LetterHead, rows: Sequence[LetterRow]) -> Any:
    """The Återkoppling sheet, first in the workbook; returns it."""
    from openpyxl.styles import Alignment, Border, Font, Side

    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    widths = _widths(rows)
    total = sum(widths)
    fonts = {"title": Font(name=FONT, size=14, bold=True),
             "muted": Font(name=FONT, size=11, italic=True, color="595959"),
             "verdict": Font(name=FONT, size=11, bold=True), "text": Font(name=FONT, size=11),
             "blank": Font(name=FONT, size=11)}
    lines = letter_lines(head, rows)
    for number, (style, text) in enumerate(lines, start=1):
        cell = ws.cell(row=number, column=1)
        _text(cell, text)
        cell.font, cell.alignment = fonts[style], wrap
        if style == "verdict":
            said = verdict(sum(r.severity == Severity.ERROR for r in rows),
                           sum(r.severity == Severity.WARNING for r in rows))
            cell.fill = _fill(_VERDICT_FILL[said])
        ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(HEADS))
        big = style == "title"
        ws.row_dimensions[number].height = row_height(
            [(text, total)], bold=big or style == "verdict", size=14 if big else 11)
    top = len(lines) + 1
    for col, (title, width) in enumerate(zip(HEADS, widths, strict=True), start=1):
        cell = ws.cell(row=top, column=col, value=title)
        cell.font = Font(name=FONT, size=11, bold=True, color="FFFFFF")
        cell.fill, cell.alignment, cell.border = _fill(_HEAD_FILL), wrap, box
        ws.column_dimensions[cell.column_letter].width = width
    ws.row_dimensions[top].height = row_height(zip(HEADS, widths), bold=True)
    plain = Font(name=FONT, size=11)
    for number, item in enumerate(rows, start=top + 1):
        texts = ("Fel" if item.severity == Severity.ERROR else "Varning", item.field, item.where,
                 item.what)
        for col, text in enumerate(texts, start=1):
            cell = ws.cell(row=number, column=col)
            _text(cell, text)
            cell.font, cell.alignment, cell.border = plain, wrap, box
        ws.cell(row=number, column=1).fill = _fill(MARK[item.severity])
        if item.sheet in wb.sheetnames and item.cell:
            link = ws.cell(row=number, column=3)
            link.hyperlink = _link(link, item.sheet, item.cell)
            link.font = Font(name=FONT, size=11, color=_LINK, underline="single")
        ws.row_dimensions[number].height = row_height(zip(texts, widths))
    if not rows:
        cell = ws.cell(row=top + 1, column=len(HEADS), value=NOTHING_FOUND)
        cell.font, cell.alignment = plain, wrap
    ws.freeze_panes = ws.cell(row=top + 1, column=1).coordinate
    openpyxl_print(ws, head.unit, head.heading, title_row=top)
    return ws


def _widths(rows: Sequence[LetterRow]) -> list[float]:
    """Severity, field and place as wide as they need; the message takes the rest of the page."""
    first = fit_width([HEADS[0], "Varning"], 8, 14)
    field = fit_width([HEADS[1], *(r.field for r in rows)], 16, 40)
    where = fit_width([HEADS[2], *(r.where for r in rows)], 12, 28)
    return [first, field, where, max(50.0, PAGE_WIDTH - first - field - where)]


def _fill(rgb: str) -> Any:
    from openpyxl.styles import PatternFill

    return PatternFill("solid", start_color=rgb, end_color=rgb)


def _link(cell: Any, sheet: str, ref: str) -> Any:
    """An in-workbook link (location, not an external target), as Excel writes one."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    return Hyperlink(ref=cell.coordinate, location="'" + sheet.replace("'", "''") + "'!" + ref)


def _text(cell: Any, value: str) -> None:
    """Write text as text: openpyxl would make a formula of a string starting with '='."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"
