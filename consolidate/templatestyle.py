"""How a unit template looks and guides: colours, number formats, formats and Excel's data
validation."""

from __future__ import annotations

from typing import Any

from .catalog import Indicator
from .printsetup import row_height

INPUT_FILL = "#FFF2CC"
# An input far from the unit's earlier value (templatehistory): orange, as the master marks a value
# to check.
JUMP_FILL, JUMP_FONT = "#FCD5B4", "#974706"
HEAD_FILL = "#1F4E79"
CHECK_RED = "#F8CBAD"
# Number format codes are stored in the file in the OOXML (en-US) form: "," groups thousands and "."
# is the decimal point whatever the locale; Swedish Excel and LibreOffice show "#,##0.0" as
# "1 931,3". A literal space must be escaped ("\ ") or quoted: a bare space after a digit
# placeholder is read by a Swedish LibreOffice as its thousands separator, i.e. a trailing scaling
# comma, and saved back as "0.0,%" (4,2 % then shows as 0,0 %). Excel itself writes such a space
# escaped (Swedish Excel's currency format is '#,##0\ "kr"'), and LibreOffice saves "0.0\ %"
# unchanged.
# tests/test_number_formats.py checks every code the tool writes, and the round trip.
FMT_COUNT = "#,##0"
FMT_DEC1 = "#,##0.0"
FMT_DEC2 = "#,##0.00"
FMT_SHARE = r"0.0\ %"
FMT_SHARE2 = r"0.00\ %"

VALIDATION: dict[str, dict[str, Any]] = {
    "antal": {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "Antal", "input_message": "Skriv ett heltal, 0 eller större (t.ex. 1 931).",
        "error_title": "Fel värde",
        "error_message": "Cellen ska innehålla ett heltal som är 0 eller större.",
    },
    "arsarbetare": {
        "validate": "decimal", "criteria": ">=", "value": 0,
        "input_title": "Årsarbetare", "input_message": "Skriv antal årsarbetare, t.ex. 170,2.",
        "error_title": "Fel värde",
        "error_message": "Cellen ska innehålla ett tal som är 0 eller större (årsarbetare).",
    },
    "mnkr": {
        "validate": "decimal", "criteria": ">=", "value": 0,
        "input_title": "Miljoner kronor",
        "input_message": "Skriv beloppet i mnkr, t.ex. 177,9 (inte tkr).",
        "error_title": "Fel värde",
        "error_message": "Cellen ska innehålla ett belopp i miljoner kronor, 0 eller större.",
    },
    "dygn": {
        "validate": "integer", "criteria": ">=", "value": 0,
        "input_title": "Dygn", "input_message": "Skriv antal dygn som ett heltal.",
        "error_title": "Fel värde",
        "error_message": "Cellen ska innehålla ett heltal som är 0 eller större.",
    },
    "andel": {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
        "input_title": "Andel i procent",
        "input_message": "Skriv andelen med procenttecken, t.ex. 24 % eller 4,2 %.",
        "error_title": "Fel värde",
        "error_message": "Andelen ska vara mellan 0 % och 100 %. Skriv t.ex. 24 % (inte 2400 %).",
    },
    "procent": {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
        "input_title": "Procent", "input_message": "Skriv värdet med procenttecken, t.ex. 85 %.",
        "error_title": "Fel värde", "error_message": "Värdet ska vara mellan 0 % och 100 %.",
    },
    "text": {
        "validate": "length", "criteria": "<=", "value": 1000,
        "input_title": "Kommentar",
        "input_message": "Frivillig kommentar till nämnden (högst 1 000 tecken).",
        "error_title": "För lång text", "error_message": "Kommentaren får vara högst 1 000 tecken.",
    },
}


class Formats:
    """The template's formats, made once per workbook."""

    def __init__(self, wb: Any) -> None:
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "text_wrap": True})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.muted = wb.add_format({**base, "italic": True, "font_color": "#595959",
                                    "text_wrap": True})
        self.head = wb.add_format({**base, "bold": True, "font_color": "#FFFFFF",
                                   "bg_color": HEAD_FILL, "text_wrap": True, "border": 1})
        self.label = wb.add_format({**base, "text_wrap": True, "border": 1})
        self.bold_label = wb.add_format({**base, "bold": True, "border": 1})
        self.check = wb.add_format({**base, "font_color": "#9C0006", "text_wrap": True,
                                    "border": 1})
        self.red = wb.add_format({"bg_color": CHECK_RED, "font_color": "#9C0006"})
        self.shown = {
            key: wb.add_format({**base, "num_format": num, "border": 1, "bg_color": "#F2F2F2"})
            for key, num in (("0", FMT_COUNT), ("1", FMT_DEC1), ("2", FMT_DEC2), ("%", FMT_SHARE),
                             ("%2", FMT_SHARE2))
        }
        self.inputs = {
            kind: wb.add_format({**base, "num_format": num, "locked": False, "bg_color": INPUT_FILL,
                                 "border": 1, **({"text_wrap": True} if kind == "text" else {})})
            for kind, num in (("antal", FMT_COUNT), ("dygn", FMT_COUNT), ("arsarbetare", FMT_DEC1),
                              ("mnkr", FMT_DEC1), ("andel", FMT_SHARE), ("procent", FMT_SHARE),
                              ("text", "@"))
        }


def heading(ws: Any, fmt: Formats, title: str, description: str, widths: list[float]) -> None:
    """A sheet's title and the line under it, each across the table's columns and wrapped, the
    rows as tall as the text needs (a long line in one narrow column was cut off on paper)."""
    total = sum(widths)
    for row, text, style in ((0, title, fmt.title), (1, description, fmt.muted)):
        if len(widths) > 1:
            ws.merge_range(row, 0, row, len(widths) - 1, text, style)
        else:
            ws.write_string(row, 0, text, style)
        big = style is fmt.title
        ws.set_row(row, row_height([(text, total)], bold=big, size=14 if big else 11))


def value_format(fmt: Formats, ind: Indicator) -> Any:
    return fmt.shown[value_format_key(ind.in_percent, ind.decimals)]


def value_text(ind: Indicator, value: float | None) -> str:
    """A nuläge or börläge as the template shows it: '1 931', '4,2 %'."""
    if value is None:
        return ind.target_text or ""
    if ind.in_percent:
        return f"{value * 100:.{max(ind.decimals, 0)}f} %".replace(".", ",")
    return f"{value:,.{ind.decimals}f}".replace(",", " ").replace(".", ",")


_MEASURES = {"antal": "Antal (heltal)", "årsarbetare": "Årsarbetare",
             "mnkr": "Miljoner kronor (mnkr)", "dygn": "Dygn", "procent": "Procent"}


def measure_text(ind: Indicator) -> str:
    if ind.is_share:
        return f"Täljare: {ind.numerator_label}. Nämnare: {ind.denominator_label}."
    return _MEASURES[ind.kind]


def value_format_key(in_percent: bool, decimals: int) -> str:
    """Which of Formats.shown an indicator's value is shown with."""
    if in_percent:
        return "%2" if decimals >= 2 else "%"
    return str(min(decimals, 2))


def share_check(v: str, d: str, otherwise: str = '""') -> str:
    """The Kontroll formula of a share's row: numerator above denominator, a zero denominator,
    else `otherwise` (a formula expression)."""
    return (f'=IF(AND(ISNUMBER({v}),ISNUMBER({d})),IF({v}>{d},"Täljaren är större än nämnaren",'
            f'IF({d}=0,"Nämnaren är 0",{otherwise})),"")')
