"""How every sheet a unit head gets looks on paper and on screen: A4 landscape at the page width,
unit and period in the running head, one font, and cells wide and tall enough for their text.

Neither Excel nor LibreOffice grows a row to fit wrapped text in a file written by a library (and
no program does it for merged cells), so row heights are estimated here from the text and the
column widths, a little on the generous side: a row too tall wastes a line, one too short hides
words."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import Any

FONT = "Calibri"
SIZE = 11
PAPER_A4 = 9
# Inches; the running head sits in the top margin.
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.6}
HEAD_MARGIN = 0.3
# Column width units (the width of a "0" in Calibri 11) that one A4 landscape page holds between
# these margins at 100 %: wider sheets are printed smaller, never on more pages.
PAGE_WIDTH = 140.0
# Characters of ordinary Swedish text per width unit, on the low side (capitals and digits are as
# wide as a "0", most lower-case letters narrower; bold text is wider).
_CHARS_PER_UNIT = {False: 1.15, True: 1.05}
_POINTS_PER_LINE = 15.0  # Calibri 11 on screen and on paper
_PADDING = 4.0


_Part = tuple[tuple[str, str, int], ...]


def _parts(unit: str, period: str) -> tuple[_Part, _Part]:
    """(position, text, size) of the running head and foot: unit and period on the left of the
    head, the sheet on its right; the file's name and the page in the foot."""
    # '&' starts a control code in a header, so a unit named 'Vuxna & missbruk' is escaped.
    who = f"{unit} – {period}".replace("&", "&&")
    return (("L", who, 10), ("R", "&A", 10)), (("L", "&F", 9), ("R", "Sida &P av &N", 9))


def head_and_foot(unit: str, period: str) -> tuple[str, str]:
    """The running head and foot in Excel's header code, for xlsxwriter."""
    def code(part: _Part) -> str:
        # a size runs on into digits that follow it, so a space parts them
        return "".join(f'&{pos}&"{FONT},Regular"&{size}{" " if text[:1].isdigit() else ""}{text}'
                       for pos, text, size in part)

    head, foot = _parts(unit, period)
    return code(head), code(foot)


def lines(text: str, width: float, *, bold: bool = False, size: float = SIZE) -> int:
    """How many lines `text` wraps to in a column `width` units wide (explicit line breaks
    kept)."""
    chars = max(1, int(width * _CHARS_PER_UNIT[bold] * SIZE / size))
    return sum(max(1, len(textwrap.wrap(part, chars))) for part in str(text).split("\n"))


def row_height(cells: Iterable[tuple[str, float]], *, bold: bool = False, size: float = SIZE,
               least: float = 0.0) -> float:
    """Points for a row whose cells hold (text, column width) pairs."""
    most = max((lines(text, width, bold=bold, size=size) for text, width in cells), default=1)
    return max(least, most * _POINTS_PER_LINE * size / SIZE + _PADDING)


def fit_width(texts: Iterable[str], least: float, most: float) -> float:
    """A column width for texts: as wide as the longest line needs, between least and most (a
    longer text wraps), and never narrower than its longest word."""
    found = [str(t) for t in texts if t]
    longest = max((len(line) for t in found for line in t.split("\n")), default=0)
    word = max((len(w) for t in found for w in t.split()), default=0)
    return float(max(least, min(most, math.ceil(longest / _CHARS_PER_UNIT[False]) + 2), word + 2))


def xlsxwriter_print(ws: Any, unit: str, period: str, *, title_row: int | None = None) -> None:
    """Print setup of an xlsxwriter sheet."""
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(**MARGINS)
    head, foot = head_and_foot(unit, period)
    # Head and foot keep their size on a sheet printed smaller to fit the page's width.
    ws.set_header(head, {"margin": HEAD_MARGIN, "scale_with_doc": False})
    ws.set_footer(foot, {"margin": HEAD_MARGIN, "scale_with_doc": False})
    if title_row is not None:
        ws.repeat_rows(title_row)


def openpyxl_print(ws: Any, unit: str, period: str, *, title_row: int | None = None) -> None:
    """The same print setup on an openpyxl sheet; title_row is 1-based."""
    from openpyxl.worksheet.page import PageMargins

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(header=HEAD_MARGIN, footer=HEAD_MARGIN, **MARGINS)
    ws.HeaderFooter.scaleWithDoc = False
    for item, part in zip((ws.oddHeader, ws.oddFooter), _parts(unit, period), strict=True):
        for side in (item.left, item.center, item.right):
            side.text = None
        for pos, text, size in part:
            side = item.left if pos == "L" else item.right
            side.text, side.font, side.size = text, f"{FONT},Regular", size
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"

