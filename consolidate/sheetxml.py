"""What calamine does not tell about a sheet, found in its XML: far cells, formulas, errors,
styles."""

from __future__ import annotations

import re

MAX_ROWS = 10_000
MAX_COLUMNS = 200  # column GR; a template uses fewer than 30
SHEET_LIMITS = f"högst {MAX_ROWS:,} rader och {MAX_COLUMNS} kolumner".replace(",", "\u00a0")

# A cell or row start tag with a reference past MAX_COLUMNS (column GS on) or with a row number of
# five digits or more; far_cell then checks the exact limits and that the cell holds something.
# Tags never hold a raw '<', so every pattern stops at the next one: linear on any input.
_FAR_CELL = re.compile(rb"""<(?:\w+:)?c\s[^<>]*?\br=["']((?:[A-Z]{3}|[H-Z][A-Z]|G[S-Z])\d+|"""
                       rb"""[A-Z]{1,3}\d{5,})["'][^<>]*>""")
_FAR_ROW = re.compile(rb"""<(?:\w+:)?row\s[^<>]*?\br=["'](\d{5,})["'][^<>]*>""")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)[\s>]")
# Cheap first look (a literal prefix the regex engine jumps between): any far reference at all?
_FAR_ANY = re.compile(rb"""r=["'](?:[A-Z]{3}|[H-Z][A-Z]|G[S-Z]|[A-Z]{0,2}\d{5})""")

# A <c> element: its attributes, and its body up to </c>, never past the start of another cell
# (so a cell left open costs one pass, not one pass per later cell).
_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^<>]*?)"
                       rb"(?:/>|>((?:[^<]++|<(?!/?(?:\w+:)?c\b))*+)</(?:\w+:)?c>)")
_CELL_START = re.compile(rb"<(?:\w+:)?c\s")
_CELL_REF = re.compile(rb"""\br=["']\$?([A-Z]{1,3})\$?([0-9]{1,7})["']""")
_STRING_TYPE = re.compile(rb"""\bt=["']str["']""")
_ERROR_TYPE = re.compile(rb"""\bt=["']e["']""")
_STYLE = re.compile(rb"""\bs=["']([0-9]{1,9})["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CACHED = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>[^<]+</")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</")


def far_cell(xml: bytes) -> tuple[str, str] | None:
    """The first cell holding a value beyond MAX_ROWS or MAX_COLUMNS (calamine skips empty ones),
    as (its reference or "", how to name the place in a message)."""
    if _FAR_ANY.search(xml) is None:
        return None
    for match in _FAR_CELL.finditer(xml):
        if match.group(0).endswith(b"/>"):
            continue
        ref = match.group(1).decode("ascii")
        letters = ref.rstrip("0123456789")
        col = 0
        for ch in letters:
            col = col * 26 + (ord(ch) - 64)
        if col > MAX_COLUMNS or int(ref[len(letters):]) > MAX_ROWS:
            return ref, f"cellen {ref}"
    for match in _FAR_ROW.finditer(xml):
        if match.group(0).endswith(b"/>") or int(match.group(1)) <= MAX_ROWS:
            continue
        end = xml.find(b"row>", match.end())
        if _HAS_VALUE.search(xml, match.end(), len(xml) if end < 0 else end):
            return "", f"rad {int(match.group(1))}"
    return None


class SheetXml:
    """One sheet part, looked at lazily: each question is asked rarely, its scan done once."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self._formulas: set[str] | None = None
        self._errors: dict[str, str] | None = None

    def errors(self) -> dict[str, str]:
        """Every error cell: ref -> the error value it shows (a full scan, made once)."""
        if self._errors is None:
            # Error cells are rare: a byte search spares the common sheet any regex pass.
            xml = self.xml
            self._errors = _error_cells(xml) if b't="e"' in xml or b"t='e'" in xml else {}
        return self._errors

    def empty_cell(self, ref: str) -> tuple[str, str] | None:
        """What a cell calamine reads as empty holds all the same: ("fel", "#DIV/0!") for an error
        value (calamine reads those as empty), ("formel", "") for a formula without a cached value.

        Looks at that one cell's XML when its reference is written the usual way; only otherwise
        is the whole sheet scanned (an empty optional cell is common, scans add up)."""
        if self._formulas is not None and self._errors is not None:
            return self._from_scans(ref)
        xml = self.xml
        if b"<f" not in xml and b":f" not in xml:
            self._formulas = set()  # no formula at all: only a typed error value can hide here
            return self._from_scans(ref)
        at = xml.find(b' r="' + ref.encode("ascii") + b'"')
        start = xml.rfind(b"<", 0, at) if at > 0 else -1
        if start >= 0 and _CELL_START.match(xml, start) and xml.find(b">", start, at) < 0:
            end = xml.find(b">", at)
            if end > 0 and xml[end - 1] == 0x2F:  # "/>": an empty cell, as most are
                return None
        match = _CELL_XML.match(xml, start) if start >= 0 else None
        if match is None or not match.start(1) <= at < match.end(1):
            # Written otherwise (other quotes or whitespace, no reference, the text in a string):
            # decide from the full scans.
            self._formulas = _formulas_without_value(xml)
            return self._from_scans(ref)
        if _ERROR_TYPE.search(match.group(1)):
            shown = _VALUE.search(match.group(2) or b"")
            text = shown.group(1).decode("utf-8", "replace").strip() if shown else ""
            return ("fel", text) if text else None  # no error value written: an empty cell
        return ("formel", "") if _lacks_value(match) else None

    def _from_scans(self, ref: str) -> tuple[str, str] | None:
        shown = self.errors().get(ref, "").strip()
        if shown:
            return "fel", shown
        assert self._formulas is not None
        return ("formel", "") if ref in self._formulas else None

    def style(self, ref: str) -> int | None:
        """The cell's format index (its s attribute), when the cell is written with its
        reference."""
        at = self.xml.find(b' r="' + ref.encode("ascii") + b'"')
        start = self.xml.rfind(b"<", 0, at) if at > 0 else -1
        match = _CELL_XML.match(self.xml, start) if start >= 0 else None
        if match is None or not match.start(1) <= at < match.end(1):
            return None
        style = _STYLE.search(match.group(1))
        return int(style.group(1)) if style else 0


def _error_cells(xml: bytes) -> dict[str, str]:
    """Cells of type "e" (a formula's error, or one typed): ref -> what the cell shows,
    "#DIV/0!"."""
    found = {}
    for mark in _ERROR_TYPE.finditer(xml):
        match = _CELL_XML.match(xml, xml.rfind(b"<", 0, mark.start()))
        if match is None or match.end(1) < mark.end():
            continue
        where = _CELL_REF.search(match.group(1))
        shown = _VALUE.search(match.group(2) or b"")
        if where and shown:  # as written: calamine compares it so, untrimmed
            found[(where.group(1) + where.group(2)).decode("ascii")] = (
                shown.group(1).decode("utf-8", "replace"))
    return found


def known_errors_only(xml: bytes, known: frozenset[str]) -> bytes:
    """The sheet with each error value not in `known` written as #N/A (calamine refuses a whole
    sheet for one it does not know); the reader reports the real values from its own scan."""
    out, done = [], 0
    for mark in _ERROR_TYPE.finditer(xml):
        match = _CELL_XML.match(xml, xml.rfind(b"<", 0, mark.start()))
        if match is None or match.end(1) < mark.end() or match.start() < done:
            continue
        shown = _VALUE.search(xml, match.start(2), match.end(2)) if match.group(2) else None
        if shown and shown.group(1).decode("utf-8", "replace") not in known:
            out += [xml[done:shown.start(1)], b"#N/A"]
            done = shown.end(1)
    return b"".join(out) + xml[done:]


def _formulas_without_value(xml: bytes) -> set[str]:
    """Refs of cells holding a formula but no cached value (openpyxl and some tools write these).

    Excel and LibreOffice always store the last computed value; a formula result that is an empty
    string is stored with t="str", so only a formula with no or an empty <v> and no string type
    counts. Only the formulas are visited: <f> is a cell's first child, so its cell starts at the
    '<' before."""
    if b":f" in xml:  # prefixed elements (rare): the regex finds <x:f> too
        starts = [m.start() for m in _FORMULA.finditer(xml)]
    else:
        starts = _formula_starts(xml)
    refs = set()
    for start in starts:
        match = _CELL_XML.match(xml, xml.rfind(b"<", 0, start))
        if match is None or not _lacks_value(match):
            continue
        where = _CELL_REF.search(match.group(1))
        if where:
            refs.add((where.group(1) + where.group(2)).decode("ascii"))
    return refs


def _lacks_value(cell: re.Match[bytes]) -> bool:
    """A <c> element (from _CELL_XML) with a formula and no cached value, not of string type."""
    attrs, body = cell.group(1), cell.group(2) or b""
    return (bool(_FORMULA.search(body)) and not _CACHED.search(body)
            and not _STRING_TYPE.search(attrs))


def _formula_starts(xml: bytes) -> list[int]:
    """Where unprefixed <f> elements start, by plain search (faster than a regex over the sheet)."""
    starts = []
    at = xml.find(b"<f")
    while at >= 0:
        if xml[at + 2:at + 3] in (b">", b" ", b"/", b"\t", b"\r", b"\n"):
            starts.append(at)
        at = xml.find(b"<f", at + 2)
    return starts
