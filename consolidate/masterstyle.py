"""How the master workbook looks: its formats, status colours, number formats and masking notes."""

from __future__ import annotations

from typing import Any

from .boardmodel import Status
from .catalog import Indicator
from .model import UnitState

STATUS_FILL = {Status.GREEN: "#C6EFCE", Status.YELLOW: "#FFEB9C", Status.RED: "#FFC7CE",
               Status.GREY: "#D9D9D9"}
STATUS_FONT = {Status.GREEN: "#006100", Status.YELLOW: "#7F6000", Status.RED: "#9C0006",
               Status.GREY: "#404040"}
STATUS_LABEL = {Status.GREEN: "● Grön", Status.YELLOW: "● Gul", Status.RED: "● Röd",
                Status.GREY: "● Grå"}
# A value to check (consolidate.doubt): orange, as Excel's "Neutral" cell style is yellow.
DOUBT_FILL, DOUBT_FONT = "#FCD5B4", "#974706"
STATE_FILL = {UnitState.DELIVERED: "#C6EFCE", UnitState.MISSING: "#FFC7CE",
              UnitState.REJECTED: "#FFC7CE", UnitState.DUPLICATE: "#FFEB9C",
              UnitState.STRAY: "#D9D9D9"}
# Number format codes in their OOXML form ("," groups thousands, "." is the decimal point; Swedish
# Excel and LibreOffice show "# ##0,0"). The space before a unit is escaped or quoted, never bare: a
# Swedish LibreOffice reads a bare space after a digit as its thousands separator and saves "0 %" as
# "0,%" and '#,##0.0 "mnkr"' as '#,##0.0,"mnkr"' (a thousandth of the amount). "0.0\ %" (as Excel
# escapes a space) and '#,##0.0" mnkr"' are the forms LibreOffice writes back, so a save leaves them
# unchanged.
SHARE_FORMAT = r"0.0\ %"
COUNT_FORMAT = "#,##0"


def num_format(ind: Indicator) -> str:
    decimals = "." + "0" * ind.decimals if ind.decimals else ""
    if ind.is_share:
        return "0" + decimals + r"\ %"
    return COUNT_FORMAT + decimals + ('" mnkr"' if ind.kind == "mnkr" else "")


MASK_LEGEND = ("Maskerad: \"<{limit}\" är ett antal från 1 till {small}; \"..\" är dolt så att "
               "inget litet antal kan räknas fram.")
MASK_ABOUT = ("Maskerad version (röjandekontroll): antal från 1 till {small} visas som "
              "\"<{limit}\". Fler celler döljs och visas som \"..\" (sekundär maskering), så att "
              "inget dolt antal kan räknas fram ur summor, andelar, andra flikar eller andra "
              "perioder i filen. Andelar, summor och enheternas delar som skulle avslöja ett dolt "
              "antal döljs också. Status bedöms inte för ett dolt värde. Fritext med siffror visas "
              "inte, och valideringsloggen visar inga värden.")


class Formats:
    """The workbook's formats, made once; `num(code)` makes number formats as they are needed."""


def formats(wb: Any) -> Any:
    f = Formats()
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
    f.count = wb.add_format({**base, "num_format": COUNT_FORMAT, "border": 1})  # type: ignore[attr-defined]
    f.count_bold = wb.add_format({**base, "num_format": COUNT_FORMAT, "border": 1, "bold": True})  # type: ignore[attr-defined]
    f.share = wb.add_format({**base, "num_format": SHARE_FORMAT, "border": 1})  # type: ignore[attr-defined]
    f.mono = wb.add_format({**base, "font_name": "Consolas", "border": 1})  # type: ignore[attr-defined]
    f.fel = wb.add_format({**base, "border": 1, "bold": True, "font_color": "#9C0006"})  # type: ignore[attr-defined]
    f.status = {s: wb.add_format({**base, "text_wrap": True, "border": 1, "bold": True,  # type: ignore[attr-defined]
                                  "bg_color": STATUS_FILL[s], "font_color": STATUS_FONT[s]})
                for s in STATUS_FILL}
    f.state = {s: wb.add_format({**base, "border": 1, "bg_color": c})  # type: ignore[attr-defined]
               for s, c in STATE_FILL.items()}
    cache: dict[tuple[str, bool, bool, bool], Any] = {}

    def num(code: str, bold: bool = False, italic: bool = False, doubt: bool = False) -> Any:
        key = (code, bold, italic, doubt)
        if key not in cache:
            extra = {"italic": True, "font_color": "#7F7F7F"} if italic else {}
            if doubt:
                extra |= {"bg_color": DOUBT_FILL, "font_color": DOUBT_FONT}
            cache[key] = wb.add_format({**base, "num_format": code, "border": 1, "bold": bold,
                                        **extra})
        return cache[key]

    f.num = num  # type: ignore[attr-defined]
    return f
