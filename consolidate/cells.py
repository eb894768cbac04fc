"""Input cells by defined name: sheets through calamine, Swedish numbers, merged and error cells."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from .book import Book, percent_styles
from .catalog import Catalog
from .findings import finding
from .guard import Package, refuse
from .layout import InputCell, build_layout, col_letter
from .model import CellValue, Finding
from .numbers import parse_cell
from .periods import Period
from .plan import template_changes
from .sheetxml import MAX_ROWS, SHEET_LIMITS, SheetXml, far_cell, known_errors_only

# Raw text of input cells whose value cannot be read; the finding says why, no other rule fires.
UNREAD_FORMULA = "(formel utan värde)"
UNREAD_MERGED = "(sammanfogad cell)"
UNREAD_NAME = "(namnet saknas)"

# The error values calamine reads (as an empty cell); any other makes it refuse the whole sheet.
_CALAMINE_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
                              ""})
# What an error value means, for the unit head. Excel and LibreOffice store the English value in
# the file (<c t="e"><v>#DIV/0!</v></c>, also when the UI is Swedish); Swedish LibreOffice shows
# its own names, which reach a file only as text (pasted or typed), and mean the same.
_MEANINGS = {
    "#DIV/0!": "formeln delar med noll",
    "#N/A": "ett värde som formeln letar efter saknas",
    "#NAME?": "formeln använder ett namn eller en funktion som inte finns",
    "#NULL!": "formelns områden skär inte varandra",
    "#NUM!": "formeln ger ett ogiltigt tal",
    "#REF!": "formeln hänvisar till en cell som har tagits bort",
    "#VALUE!": "formeln räknar med text eller fel sorts värde",
    "#SPILL!": "formelns resultat får inte plats",
    "#CALC!": "formeln kan inte räknas ut",
    "#GETTING_DATA": "värdet hämtades fortfarande när filen sparades",
}
_SWEDISH = {"#DIVISION/0!": "#DIV/0!", "#SAKNAS!": "#N/A", "#NAMN?": "#NAME?",
            "#SKÄRNING!": "#NULL!", "#TAL!": "#NUM!", "#REFERENS!": "#REF!",
            "#VÄRDEFEL!": "#VALUE!"}
_SOME_ERROR = "formeln ger ett fel"


def error_meaning(shown: str) -> str | None:
    """What an Excel or LibreOffice error value means; None for text that is no error value."""
    key = shown.strip().upper()
    key = _SWEDISH.get(key, key)
    return _MEANINGS.get(key)


@dataclass
class Sheet:
    xml: SheetXml
    rows: list[list[Any]]
    merged: list[tuple[Any, ...]]


class Workbook:
    """The workbook as calamine reads it, opened once; each sheet's XML is checked before calamine
    parses it (calamine builds a dense grid, and refuses a whole sheet for one unknown error
    value)."""

    def __init__(self, package: Package, book: Book) -> None:
        self.package = package
        self.book = book
        self.label = package.label
        self._calamine: Any = None
        self._fixed: dict[str, bytes] = {}  # sheet parts rewritten for calamine
        self._percent: frozenset[int] | None = None

    def _open(self) -> Any:
        import python_calamine

        data = self.package.repacked(self._fixed) if self._fixed else self.package.data
        try:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except python_calamine.CalamineError:
            raise self._unreadable("trasig_fil") from None

    def _unreadable(self, code: str, **fields: Any) -> Exception:
        """calamine finds its workbook part at xl/workbook.xml; elsewhere it may not read it at
        all."""
        if self.book.main != "xl/workbook.xml":
            return refuse("ovanlig_struktur", self.label,
                          part=self.package.parts[self.book.main].filename)
        return refuse(code, self.label, **fields)

    def sheet(self, name: str) -> Sheet:
        import python_calamine

        part = self.book.sheets.get(name, "")
        if not self.package.has(part):
            raise refuse("flik_utan_innehall", self.label, sheet=name, sheet_name=name,
                         part=part or "–")
        xml = self.package.read_xml(part, sheet=name)
        # calamine builds the dense grid from A1 to the last cell holding a value: one value in
        # XFD1048576 makes a 15 KB file ask for gigabytes (and Rust aborts the process), so the
        # sheet XML is checked first.
        far = far_cell(xml)
        if far is not None:
            raise refuse("for_stor_flik", self.label, sheet=name, cell=far[0], sheet_name=name,
                         place=far[1], limits=SHEET_LIMITS)
        scanned = SheetXml(xml)
        try:
            rows, found = self._parse(name)
        except python_calamine.CalamineError:
            # calamine refuses a whole sheet for one error value it does not know (#SPILL!,
            # #CALC!); written as #N/A for calamine, the real values come from the scan.
            if all(shown in _CALAMINE_ERRORS for shown in scanned.errors().values()):
                raise self._unreadable("trasig_flik", sheet=name, sheet_name=name) from None
            self._fixed[part] = known_errors_only(xml, _CALAMINE_ERRORS)
            self._calamine = None
            try:
                rows, found = self._parse(name)
            except python_calamine.CalamineError:
                raise self._unreadable("trasig_flik", sheet=name, sheet_name=name) from None
        if len(rows) > MAX_ROWS:  # cells written without references escape the scan above
            raise refuse("for_stor_flik", self.label, sheet=name, sheet_name=name,
                         place=f"rad {len(rows)}", limits=SHEET_LIMITS)
        # An older python-calamine has no merged_cell_ranges: then no merge can be seen.
        merged = list(getattr(found, "merged_cell_ranges", None) or [])
        return Sheet(scanned, rows, merged)

    def _parse(self, name: str) -> tuple[list[list[Any]], Any]:
        if self._calamine is None:
            self._calamine = self._open()
        found = self._calamine.get_sheet_by_name(name)  # parses the sheet: once
        rows: list[list[Any]] = found.to_python(skip_empty_area=False)
        return rows, found

    def percent_format(self, sheet: Sheet, ref: str) -> bool:
        """Whether the cell's number format shows it as a percentage (read only when it matters)."""
        if self._percent is None:
            self._percent = percent_styles(self.package, self.book)
        style = sheet.xml.style(ref)
        return style is not None and style in self._percent


def read_values(workbook: Workbook, catalog: Catalog, unit: str, period: Period,
                content: str | None = None) -> tuple[list[CellValue], list[Finding]]:
    """Every input cell of the unit's layout, found by its defined name, with the findings on them.

    The layout is the catalog as it stood for the file's period; what a template from another plan
    lacks or has in excess is said once per indicator or table (`content`: the template's own
    fingerprint from _meta, None for older templates), never as a missing cell."""
    book, label = workbook.book, workbook.label
    layout = build_layout(catalog, unit, period)
    period_text = str(period)
    where = {"unit": unit, "period": period_text}
    changes = (template_changes(catalog, unit, period, layout.cells, book.places.keys(), content)
               if catalog.unit_active(unit, period) else ())
    skip: set[str] = set().union(*(c.skip for c in changes))
    found: list[Finding] = [finding(c.code, label, scope=c.scope, **c.params, **where)
                            for c in changes]
    sheets: dict[str, Sheet] = {}
    located: list[tuple[InputCell, str, int, int, str]] = []
    gone: set[str] = set()  # template sheets reported missing, once each
    renamed: dict[str, str] = {}  # template sheet -> the name it has now
    rows: list[CellValue] = []

    def unread(cell: InputCell, sheet: str, ref: str, marker: str) -> None:
        rows.append(CellValue(label, unit, period_text, sheet, ref, cell.name, cell.scope,
                              cell.item, cell.field, cell.kind, cell.required, None, None, marker))

    def sheet_gone(sheet: str, cell: InputCell) -> None:
        if sheet not in gone:
            gone.add(sheet)
            found.append(finding("flik_saknas", label, sheet=sheet, scope=cell.scope,
                                 expected=sheet, sheet_name=sheet, **where))

    for cell in layout.cells:
        if cell.name in skip:
            continue
        place = book.places.get(cell.name.lower())
        if place is None:
            if cell.sheet not in book.sheets:
                sheet_gone(cell.sheet, cell)
                continue
            found.append(finding("namn_saknas", label, sheet=cell.sheet, cell=cell.ref,
                                 scope=cell.scope, expected=cell.name, label=cell.label,
                                 name=cell.name, **where))
            unread(cell, cell.sheet, cell.ref, UNREAD_NAME)
            continue
        sheet, row, col, ref = place
        if sheet not in book.sheets:
            sheet_gone(sheet, cell)
            continue
        if sheet != cell.sheet and cell.sheet not in renamed:
            renamed[cell.sheet] = sheet
            found.append(finding("flik_omdopt", label, sheet=sheet, scope=cell.scope, value=sheet,
                                 expected=cell.sheet, sheet_name=cell.sheet, new_name=sheet,
                                 **where))
        if sheet not in sheets:
            sheets[sheet] = workbook.sheet(sheet)
        located.append((cell, sheet, row, col, ref))
    for cell, sheet, row, col, ref in located:
        read = sheets[sheet]
        grid = read.rows
        raw = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        inside = _merged_inside(read.merged, row, col) if read.merged else None
        hidden = read.xml.empty_cell(ref) if inside is None and (raw is None or raw == "") else None
        if inside is not None or hidden is not None:
            at = {"sheet": sheet, "cell": ref, "scope": cell.scope, **where}
            if inside is not None:
                found.append(finding("sammanfogad", label, **at, ref=ref, label=cell.label,
                                     merged=inside))
                marker = UNREAD_MERGED
            elif hidden is not None and hidden[0] == "fel":
                found.append(_error(label, at, cell, hidden[1]))
                marker = hidden[1]  # what the cell shows: not blank, so "saknas" does not fire too
            else:
                found.append(finding("formel_utan_varde", label, **at, ref=ref, label=cell.label))
                marker = UNREAD_FORMULA
            unread(cell, sheet, ref, marker)
            continue
        parsed = parse_cell(raw, cell.kind)
        if (parsed.code == "procent_skala" and not isinstance(raw, str)
                and workbook.percent_format(read, ref)):
            # a number shows as its percentage
            parsed = parse_cell(raw, cell.kind, percent_format=True)
        raw_text = "" if raw is None else _raw_text(raw)
        value: float | None = None
        if parsed.code is None:
            value = parsed.value
        else:
            at = {"sheet": sheet, "cell": ref, "scope": cell.scope, **where}
            if parsed.code == "ej_tal" and error_meaning(raw_text) is not None:
                # an error value kept as text
                found.append(_error(label, at, cell, raw_text.strip()))
            else:
                found.append(finding(parsed.code, label, **at, value=raw_text, label=cell.label,
                                     **(parsed.params or {})))
        rows.append(CellValue(label, unit, period_text, sheet, ref, cell.name, cell.scope,
                              cell.item, cell.field, cell.kind, cell.required, value, parsed.text,
                              raw_text))
    return rows, found


def _error(label: str, at: dict[str, str], cell: InputCell, shown: str) -> Finding:
    return finding("excel_fel", label, **at, value=shown, ref=at["cell"], label=cell.label,
                   error=shown, meaning=error_meaning(shown) or _SOME_ERROR)


def _raw_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _merged_inside(ranges: list[tuple[Any, ...]], row: int, col: int) -> str | None:
    """The merged range that swallowed this cell (any cell of it but the top left one)."""
    for rng in ranges:
        try:
            (r0, c0), (r1, c1) = rng[0], rng[1]
        except (TypeError, ValueError):
            continue
        if r0 <= row <= r1 and c0 <= col <= c1 and (row, col) != (r0, c0):
            return f"{col_letter(c0)}{r0 + 1}:{col_letter(c1)}{r1 + 1}"
    return None
