"""The workbook part: its sheets and their parts, where each defined name points, percent styles."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from .guard import PACKAGE_RELS, BadXml, Package, UnsafeXml, parse_xml, refuse, resolve_target
from .layout import col_letter

# SpreadsheetML as Excel saves it by default (Transitional, ECMA-376 Part 4) and as "Strict Open XML
# Spreadsheet" (Strict, ECMA-376 Part 1): the same elements in other namespaces. calamine reads
# both.
_MAIN = ("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}",
         "{http://purl.oclc.org/ooxml/spreadsheetml/main}")
_REL_ID = ("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
           "{http://purl.oclc.org/ooxml/officeDocument/relationships}id")
_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d{1,7})$")
# What the main part of other Office packages is, by its root element.
_OTHER_DOCUMENTS = {"document": "ett Word-dokument", "presentation": "en PowerPoint-presentation"}
# Files filled from the same template have byte-identical workbook parts: parse those once.
_CACHED_BOOK_BYTES = 256_000


@dataclass
class Book:
    """What the workbook part says: shared between files with the same parts, so never changed."""

    main: str = "xl/workbook.xml"  # the workbook part's name
    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> part name
    # defined name (lower) -> (sheet, row, column, "B7"), None when it points nowhere
    places: dict[str, tuple[str, int, int, str] | None] = field(default_factory=dict)
    styles: str = ""  # the styles part's name


class _NoRelationships(Exception):
    pass


class _BadRelationships(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _NotWorkbook(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def read_book(package: Package, main: str) -> Book:
    """The workbook part and its relationships part, <folder>/_rels/<name>.rels (ECMA-376 Part 2,
    §9.3)."""
    folder, _, name = main.rpartition("/")
    rels_name = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    workbook = package.read(main)
    rels = package.read(rels_name) if package.has(rels_name) else b""  # b"": missing, said below
    parse = (_parse_book if len(workbook) + len(rels) <= _CACHED_BOOK_BYTES
             else _parse_book.__wrapped__)
    try:
        return parse(workbook, rels, main)
    except _NotWorkbook as other:
        raise refuse("ej_excel", package.label, what=other.what) from None
    except _NoRelationships:
        raise refuse("del_saknas", package.label, part=rels_name) from None
    except _BadRelationships as bad:
        raise refuse(bad.code, package.label, part=rels_name) from None
    except UnsafeXml:
        raise refuse("osaker_xml", package.label, part=main) from None
    except BadXml:
        raise refuse("trasig_xml", package.label, part=main) from None


@functools.lru_cache(maxsize=64)
def _parse_book(workbook: bytes, rels: bytes, main: str) -> Book:
    root = parse_xml(workbook)
    tag = root.tag if isinstance(root.tag, str) else ""
    ns, _, local = tag.rpartition("}")
    if local != "workbook" or f"{ns}}}" not in _MAIN:
        raise _NotWorkbook(_OTHER_DOCUMENTS.get(local, "ett zip-arkiv utan Excel-arbetsbok"))
    if not rels:
        raise _NoRelationships
    main_ns = f"{ns}}}"
    folder = main.rpartition("/")[0]
    targets: dict[str, str] = {}
    styles = ""
    try:
        relationships = parse_xml(rels)
    except UnsafeXml:
        raise _BadRelationships("osaker_xml") from None
    except BadXml:
        raise _BadRelationships("trasig_xml") from None
    for rel in relationships.iter(PACKAGE_RELS):
        if rel.get("TargetMode") == "External":
            continue
        target = resolve_target(folder, rel.get("Target", ""))
        targets[rel.get("Id", "")] = target
        if rel.get("Type", "").endswith("/styles"):
            styles = target
    book = Book(main=main, styles=styles)
    for sheet in root.iter(f"{main_ns}sheet"):
        rid = next((sheet.get(key) for key in _REL_ID if sheet.get(key) is not None), "")
        book.sheets[sheet.get("name", "")] = targets.get(rid or "", "")
    for dn in root.iter(f"{main_ns}definedName"):
        if dn.get("localSheetId") is None:
            ref = (dn.text or "").strip()
            place = _resolve(ref) if ref else None
            book.places[dn.get("name", "").lower()] = (
                None if place is None else (*place, f"{col_letter(place[2])}{place[1] + 1}"))
    return book


def _resolve(ref: str) -> tuple[str, int, int] | None:
    match = _REF.match(ref.removeprefix("="))
    if not match:
        return None
    sheet = (match.group(1) or "").replace("''", "'") or (match.group(2) or "")
    if sheet.upper() == "#REF":  # Excel's mark for a name whose sheet was deleted
        return None
    col = 0
    for ch in match.group(3):
        col = col * 26 + (ord(ch) - 64)
    return sheet, int(match.group(4)) - 1, col - 1


def percent_styles(package: Package, book: Book) -> frozenset[int]:
    """Indexes of the cell formats (cellXfs) that show a number as a percentage."""
    if not book.styles or not package.has(book.styles):
        return frozenset()
    xml = package.read(book.styles)
    try:
        return (_percent_styles(xml) if len(xml) <= _CACHED_BOOK_BYTES
                else _percent_styles.__wrapped__(xml))
    except UnsafeXml:
        raise refuse("osaker_xml", package.label, part=book.styles) from None
    except BadXml:
        raise refuse("trasig_xml", package.label, part=book.styles) from None


# Built-in number formats 9 ("0%") and 10 ("0.00%"), ECMA-376 Part 1, §18.8.30.
_BUILTIN_PERCENT = frozenset({"9", "10"})
# A '%' in a format code that is neither quoted text, escaped, nor inside a [colour] or [condition].
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


@functools.lru_cache(maxsize=64)
def _percent_styles(xml: bytes) -> frozenset[int]:
    root = parse_xml(xml)
    ns = root.tag.rpartition("}")[0] + "}" if isinstance(root.tag, str) else ""
    custom = {fmt.get("numFmtId", ""): "%" in _LITERALS.sub("", fmt.get("formatCode", ""))
              for fmt in root.iter(f"{ns}numFmt")}
    found: set[int] = set()
    for xfs in root.iter(f"{ns}cellXfs"):
        for index, xf in enumerate(xfs.iter(f"{ns}xf")):
            fmt = xf.get("numFmtId", "0")
            if custom.get(fmt, fmt in _BUILTIN_PERCENT):
                found.add(index)
    return frozenset(found)

