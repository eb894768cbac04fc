"""Read returned workbooks: check they are our templates, find inputs by defined name, parse values."""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import io
import re
import stat as stat_mode
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .findings import legacy_finding
from .model import CELL_COLUMNS, CellValue, Finding, Submission
from .layout import META_SHEET, TEMPLATE_ID, TEMPLATE_VERSION, InputCell, build_layout, col_letter
from .numbers import parse_cell
from .periods import Period, find_period_in_text, parse_period

# Limits against hostile files (zip bombs, huge sheets): far above any real template. In decimal
# megabytes, as the messages state them.
MAX_FILE_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 100_000_000
MAX_PART_BYTES = 25_000_000
MAX_RATIO = 200
MAX_SHEETS = 200
MAX_ROWS = 10_000
MAX_COLUMNS = 200  # column GR; a template uses fewer than 30
_SHEET_LIMITS = f"högst {MAX_ROWS:,} rader och {MAX_COLUMNS} kolumner".replace(",", "\u00a0")

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d{1,7})$")
# The tool's own outputs that are never submissions. A feedback copy ("återkoppling") is not one of
# them: a unit head corrects the marked cells in it and hands it in again.
TOOL_KINDS = {"sammanställning": "en sammanställning"}
# Raw text of input cells whose value cannot be read; the finding says why, no other rule fires.
UNREAD_FORMULA = "(formel utan värde)"
UNREAD_MERGED = "(sammanfogad cell)"
UNREAD_NAME = "(namnet saknas)"

def frame_of(submissions: list[Submission]) -> Any:
    """One long polars frame of every value, each keeping its file, sheet and cell."""
    import polars as pl

    rows = [cell for sub in submissions for cell in sub.cells]
    return pl.DataFrame(rows, schema=_schema(), orient="row")


def frame_from_columns(columns: list[list[Any]]) -> Any:
    """The same frame from column lists (what worker processes send back instead of row tuples)."""
    import polars as pl

    return pl.DataFrame(dict(zip(CELL_COLUMNS, columns, strict=True)), schema=_schema())


def columns_of(submissions: list[Submission]) -> list[list[Any]]:
    """Values as column lists; plain Python, so a forked worker never touches polars' threads."""
    rows = [cell for sub in submissions for cell in sub.cells]
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in CELL_COLUMNS]


def _schema() -> dict[str, Any]:
    import polars as pl

    return {
        "file": pl.String, "unit": pl.String, "period": pl.String, "sheet": pl.String,
        "cell": pl.String, "name": pl.String, "scope": pl.String, "item": pl.String,
        "field": pl.String, "kind": pl.String, "required": pl.Boolean, "value": pl.Float64,
        "text": pl.String, "raw": pl.String,
    }


def is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$") or path.name.startswith(".~lock")


def file_label(path: Path, root: Path | None) -> str:
    """The file's name for people: relative to the checked folder, always printable text.

    A name that is not valid UTF-8 (Latin-1 bytes from an old share) reaches Python with
    surrogates, which no report, workbook or terminal can encode: those bytes show as U+FFFD."""
    label = path.name
    if root is not None:
        try:
            label = path.relative_to(root).as_posix()
        except ValueError:
            pass
    return label.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _Refused(Exception):
    def __init__(self, found: Finding) -> None:
        super().__init__(found.message)
        self.finding = found


def read_submission(path: Path, catalog: Catalog, root: Path | None = None) -> Submission:
    """Read one workbook. Never raises for what is in the file: problems become findings."""
    label = file_label(path, root)
    if _links_out(path, root):
        try:
            modified = path.lstat().st_mtime
        except OSError:
            modified = 0.0
        return Submission(str(path), label, 0, modified, "", findings=(legacy_finding("lank_utanfor", label, (
            "Filen är en länk (genväg) till en fil utanför mappen och läses inte. Lägg själva "
            "arbetsboken i mappen.")),))
    try:
        stat = path.stat()
        if not stat_mode.S_ISREG(stat.st_mode):  # a FIFO or device would block or never end
            return Submission(str(path), label, 0, stat.st_mtime, "", findings=(
                legacy_finding("oläsbar", label, "Filen kan inte läsas: det är ingen vanlig fil."),))
        data = path.read_bytes() if stat.st_size <= MAX_FILE_BYTES else b""
    except OSError as exc:
        return Submission(str(path), label, 0, 0.0, "", findings=(
            legacy_finding("oläsbar", label, f"Filen kan inte läsas: {_os_reason(exc)}."),))
    base = Submission(str(path), label, stat.st_size, stat.st_mtime, hashlib.sha256(data).hexdigest())
    try:
        return _read(base, data, path, catalog, root)
    except _Refused as refused:
        return _replace(base, findings=(refused.finding,))
    except Exception:  # noqa: BLE001 - a bug in the reader must not stop a run with a traceback
        return _replace(base, findings=(legacy_finding("trasig_fil", label, (
            "Arbetsboken kan inte läsas (oväntat innehåll). Spara den igen i Excel och lämna in på "
            "nytt; hör av dig till den som kör sammanställningen om felet kvarstår.")),))


def _links_out(path: Path, root: Path | None) -> bool:
    """A symbolic link, in a checked folder, to something outside that folder."""
    if root is None or not path.is_symlink():
        return False
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def _os_reason(exc: OSError) -> str:
    """Why the file system refused, in Swedish (the OS's own text may be English)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "behörighet saknas"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "filen finns inte"
    if exc.errno == errno.EISDIR:
        return "det är en mapp"
    return "okänt fel"


def _replace(base: Submission, **changes: Any) -> Submission:
    values = {k: getattr(base, k) for k in base.__dataclass_fields__}
    values.update(changes)
    return Submission(**values)


def _read(base: Submission, data: bytes, path: Path, catalog: Catalog, root: Path | None) -> Submission:
    label = base.file
    suffix = path.suffix.lower()
    if base.size == 0:
        raise _Refused(legacy_finding("tom_fil", label, "Filen är tom (0 byte). Spara arbetsboken igen och lämna in den på nytt."))
    if base.size > MAX_FILE_BYTES:
        raise _Refused(legacy_finding("for_stor", label, f"Filen är {base.size // 1_000_000} MB; en ifylld mall är under 1 MB. Den läses inte."))
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTED in data:
            raise _Refused(legacy_finding("losenord", label, "Arbetsboken är lösenordsskyddad och kan inte läsas. Ta bort lösenordet (Arkiv > Info > Skydda arbetsbok) och lämna in igen."))
        raise _Refused(legacy_finding("gammalt_format", label, "Filen är i det gamla Excel-formatet (.xls). Öppna den i Excel och spara som Excel-arbetsbok (.xlsx)."))
    if suffix == ".xls":
        raise _Refused(legacy_finding("gammalt_format", label, "Filen har ändelsen .xls. Spara som Excel-arbetsbok (.xlsx)."))
    if not data.startswith(b"PK"):
        what = "en textfil (t.ex. CSV)" if _looks_like_text(data) else "inte en Excel-arbetsbok"
        raise _Refused(legacy_finding("ej_excel", label, f"Filen är {what}, trots ändelsen {suffix or '(ingen)'}. Använd mallen och spara som .xlsx."))
    try:
        archive = _Zip(data)
        names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _Refused(legacy_finding("trasig_fil", label, "Filen är skadad eller avkortad (zip-arkivet går inte att öppna). Spara arbetsboken igen och lämna in den på nytt.")) from None
    _check_sizes(archive, label)
    if "content.xml" in names and "xl/workbook.xml" not in names:
        raise _Refused(legacy_finding("ods", label, "Filen är sparad i OpenDocument-format (.ods). Spara som Excel-arbetsbok (.xlsx) i LibreOffice: Arkiv > Spara som > Excel 2007-365."))
    if "xl/workbook.bin" in names:
        raise _Refused(legacy_finding("ej_excel", label, "Filen är sparad som binär Excel-arbetsbok (.xlsb). Spara som Excel-arbetsbok (.xlsx) och lämna in igen."))
    if "xl/workbook.xml" not in names:
        raise _Refused(legacy_finding("ej_excel", label, "Filen är ett zip-arkiv men ingen Excel-arbetsbok."))
    if "xl/vbaProject.bin" in names:
        raise _Refused(legacy_finding("makro", label, "Arbetsboken innehåller makron. Makron körs aldrig; spara som Excel-arbetsbok (.xlsx) utan makron och lämna in igen."))
    if suffix == ".xlsm":
        raise _Refused(legacy_finding("makro", label, "Filen har ändelsen .xlsm (arbetsbok med makron). Spara som Excel-arbetsbok (.xlsx) och lämna in igen."))
    book = _workbook_xml(archive, label)
    extra: list[Finding] = []
    if any(n.startswith("xl/externalLinks/") for n in names):
        extra.append(legacy_finding("extern_lank", label, "Arbetsboken har länkar till andra filer. Länkarna följs inte; bara sparade värden läses."))
    if len(book.sheets) > MAX_SHEETS:
        raise _Refused(legacy_finding("for_stor", label, f"Arbetsboken har {len(book.sheets)} flikar; mallen har färre än 20. Den läses inte."))
    workbook = _open_calamine(data, label) if META_SHEET in book.sheets else None
    meta = _meta(workbook, archive, book, label)
    kind = meta.get("typ", "")
    if kind in TOOL_KINDS:
        return _replace(base, tool_output=kind, unit=meta.get("enhet", ""), period=meta.get("period", ""),
                        readable=True)
    if meta.get("mall_id") != TEMPLATE_ID:
        raise _Refused(legacy_finding("ej_mall", label, "Arbetsboken är inte en av nämndens mallar (den dolda fliken _meta saknas eller är ändrad). Hämta mallen för er enhet och perioden och fyll i den."))
    version = meta.get("mallversion", "")
    if version != str(TEMPLATE_VERSION):
        raise _Refused(legacy_finding("gammal_mall", label, f"Arbetsboken är gjord med mallversion {version or 'okänd'}; nu gäller version {TEMPLATE_VERSION}. Flytta över värdena till den nya mallen.", value=version, expected=str(TEMPLATE_VERSION)))
    unit = meta.get("enhet", "")
    if not catalog.has_unit(unit):
        raise _Refused(legacy_finding("okand_enhet", label, f"Enheten '{unit}' i arbetsboken finns inte i katalogen.", value=unit))
    try:
        period = parse_period(meta.get("period", ""))
    except Exception:
        raise _Refused(legacy_finding("ej_mall", label, f"Perioden '{meta.get('period', '')}' i arbetsbokens dolda flik går inte att tolka.")) from None
    where = {"unit": unit, "period": str(period)}
    _check_place(path, root, unit, period, catalog, label)
    if meta.get("katalog") != catalog.fingerprint:
        extra.append(legacy_finding("annan_katalog", label, "Mallen skapades från en tidigare version av katalogen. Värdena läses ändå, men kontrollera att alla rader finns med.", **where))
    cells, found = _values(workbook, archive, book, catalog, unit, period, label)
    # A feedback copy nobody has changed is our own output to `run`; a corrected one is a submission.
    digest = values_digest(cells)
    unchanged = kind == "återkoppling" and meta.get("vardehash") == digest
    return _replace(base, unit=unit, period=str(period), cells=tuple(cells), unchanged_copy=unchanged,
                    findings=tuple(extra + found), readable=True, n_values=len(cells), digest=digest,
                    template_catalog=meta.get("katalog", ""))


def values_digest(cells: Sequence[CellValue]) -> str:
    """A fingerprint of what was typed (name and raw text of every input cell)."""
    text = "\n".join(sorted(f"{c.name}\t{c.raw}" for c in cells))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _looks_like_text(data: bytes) -> bool:
    head = data[:2048]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _check_sizes(archive: zipfile.ZipFile, label: str) -> None:
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_PART_BYTES or total > MAX_UNPACKED_BYTES or (
            info.file_size > 1_000_000 and ratio > MAX_RATIO
        ):
            raise _Refused(legacy_finding("for_stor", label, f"Filen packas upp till mer än {MAX_UNPACKED_BYTES // 1_000_000} MB eller är orimligt hårt packad (del {info.filename}). Den läses inte."))
        # Deflate adds at most a few bytes per 16 KB to data it cannot pack: a part much larger
        # packed than unpacked has a forged size (a zip bomb behind a small declared size).
        if info.compress_size > info.file_size + info.file_size // 1000 + 1024:
            raise _Refused(legacy_finding("trasig_fil", label, f"Arbetsbokens innehåll är skadat: delen {info.filename} är större packad än uppackad enligt filen. Den läses inte; spara arbetsboken igen i Excel och lämna in på nytt."))


class _Zip(zipfile.ZipFile):
    """A zip in memory that keeps its bytes, so that its parts can be inflated directly."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.data = data


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length


def _read_part(archive: _Zip, part: str | zipfile.ZipInfo, label: str) -> bytes:
    """One part of the zip, in bounded memory whatever its declared sizes say.

    zipfile's archive.read() inflates the whole member before cutting it to the declared size;
    this inflates at most the declared size (+1, to notice more). Raises KeyError for a missing part."""
    info = part if isinstance(part, zipfile.ZipInfo) else archive.getinfo(part)
    if info.file_size > MAX_PART_BYTES:
        raise _Refused(legacy_finding("for_stor", label, f"Delen {info.filename} packas upp till mer än {MAX_PART_BYTES // 1_000_000} MB. Filen läses inte."))
    try:
        data = _inflate(archive.data, info)
        if data is None:  # another method or encryption: zipfile, still bounded
            with archive.open(info) as handle:
                data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, struct.error, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError):
        raise _Refused(legacy_finding("trasig_fil", label, _DAMAGED)) from None
    if len(data) > info.file_size:
        raise _Refused(legacy_finding("trasig_fil", label, f"Arbetsbokens innehåll är skadat: delen {info.filename} är större än filen anger. Den läses inte; spara arbetsboken igen i Excel och lämna in på nytt."))
    return data


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A stored or deflated part straight from the file's bytes (zipfile's reader costs more than
    the inflating for parts this small), checked against its CRC; None for anything else."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile("no local header")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    packed = data[start:start + info.compress_size]
    if len(packed) < info.compress_size:
        raise zipfile.BadZipFile("truncated")
    if info.compress_type == zipfile.ZIP_STORED:
        out = packed[:info.file_size + 1]
    else:
        out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(packed, info.file_size + 1)
    if len(out) == info.file_size and zlib.crc32(out) != info.CRC:
        raise zipfile.BadZipFile("bad CRC")
    if len(out) < info.file_size:
        raise zipfile.BadZipFile("short part")
    return out


_DAMAGED = "Arbetsbokens innehåll är skadat och kan inte läsas. Spara den igen i Excel och lämna in på nytt."


@dataclass
class _Book:
    """What workbook.xml says: shared between files with the same parts, so never changed."""

    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> part path in the zip
    names: dict[str, str] = field(default_factory=dict)   # defined name (lower) -> reference text
    # defined name (lower) -> (sheet, row, column, "B7"), None when it points nowhere
    places: dict[str, tuple[str, int, int, str] | None] = field(default_factory=dict)


class _UnsafeXml(Exception):
    pass


class _BadXml(Exception):
    pass


def _workbook_xml(archive: _Zip, label: str) -> _Book:
    try:
        workbook = _read_part(archive, "xl/workbook.xml", label)
        rels = _read_part(archive, "xl/_rels/workbook.xml.rels", label)
    except KeyError:
        raise _Refused(legacy_finding("trasig_fil", label, _DAMAGED)) from None
    try:
        # A template's parts are a few KB; larger ones are parsed without being kept.
        small = len(workbook) + len(rels) <= _CACHED_BOOK_BYTES
        return _parse_book(workbook, rels) if small else _parse_book.__wrapped__(workbook, rels)
    except _UnsafeXml:
        raise _Refused(legacy_finding("osaker_xml", label, "Arbetsboken innehåller otillåtna XML-konstruktioner (entiteter eller externa referenser) och läses inte.")) from None
    except _BadXml:
        raise _Refused(legacy_finding("trasig_fil", label, _DAMAGED)) from None


# Files filled from the same template have byte-identical workbook parts: parse those once.
_CACHED_BOOK_BYTES = 256_000


@functools.lru_cache(maxsize=64)
def _parse_book(workbook: bytes, rels: bytes) -> _Book:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(workbook)
        rels_root = ElementTree.fromstring(rels)
    except DefusedXmlException:
        raise _UnsafeXml from None
    except (ElementTree.ParseError, ValueError):
        raise _BadXml from None
    targets = {}
    for rel in rels_root.iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[rel.get("Id", "")] = target
    book = _Book()
    for sheet in root.iter(f"{_NS_MAIN}sheet"):
        book.sheets[sheet.get("name", "")] = targets.get(sheet.get(f"{_NS_REL}id", ""), "")
    for dn in root.iter(f"{_NS_MAIN}definedName"):
        if dn.get("localSheetId") is None:
            book.names[dn.get("name", "").lower()] = (dn.text or "").strip()
    for name, ref in book.names.items():
        place = _resolve(ref) if ref else None
        book.places[name] = None if place is None else (*place, f"{col_letter(place[2])}{place[1] + 1}")
    return book


def _open_calamine(data: bytes, label: str) -> Any:
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:
        raise _Refused(legacy_finding("trasig_fil", label, "Arbetsboken kan inte läsas (skadat innehåll). Spara den igen i Excel och lämna in på nytt.")) from None


@dataclass
class _Sheet:
    xml: bytes  # the sheet part, for what calamine does not tell (formulas without a value)
    rows: list[list[Any]]
    merged: list[tuple[Any, ...]]
    _formulas: set[str] | None = None

    def formula_without_value(self, ref: str) -> bool:
        """Whether the (empty) cell at ref holds a formula without a cached value.

        Looks at that one cell's XML when its reference is written the usual way; only otherwise
        are all the sheet's formulas scanned (an empty optional cell is common, scans add up)."""
        if self._formulas is not None:
            return ref in self._formulas
        xml = self.xml
        if b"<f" not in xml and b":f" not in xml:
            self._formulas = set()
            return False
        at = xml.find(b' r="' + ref.encode("ascii") + b'"')
        start = xml.rfind(b"<", 0, at) if at > 0 else -1
        if start >= 0 and _CELL_START.match(xml, start) and xml.find(b">", start, at) < 0:
            end = xml.find(b">", at)
            if end > 0 and xml[end - 1] == 0x2F:  # "/>": an empty cell, as most are
                return False
        match = _CELL_XML.match(xml, start) if start >= 0 else None
        if match is None or not match.start(1) <= at < match.end(1):
            # Written otherwise (other quotes or whitespace, no reference, the text in a string):
            # decide from the full scan.
            self._formulas = _formulas_without_value(xml)
            return ref in self._formulas
        return _lacks_value(match)


def _sheet(workbook: Any, archive: _Zip, book: _Book, sheet: str, label: str) -> _Sheet:
    part = book.sheets.get(sheet, "")
    try:
        xml = _read_part(archive, part, label)
    except KeyError:
        raise _Refused(legacy_finding("trasig_fil", label, f"Fliken '{sheet}' saknar innehåll i filen.")) from None
    # calamine builds the dense grid from A1 to the last cell holding a value: one value in
    # XFD1048576 makes a 15 KB file ask for gigabytes (and Rust aborts the process), so the
    # sheet XML is checked first.
    far = _far_cell(xml)
    if far is not None:
        raise _Refused(legacy_finding("for_stor", label, f"Fliken '{sheet}' har innehåll i {far}, långt utanför mallen ({_SHEET_LIMITS} läses). Ta bort det och lämna in igen."))
    try:
        found = workbook.get_sheet_by_name(sheet)  # parses the sheet: once
        rows: list[list[Any]] = found.to_python(skip_empty_area=False)
    except Exception:
        raise _Refused(legacy_finding("trasig_fil", label, f"Fliken '{sheet}' kan inte läsas (skadat innehåll).")) from None
    if len(rows) > MAX_ROWS:
        raise _Refused(legacy_finding("for_stor", label, f"Fliken '{sheet}' har {len(rows)} rader; mallen har färre än 100. Den läses inte."))
    try:
        merged = list(found.merged_cell_ranges or [])
    except Exception:
        merged = []
    return _Sheet(xml, rows, merged)


# A cell or row start tag with a reference past MAX_COLUMNS (column GS on) or with a row number of
# five digits or more; _far_cell then checks the exact limits and that the cell holds something.
# Tags never hold a raw '<', so every pattern stops at the next one: linear on any input.
_FAR_CELL = re.compile(rb"""<(?:\w+:)?c\s[^<>]*?\br=["']((?:[A-Z]{3}|[H-Z][A-Z]|G[S-Z])\d+|[A-Z]{1,3}\d{5,})["'][^<>]*>""")
_FAR_ROW = re.compile(rb"""<(?:\w+:)?row\s[^<>]*?\br=["'](\d{5,})["'][^<>]*>""")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)[\s>]")
# Cheap first look (a literal prefix the regex engine jumps between): any far reference at all?
_FAR_ANY = re.compile(rb"""r=["'](?:[A-Z]{3}|[H-Z][A-Z]|G[S-Z]|[A-Z]{0,2}\d{5})""")


def _far_cell(xml: bytes) -> str | None:
    """The first cell holding a value beyond MAX_ROWS or MAX_COLUMNS (calamine skips empty ones)."""
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
            return f"cellen {ref}"
    for match in _FAR_ROW.finditer(xml):
        if match.group(0).endswith(b"/>") or int(match.group(1)) <= MAX_ROWS:
            continue
        end = xml.find(b"row>", match.end())
        if _HAS_VALUE.search(xml, match.end(), len(xml) if end < 0 else end):
            return f"rad {int(match.group(1))}"
    return None


def _meta(workbook: Any, archive: _Zip, book: _Book, label: str) -> dict[str, str]:
    if workbook is None:
        return {}
    rows = _sheet(workbook, archive, book, META_SHEET, label).rows
    meta: dict[str, str] = {}
    for row in rows[:50]:
        if len(row) >= 2 and isinstance(row[0], str) and row[0]:
            value = row[1]
            meta[row[0]] = value if isinstance(value, str) else (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    return meta


def _check_place(path: Path, root: Path | None, unit: str, period: Period, catalog: Catalog, label: str) -> None:
    """A file whose name or folder suggests another period or unit than its meta is refused."""
    where = {"unit": unit, "period": str(period)}
    by_name = find_period_in_text(path.name)
    if by_name is not None and by_name != period:
        raise _Refused(legacy_finding("fel_period", label, f"Filnamnet anger {by_name}, men mallen gäller {period}. Kontrollera att rätt mall har fyllts i för rätt period.", **where, value=str(period), expected=str(by_name)))
    for folder in _folders(path, root):
        by_folder = find_period_in_text(folder)
        if by_folder is not None:
            if by_folder != period:
                raise _Refused(legacy_finding("fel_period", label, f"Filen ligger i mappen '{folder}' ({by_folder}), men mallen gäller {period}. Kontrollera att rätt mall har fyllts i och att filen ligger i rätt mapp.", **where, value=str(period), expected=str(by_folder)))
            break
    named = _units_named(path.stem, catalog)
    if named:
        longest = max(named, key=len)
        if longest != unit and unit not in named:
            name = catalog.unit(unit).name
            raise _Refused(legacy_finding("fel_enhet_fil", label, f"Filnamnet anger enheten '{longest}', men mallen gäller {name} ({unit}). Kontrollera att rätt enhets mall har använts.", **where, value=unit, expected=longest))


_NOT_ID = re.compile(r"[^a-z0-9_]+")


def _units_named(stem: str, catalog: Catalog) -> set[str]:
    """Unit ids in a file name as whole words ('_' joins or separates them): '2025-T2_barn_unga_v2'
    names barn_unga, 'vuxenstöd' names no unit vuxen. One set lookup per run of words: thousands of
    units cost nothing per file."""
    found = set()
    for chunk in _NOT_ID.split(stem.lower()):
        words = chunk.split("_")
        for start in range(len(words)):
            for end in range(start + 1, len(words) + 1):
                candidate = "_".join(words[start:end])
                if catalog.has_unit(candidate):
                    found.add(candidate)
    return found


def _folders(path: Path, root: Path | None) -> list[str]:
    """Folder names from the file upwards: up to and including the checked folder, or just the parent."""
    if root is None:
        return [path.parent.name]
    try:
        inside = path.parent.relative_to(root)
    except ValueError:
        return [path.parent.name]
    return [*reversed(inside.parts), _folder_name(str(root.absolute()))]


@functools.lru_cache(maxsize=64)
def _folder_name(root: str) -> str:
    """The checked folder's real name ('.' or a link named 'aktuell' says nothing); once per run."""
    return Path(root).resolve().name


def _resolve(ref: str) -> tuple[str, int, int] | None:
    text = ref.removeprefix("=")
    match = _REF.match(text)
    if not match:
        return None
    sheet = (match.group(1) or "").replace("''", "'") or (match.group(2) or "")
    if sheet.upper() == "#REF":  # Excel's mark for a name whose sheet was deleted
        return None
    letters, digits = match.group(3), match.group(4)
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return sheet, int(digits) - 1, col - 1


def _values(workbook: Any, archive: _Zip, book: _Book, catalog: Catalog, unit: str,
            period: Period, label: str) -> tuple[list[CellValue], list[Finding]]:
    layout = build_layout(catalog, unit, period)
    period_text = str(period)
    where = {"unit": unit, "period": period_text}
    found: list[Finding] = []
    sheets: dict[str, _Sheet] = {}
    located: list[tuple[InputCell, str, int, int, str]] = []
    gone: set[str] = set()  # template sheets reported missing, once each
    renamed: dict[str, str] = {}  # template sheet -> the name it has now
    rows: list[CellValue] = []

    def unread(cell: InputCell, sheet: str, ref: str, marker: str) -> None:
        rows.append(CellValue(label, unit, period_text, sheet, ref, cell.name, cell.scope, cell.item,
                              cell.field, cell.kind, cell.required, None, None, marker))

    def sheet_gone(sheet: str, cell: InputCell) -> None:
        if sheet not in gone:
            gone.add(sheet)
            found.append(legacy_finding("flik_saknas", label, f"Fliken '{sheet}' saknas (borttagen eller omdöpt). Byt tillbaka namnet eller använd en ny mall och fyll i fliken.", sheet=sheet, scope=cell.scope, expected=sheet, **where))

    for cell in layout.cells:
        place = book.places.get(cell.name.lower())
        if place is None:
            if cell.sheet not in book.sheets:
                sheet_gone(cell.sheet, cell)
                continue
            found.append(legacy_finding("namn_saknas", label, f"Cellen för \"{cell.label}\" hittas inte: det definierade namnet {cell.name} är borttaget eller pekar på en raderad cell (#REFERENS!). Värdet läses inte; skriv in det i en ny mall.", sheet=cell.sheet, cell=cell.ref, scope=cell.scope, expected=cell.name, **where))
            unread(cell, cell.sheet, cell.ref, UNREAD_NAME)
            continue
        sheet, row, col, ref = place
        if sheet not in book.sheets:
            sheet_gone(sheet, cell)
            continue
        if sheet != cell.sheet and cell.sheet not in renamed:
            renamed[cell.sheet] = sheet
            found.append(legacy_finding("flik_omdopt", label, f"Fliken '{cell.sheet}' har bytt namn till '{sheet}'. Värdena läses ändå via cellernas namn, men byt gärna tillbaka namnet.", sheet=sheet, scope=cell.scope, value=sheet, expected=cell.sheet, **where))
        if sheet not in sheets:
            sheets[sheet] = _sheet(workbook, archive, book, sheet, label)
        located.append((cell, sheet, row, col, ref))
    for cell, sheet, row, col, ref in located:
        read = sheets[sheet]
        grid = read.rows
        raw = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        inside = _merged_inside(read.merged, row, col) if read.merged else None
        if inside is not None:
            found.append(legacy_finding("sammanfogad", label, f"Cellen {ref} (\"{cell.label}\") ingår i den sammanfogade cellen {inside}, så dess värde har gått förlorat. Dela upp den sammanfogade cellen och fyll i värdet igen.", sheet=sheet, cell=ref, scope=cell.scope, **where))
            unread(cell, sheet, ref, UNREAD_MERGED)
            continue
        if (raw is None or raw == "") and read.formula_without_value(ref):
            found.append(legacy_finding("formel_utan_varde", label, f"{cell.label}: cellen {ref} innehåller en formel utan sparat värde. Öppna och spara filen i Excel och lämna in den igen; värdet läses inte som 0.", sheet=sheet, cell=ref, scope=cell.scope, **where))
            unread(cell, sheet, ref, UNREAD_FORMULA)
            continue
        parsed = parse_cell(raw, cell.kind)
        raw_text = "" if raw is None else _raw_text(raw)
        value: float | None = None
        if parsed.code is not None:
            found.append(legacy_finding(parsed.code, label, f"{cell.label}: {parsed.message}", value=raw_text, sheet=sheet, cell=ref, scope=cell.scope, **where))
        else:
            value = parsed.value
        rows.append(CellValue(label, unit, period_text, sheet, ref, cell.name, cell.scope, cell.item,
                              cell.field, cell.kind, cell.required, value, parsed.text, raw_text))
    return rows, found


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


# A <c> element: its attributes, and its body up to </c>, never past the start of another cell
# (so a cell left open costs one pass, not one pass per later cell).
_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^<>]*?)(?:/>|>((?:[^<]++|<(?!/?(?:\w+:)?c\b))*+)</(?:\w+:)?c>)")
_CELL_START = re.compile(rb"<(?:\w+:)?c\s")
_CELL_REF = re.compile(rb"""\br=["']\$?([A-Z]{1,3})\$?([0-9]{1,7})["']""")
_STRING_TYPE = re.compile(rb"""\bt=["']str["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CACHED = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>[^<]+</")


def _formulas_without_value(xml: bytes) -> set[str]:
    """Refs of cells holding a formula but no cached value (openpyxl and some tools write these).

    Excel and LibreOffice always store the last computed value; a formula result that is an empty
    string is stored with t="str", so only a formula with no or an empty <v> and no string type counts.
    Only the formulas are visited: <f> is a cell's first child, so its cell starts at the '<' before."""
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
    return bool(_FORMULA.search(body)) and not _CACHED.search(body) and not _STRING_TYPE.search(attrs)


_CANDIDATE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".xlsb"})


def _formula_starts(xml: bytes) -> list[int]:
    """Where unprefixed <f> elements start, by plain search (faster than a regex over the sheet)."""
    starts = []
    at = xml.find(b"<f")
    while at >= 0:
        if xml[at + 2:at + 3] in (b">", b" ", b"/", b"\t", b"\r", b"\n"):
            starts.append(at)
        at = xml.find(b"<f", at + 2)
    return starts


def iter_workbooks(root: Path) -> Iterator[Path]:
    """Every candidate file under a folder, sorted. A link out of the folder is yielded too, so that
    read_submission can say why it is not read (it never opens the target); folder links are not
    followed."""
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in _CANDIDATE_SUFFIXES:
            continue
        if path.is_file() or _links_out(path, root):
            yield path
