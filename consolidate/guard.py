"""The package guard: a file's bytes to bounded, safe parts of a workbook, or a refusal."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from typing import Any

from .findings import finding
from .model import Finding

# Limits against hostile files (zip bombs, huge sheets): far above any real template. In decimal
# megabytes, as the messages state them.
MAX_FILE_BYTES = 20_000_000
MAX_UNPACKED_BYTES = 100_000_000
MAX_PART_BYTES = 25_000_000
MAX_RATIO = 200
RATIO_FROM_BYTES = 1_000_000  # small parts of repeated XML pack hard and harmlessly
MAX_SHEETS = 200

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
# Spreadsheets saved "as template": Excel opens them as a new, unsaved workbook.
TEMPLATE_SUFFIXES = frozenset({".xltx", ".xltm"})
MACRO_SUFFIXES = frozenset({".xlsm"})
_OPENDOCUMENT = frozenset({".ods", ".ots", ".fods"})


class Refused(Exception):
    """Reading this file stops here; the finding says why."""

    def __init__(self, found: Finding) -> None:
        super().__init__(found.message)
        self.finding = found


def refuse(code: str, label: str, **fields: Any) -> Refused:
    """A refusal of rule `code` (use: raise refuse(...)); where-keywords and template fields both
    go."""
    return Refused(finding(code, label, **fields))


def mb(size: int) -> str:
    return str(size // 1_000_000)


def check_bytes(data: bytes, size: int, suffix: str, label: str) -> None:
    """Refusals decided from the name and the first bytes, before the file is opened as a zip."""
    if size == 0:
        raise refuse("tom_fil", label)
    if size > MAX_FILE_BYTES:
        raise refuse("for_stor", label, size_mb=mb(size), limit_mb=mb(MAX_FILE_BYTES))
    if data.startswith(_CFB_MAGIC):  # an OLE compound file: .xls, .xlt, or an encrypted package
        if _ENCRYPTED in data:
            raise refuse("losenord", label)
        raise refuse("gammalt_format", label)
    if suffix in _OPENDOCUMENT:
        raise refuse("ods", label, suffix=suffix)
    if not data.startswith(b"PK"):
        raise refuse("ej_excel", label, what="en textfil (t.ex. CSV)" if _looks_like_text(data)
                     else "i ett okänt format")
    if suffix == ".xls":  # a workbook renamed .xls: Excel too warns that name and content differ
        raise refuse("gammalt_format", label)
    if suffix == ".numbers":
        raise refuse("ej_excel", label, what="en Apple Numbers-fil")


def _looks_like_text(data: bytes) -> bool:
    head = data[:2048]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def part_name(name: str) -> str:
    """A zip item name as an OPC part name to compare: part names are ASCII-case-insensitive
    (ECMA-376 Part 2, §9.1.1.1), and Excel also opens items stored with backslashes."""
    return name.replace("\\", "/").lstrip("/").lower()


class Package:
    """A zip in memory: parts found by case-insensitive name, each inflated within its limits."""

    def __init__(self, data: bytes, label: str) -> None:
        self.data = data
        self.label = label
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
            # NotImplementedError: a directory entry asking for a newer zip version than Python
            # reads
            raise refuse("trasig_fil", label) from None
        self.parts = {part_name(info.filename): info for info in infos}
        if len(self.parts) < len(infos):
            # Two items for one part: which one would calamine read? Neither is.
            seen: set[str] = set()
            for info in infos:
                if part_name(info.filename) in seen:
                    raise refuse("dubbel_del", label, part=info.filename)
                seen.add(part_name(info.filename))
        _check_sizes(infos, label)

    def has(self, name: str) -> bool:
        return name in self.parts

    def read(self, name: str) -> bytes:
        """One part (by part_name), in bounded memory whatever its declared sizes say.

        zipfile's read() inflates the whole member before cutting it to the declared size; this
        inflates at most the declared size (+1, to notice more). KeyError for a missing part."""
        info = self.parts[name]  # its declared size was held to the limits at opening
        try:
            data = _inflate(self.data, info)
            if data is None:  # another method or encryption: zipfile, still bounded
                with self.zip.open(info) as handle:
                    data = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, struct.error, OSError, EOFError, ValueError,
                NotImplementedError, RuntimeError):
            # zipfile raises NotImplementedError for unknown methods, RuntimeError for encrypted
            # members; struct.error and ValueError come from headers that lie about offsets.
            raise refuse("trasig_del", self.label, part=info.filename) from None
        if len(data) > info.file_size:
            raise refuse("forfalskad_storlek", self.label, part=info.filename,
                         declared=str(info.file_size))
        return data

    def read_xml(self, name: str, sheet: str = "") -> bytes:
        """An XML part that calamine, not defusedxml, parses (a sheet's, named for the finding): a
        document type declaration, where entities are declared, is refused here."""
        xml = self.read(name)
        if _declares_doctype(xml):
            raise refuse("osaker_xml", self.label, sheet=sheet, part=self.parts[name].filename)
        return xml

    def repacked(self, replace: dict[str, bytes]) -> bytes:
        """The package with some parts replaced, stored uncompressed: for calamine, never
        written."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, info in self.parts.items():
                archive.writestr(info.filename,
                                 replace[name] if name in replace else self.read(name))
        return out.getvalue()


def _declares_doctype(xml: bytes) -> bool:
    """Whether the prolog holds a <!DOCTYPE: it may stand only before the root element (XML 1.0,
    §2.8), so only the prolog is looked at, never the whole part."""
    at = 0
    while True:
        at = xml.find(b"<", at)
        if at < 0:
            return False
        if xml.startswith(b"<?", at):
            at = xml.find(b"?>", at)
        elif xml.startswith(b"<!--", at):
            at = xml.find(b"-->", at)
        else:
            return xml.startswith(b"<!", at)
        if at < 0:
            return False


def _check_sizes(infos: list[zipfile.ZipInfo], label: str) -> None:
    """The zip directory's sizes against the limits; the reads then hold every part to its size."""
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
            shown = f"{int(ratio):,}".replace(",", "\u00a0")
            raise refuse("for_hart_packad", label, part=info.filename, ratio=shown,
                         limit=str(MAX_RATIO))
        if info.file_size > MAX_PART_BYTES:
            raise refuse("for_stor_del", label, part=info.filename, size_mb=mb(info.file_size),
                         limit_mb=mb(MAX_PART_BYTES))
        if total > MAX_UNPACKED_BYTES:
            raise refuse("for_stor_uppackad", label, limit_mb=mb(MAX_UNPACKED_BYTES))
        # Deflate adds at most a few bytes per 16 KB to data it cannot pack: a part much larger
        # packed than unpacked has a forged size (a zip bomb behind a small declared size).
        if info.compress_size > info.file_size + info.file_size // 1000 + 1024:
            raise refuse("forfalskad_storlek", label, part=info.filename,
                         declared=str(info.file_size))


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length


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


def main_part(package: Package, suffix: str) -> str:
    """The workbook part, found as Excel finds it: through the package relationships' officeDocument
    relationship (ECMA-376 Part 2, §9.3), or xl/workbook.xml when they name none.

    Refuses what is no workbook in .xlsx form: OpenDocument, .xlsb, macros, templates."""
    label = package.label
    if package.has("content.xml") and package.has("mimetype"):
        raise refuse("ods", label, suffix=".ods")
    main = ""
    if package.has("_rels/.rels"):
        main = _office_document(package, package.read("_rels/.rels"))
    if not main or not package.has(main):
        main = "xl/workbook.xml" if package.has("xl/workbook.xml") else ""
    if not main:
        what = "ett Word-dokument" if package.has("word/document.xml") else \
            "en PowerPoint-presentation" if package.has("ppt/presentation.xml") else \
            "en binär Excel-arbetsbok (.xlsb)" if package.has("xl/workbook.bin") else \
            "ett zip-arkiv"
        raise refuse("ej_excel", label, what=what)
    if main.endswith(".bin"):
        raise refuse("ej_excel", label, what="en binär Excel-arbetsbok (.xlsb)")
    if package.has(f"{main.rpartition('/')[0]}/vbaproject.bin") or package.has("xl/vbaproject.bin"):
        raise refuse("makro", label)  # the VBA project beside the workbook part, where Excel
                                      # puts it
    if suffix in MACRO_SUFFIXES:
        raise refuse("makro_andelse", label, suffix=suffix)
    if suffix in TEMPLATE_SUFFIXES:
        raise refuse("mallfil", label, suffix=suffix)
    return main


class UnsafeXml(Exception):
    pass


class BadXml(Exception):
    pass


def parse_xml(xml: bytes) -> Any:
    """A small XML part as an element tree, through defusedxml: entities and DTDs are refused."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        return ElementTree.fromstring(xml)
    except DefusedXmlException:
        raise UnsafeXml from None
    except (ElementTree.ParseError, ValueError):
        raise BadXml from None


# The officeDocument relationship type, Transitional (ECMA-376 Part 4) and Strict (Part 1).
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument")
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _office_document(package: Package, xml: bytes) -> str:
    try:
        return (_office_document_in(xml) if len(xml) <= 65_536
                else _office_document_in.__wrapped__(xml))
    except UnsafeXml:
        raise refuse("osaker_xml", package.label,
                     part=package.parts["_rels/.rels"].filename) from None
    except BadXml:  # Excel repairs such a package: look where the workbook part always is
        return ""


@functools.lru_cache(maxsize=64)
def _office_document_in(xml: bytes) -> str:
    """Files from one template have the same package relationships: parsed once."""
    for rel in parse_xml(xml).iter(PACKAGE_RELS):
        if rel.get("Type") in _OFFICE_DOCUMENT and rel.get("TargetMode") != "External":
            return resolve_target("", rel.get("Target", ""))
    return ""


@functools.lru_cache(maxsize=256)
def resolve_target(folder: str, target: str) -> str:
    """A relationship target as a part name: relative to the source part's folder, or absolute
    (ECMA-376 Part 2, §9.3: RFC 3986 resolution against the source part)."""
    path = target.replace("\\", "/").split("#", 1)[0]
    parts = [] if path.startswith("/") else [p for p in folder.split("/") if p]
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts).lower()
