"""Read returned workbooks: check they are our templates, find inputs by defined name, parse values."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .findings import Finding, finding
from .layout import META_SHEET, TEMPLATE_ID, TEMPLATE_VERSION, InputCell, build_layout, col_letter
from .numbers import parse_cell
from .periods import Period, find_period_in_text, parse_period

# Limits against hostile files (zip bombs, huge sheets): far above any real template.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_PART_BYTES = 25 * 1024 * 1024
MAX_RATIO = 200
MAX_SHEETS = 200
MAX_ROWS = 10_000

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

COLUMNS = ("file", "unit", "period", "sheet", "cell", "name", "scope", "item", "field", "kind",
           "required", "value", "text", "raw")


@dataclass(frozen=True)
class Submission:
    """One file as read: its identity, its values (one row per input cell) and its findings."""

    path: str
    file: str
    size: int
    modified: float
    sha256: str
    unit: str = ""
    period: str = ""
    tool_output: str = ""  # set for the tool's own outputs, which are skipped
    unchanged_copy: bool = False  # a feedback copy with the values it was written with
    rows: tuple[tuple[Any, ...], ...] = ()
    findings: tuple[Finding, ...] = ()
    readable: bool = False

    @property
    def modified_text(self) -> str:
        return dt.datetime.fromtimestamp(self.modified).strftime("%Y-%m-%d %H:%M")

    def frame(self) -> Any:
        return frame_of([self])


def frame_of(submissions: list[Submission]) -> Any:
    """One long polars frame of every value, each keeping its file, sheet and cell."""
    import polars as pl

    schema = {
        "file": pl.String, "unit": pl.String, "period": pl.String, "sheet": pl.String,
        "cell": pl.String, "name": pl.String, "scope": pl.String, "item": pl.String,
        "field": pl.String, "kind": pl.String, "required": pl.Boolean, "value": pl.Float64,
        "text": pl.String, "raw": pl.String,
    }
    rows = [row for sub in submissions for row in sub.rows]
    return pl.DataFrame(rows, schema=schema, orient="row")


def is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$") or path.name.startswith(".~lock")


def file_label(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


class _Refused(Exception):
    def __init__(self, found: Finding) -> None:
        super().__init__(found.message)
        self.finding = found


def read_submission(path: Path, catalog: Catalog, root: Path | None = None) -> Submission:
    """Read one workbook. Never raises for what is in the file: problems become findings."""
    label = file_label(path, root)
    try:
        stat = path.stat()
        data = path.read_bytes() if stat.st_size <= MAX_FILE_BYTES else b""
    except OSError as exc:
        return Submission(str(path), label, 0, 0.0, "", findings=(
            finding("oläsbar", label, f"Filen kan inte läsas: {exc.strerror or exc}."),))
    base = Submission(str(path), label, stat.st_size, stat.st_mtime, hashlib.sha256(data).hexdigest())
    try:
        return _read(base, data, path, catalog, root)
    except _Refused as refused:
        return _replace(base, findings=(refused.finding,))


def _replace(base: Submission, **changes: Any) -> Submission:
    values = {k: getattr(base, k) for k in base.__dataclass_fields__}
    values.update(changes)
    return Submission(**values)


def _read(base: Submission, data: bytes, path: Path, catalog: Catalog, root: Path | None) -> Submission:
    label = base.file
    suffix = path.suffix.lower()
    if base.size == 0:
        raise _Refused(finding("tom_fil", label, "Filen är tom (0 byte). Spara arbetsboken igen och lämna in den på nytt."))
    if base.size > MAX_FILE_BYTES:
        raise _Refused(finding("for_stor", label, f"Filen är {base.size // 1_000_000} MB; en ifylld mall är under 1 MB. Den läses inte."))
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTED in data:
            raise _Refused(finding("losenord", label, "Arbetsboken är lösenordsskyddad och kan inte läsas. Ta bort lösenordet (Arkiv > Info > Skydda arbetsbok) och lämna in igen."))
        raise _Refused(finding("gammalt_format", label, "Filen är i det gamla Excel-formatet (.xls). Öppna den i Excel och spara som Excel-arbetsbok (.xlsx)."))
    if suffix == ".xls":
        raise _Refused(finding("gammalt_format", label, "Filen har ändelsen .xls. Spara som Excel-arbetsbok (.xlsx)."))
    if not data.startswith(b"PK"):
        what = "en textfil (t.ex. CSV)" if _looks_like_text(data) else "inte en Excel-arbetsbok"
        raise _Refused(finding("ej_excel", label, f"Filen är {what}, trots ändelsen {suffix or '(ingen)'}. Använd mallen och spara som .xlsx."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise _Refused(finding("trasig_fil", label, "Filen är skadad eller avkortad (zip-arkivet går inte att öppna). Spara arbetsboken igen och lämna in den på nytt.")) from None
    _check_sizes(archive, label)
    if "content.xml" in names and "xl/workbook.xml" not in names:
        raise _Refused(finding("ods", label, "Filen är sparad i OpenDocument-format (.ods). Spara som Excel-arbetsbok (.xlsx) i LibreOffice: Arkiv > Spara som > Excel 2007-365."))
    if "xl/workbook.bin" in names:
        raise _Refused(finding("ej_excel", label, "Filen är sparad som binär Excel-arbetsbok (.xlsb). Spara som Excel-arbetsbok (.xlsx) och lämna in igen."))
    if "xl/workbook.xml" not in names:
        raise _Refused(finding("ej_excel", label, "Filen är ett zip-arkiv men ingen Excel-arbetsbok."))
    if "xl/vbaProject.bin" in names:
        raise _Refused(finding("makro", label, "Arbetsboken innehåller makron. Makron körs aldrig; spara som Excel-arbetsbok (.xlsx) utan makron och lämna in igen."))
    if suffix == ".xlsm":
        raise _Refused(finding("makro", label, "Filen har ändelsen .xlsm (arbetsbok med makron). Spara som Excel-arbetsbok (.xlsx) och lämna in igen."))
    book = _workbook_xml(archive, label)
    extra: list[Finding] = []
    if any(n.startswith("xl/externalLinks/") for n in names):
        extra.append(finding("extern_lank", label, "Arbetsboken har länkar till andra filer. Länkarna följs inte; bara sparade värden läses."))
    if len(book.sheets) > MAX_SHEETS:
        raise _Refused(finding("for_stor", label, f"Arbetsboken har {len(book.sheets)} flikar; mallen har färre än 20. Den läses inte."))
    workbook = _open_calamine(data, label) if META_SHEET in book.sheets else None
    meta = _meta(workbook, archive, book, label)
    kind = meta.get("typ", "")
    if kind in TOOL_KINDS:
        return _replace(base, tool_output=kind, unit=meta.get("enhet", ""), period=meta.get("period", ""),
                        readable=True)
    if meta.get("mall_id") != TEMPLATE_ID:
        raise _Refused(finding("ej_mall", label, "Arbetsboken är inte en av nämndens mallar (den dolda fliken _meta saknas eller är ändrad). Hämta mallen för er enhet och perioden och fyll i den."))
    version = meta.get("mallversion", "")
    if version != str(TEMPLATE_VERSION):
        raise _Refused(finding("gammal_mall", label, f"Arbetsboken är gjord med mallversion {version or 'okänd'}; nu gäller version {TEMPLATE_VERSION}. Flytta över värdena till den nya mallen.", value=version, expected=str(TEMPLATE_VERSION)))
    unit = meta.get("enhet", "")
    if unit not in catalog.unit_ids():
        raise _Refused(finding("okand_enhet", label, f"Enheten '{unit}' i arbetsboken finns inte i katalogen.", value=unit))
    try:
        period = parse_period(meta.get("period", ""))
    except Exception:
        raise _Refused(finding("ej_mall", label, f"Perioden '{meta.get('period', '')}' i arbetsbokens dolda flik går inte att tolka.")) from None
    where = {"unit": unit, "period": str(period)}
    _check_place(path, root, unit, period, catalog, label)
    if meta.get("katalog") != catalog.fingerprint:
        extra.append(finding("annan_katalog", label, "Mallen skapades från en tidigare version av katalogen. Värdena läses ändå, men kontrollera att alla rader finns med.", **where))
    rows, found = _values(workbook, archive, book, catalog, unit, period, label)
    # A feedback copy nobody has changed is our own output to `run`; a corrected one is a submission.
    unchanged = kind == "återkoppling" and meta.get("vardehash") == values_digest(rows)
    return _replace(base, unit=unit, period=str(period), rows=tuple(rows), unchanged_copy=unchanged,
                    findings=tuple(extra + found), readable=True)


def values_digest(rows: Sequence[tuple[Any, ...]]) -> str:
    """A fingerprint of what was typed (name and raw text of every input cell)."""
    text = "\n".join(sorted(f"{row[5]}\t{row[13]}" for row in rows))
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
            raise _Refused(finding("for_stor", label, f"Filen packas upp till mer än {MAX_UNPACKED_BYTES // 1_000_000} MB eller är orimligt hårt packad (del {info.filename}). Den läses inte."))


@dataclass
class _Book:
    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> part path in the zip
    names: dict[str, str] = field(default_factory=dict)   # defined name (lower) -> reference text


def _workbook_xml(archive: zipfile.ZipFile, label: str) -> _Book:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels_root = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except DefusedXmlException:
        raise _Refused(finding("osaker_xml", label, "Arbetsboken innehåller otillåtna XML-konstruktioner (entiteter eller externa referenser) och läses inte.")) from None
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise _Refused(finding("trasig_fil", label, "Arbetsbokens innehåll är skadat och kan inte läsas. Spara den igen i Excel och lämna in på nytt.")) from None
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
    return book


def _open_calamine(data: bytes, label: str) -> Any:
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:
        raise _Refused(finding("trasig_fil", label, "Arbetsboken kan inte läsas (skadat innehåll). Spara den igen i Excel och lämna in på nytt.")) from None


def _sheet_rows(workbook: Any, archive: zipfile.ZipFile, book: _Book, sheet: str, label: str) -> list[list[Any]]:
    part = book.sheets.get(sheet, "")
    try:
        info = archive.getinfo(part)
    except KeyError:
        raise _Refused(finding("trasig_fil", label, f"Fliken '{sheet}' saknar innehåll i filen.")) from None
    if info.file_size > MAX_PART_BYTES:
        raise _Refused(finding("for_stor", label, f"Fliken '{sheet}' är orimligt stor och läses inte."))
    try:
        rows: list[list[Any]] = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception:
        raise _Refused(finding("trasig_fil", label, f"Fliken '{sheet}' kan inte läsas (skadat innehåll).")) from None
    if len(rows) > MAX_ROWS:
        raise _Refused(finding("for_stor", label, f"Fliken '{sheet}' har {len(rows)} rader; mallen har färre än 100. Den läses inte."))
    return rows


def _meta(workbook: Any, archive: zipfile.ZipFile, book: _Book, label: str) -> dict[str, str]:
    if workbook is None:
        return {}
    rows = _sheet_rows(workbook, archive, book, META_SHEET, label)
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
        raise _Refused(finding("fel_period", label, f"Filnamnet anger {by_name}, men mallen gäller {period}. Kontrollera att rätt mall har fyllts i för rätt period.", **where, value=str(period), expected=str(by_name)))
    for folder in _folders(path, root):
        by_folder = find_period_in_text(folder)
        if by_folder is not None:
            if by_folder != period:
                raise _Refused(finding("fel_period", label, f"Filen ligger i mappen '{folder}' ({by_folder}), men mallen gäller {period}. Kontrollera att rätt mall har fyllts i och att filen ligger i rätt mapp.", **where, value=str(period), expected=str(by_folder)))
            break
    stem = path.stem.lower()
    named = [u.id for u in catalog.units if u.id in stem]
    if named:
        longest = max(named, key=len)
        if longest != unit and unit not in stem:
            name = catalog.unit(unit).name
            raise _Refused(finding("fel_enhet_fil", label, f"Filnamnet anger enheten '{longest}', men mallen gäller {name} ({unit}). Kontrollera att rätt enhets mall har använts.", **where, value=unit, expected=longest))


def _folders(path: Path, root: Path | None) -> list[str]:
    """Folder names from the file upwards: up to and including the checked folder, or just the parent."""
    if root is None:
        return [path.parent.name]
    try:
        inside = path.parent.relative_to(root)
    except ValueError:
        return [path.parent.name]
    return [*reversed(inside.parts), root.resolve().name]


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


def _values(workbook: Any, archive: zipfile.ZipFile, book: _Book, catalog: Catalog, unit: str,
            period: Period, label: str) -> tuple[list[tuple[Any, ...]], list[Finding]]:
    layout = build_layout(catalog, unit, period)
    where = {"unit": unit, "period": str(period)}
    found: list[Finding] = []
    grids: dict[str, list[list[Any]]] = {}
    merged: dict[str, list[tuple[Any, ...]]] = {}
    located: list[tuple[InputCell, str, int, int]] = []
    gone: set[str] = set()  # template sheets reported missing, once each
    renamed: dict[str, str] = {}  # template sheet -> the name it has now
    rows: list[tuple[Any, ...]] = []

    def unread(cell: InputCell, sheet: str, ref: str, marker: str) -> None:
        rows.append((label, unit, str(period), sheet, ref, cell.name, cell.scope, cell.item, cell.field,
                     cell.kind, cell.required, None, None, marker))

    def sheet_gone(sheet: str, cell: InputCell) -> None:
        if sheet not in gone:
            gone.add(sheet)
            found.append(finding("flik_saknas", label, f"Fliken '{sheet}' saknas (borttagen eller omdöpt). Byt tillbaka namnet eller använd en ny mall och fyll i fliken.", sheet=sheet, scope=cell.scope, expected=sheet, **where))

    for cell in layout.cells:
        ref = book.names.get(cell.name.lower())
        place = _resolve(ref) if ref else None
        if place is None:
            if cell.sheet not in book.sheets:
                sheet_gone(cell.sheet, cell)
                continue
            found.append(finding("namn_saknas", label, f"Cellen för \"{cell.label}\" hittas inte: det definierade namnet {cell.name} är borttaget eller pekar på en raderad cell (#REFERENS!). Värdet läses inte; skriv in det i en ny mall.", sheet=cell.sheet, cell=cell.ref, scope=cell.scope, expected=cell.name, **where))
            unread(cell, cell.sheet, cell.ref, UNREAD_NAME)
            continue
        sheet, row, col = place
        if sheet not in book.sheets:
            sheet_gone(sheet, cell)
            continue
        if sheet != cell.sheet and cell.sheet not in renamed:
            renamed[cell.sheet] = sheet
            found.append(finding("flik_omdopt", label, f"Fliken '{cell.sheet}' har bytt namn till '{sheet}'. Värdena läses ändå via cellernas namn, men byt gärna tillbaka namnet.", sheet=sheet, scope=cell.scope, value=sheet, expected=cell.sheet, **where))
        if sheet not in grids:
            grids[sheet] = _sheet_rows(workbook, archive, book, sheet, label)
            try:
                merged[sheet] = list(workbook.get_sheet_by_name(sheet).merged_cell_ranges or [])
            except Exception:
                merged[sheet] = []
        located.append((cell, sheet, row, col))
    formulas = {sheet: _formulas_without_value(archive, book.sheets[sheet]) for sheet in grids}
    for cell, sheet, row, col in located:
        grid = grids[sheet]
        raw = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
        ref = f"{col_letter(col)}{row + 1}"
        spot = {"sheet": sheet, "cell": ref, "scope": cell.scope, **where}
        inside = _merged_inside(merged.get(sheet, []), row, col)
        if inside is not None:
            found.append(finding("sammanfogad", label, f"Cellen {ref} (\"{cell.label}\") ingår i den sammanfogade cellen {inside}, så dess värde har gått förlorat. Dela upp den sammanfogade cellen och fyll i värdet igen.", **spot))
            unread(cell, sheet, ref, UNREAD_MERGED)
            continue
        if (raw is None or raw == "") and ref in formulas[sheet]:
            found.append(finding("formel_utan_varde", label, f"{cell.label}: cellen {ref} innehåller en formel utan sparat värde. Öppna och spara filen i Excel och lämna in den igen; värdet läses inte som 0.", **spot))
            unread(cell, sheet, ref, UNREAD_FORMULA)
            continue
        parsed = parse_cell(raw, cell.kind)
        raw_text = "" if raw is None else _raw_text(raw)
        value: float | None = None
        if parsed.code is not None:
            found.append(finding(parsed.code, label, f"{cell.label}: {parsed.message}", value=raw_text, **spot))
        else:
            value = parsed.value
        rows.append((label, unit, str(period), sheet, ref, cell.name, cell.scope, cell.item,
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


_CELL_XML = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_CELL_REF = re.compile(rb"""\br=["']\$?([A-Z]{1,3})\$?([0-9]{1,7})["']""")
_STRING_TYPE = re.compile(rb"""\bt=["']str["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CACHED = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>[^<]+</")


def _formulas_without_value(archive: zipfile.ZipFile, part: str) -> set[str]:
    """Refs of cells holding a formula but no cached value (openpyxl and some tools write these).

    Excel and LibreOffice always store the last computed value; a formula result that is an empty
    string is stored with t="str", so only a formula with no or an empty <v> and no string type counts."""
    try:
        xml = archive.read(part)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return set()
    if b"<f" not in xml and b":f" not in xml:
        return set()
    refs = set()
    for match in _CELL_XML.finditer(xml):
        attrs, body = match.group(1), match.group(2) or b""
        if not _FORMULA.search(body) or _CACHED.search(body) or _STRING_TYPE.search(attrs):
            continue
        where = _CELL_REF.search(attrs)
        if where:
            refs.add((where.group(1) + where.group(2)).decode("ascii"))
    return refs


def iter_workbooks(root: Path) -> Iterator[Path]:
    """Every candidate file under a folder, sorted, without following symlinks out of it."""
    root_resolved = root.resolve()
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            try:
                path.resolve().relative_to(root_resolved)
            except (ValueError, OSError):
                continue
        if path.is_file() and path.suffix.lower() in {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".xlsb"}:
            yield path
