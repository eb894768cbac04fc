"""Build hostile workbooks from a real filled template: zip bombs, XML entity tricks, huge sheets,
external links, macros. Everything is streamed so that the tests themselves stay in low memory."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Self

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_HEAD = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetData>').encode()
SHEET_TAIL = b"</sheetData></worksheet>"

Member = bytes | Callable[[], Iterable[bytes]]


class RawZip:
    """A minimal zip writer that streams members and can declare sizes that lie.

    zipfile cannot write pre-compressed data; a zip bomb of a gigabyte is built here from one
    repeated deflate block (after a full flush, equal input gives equal output), so making it
    costs a checksum pass and a few megabytes of disk, not a gigabyte of compression."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.central: list[bytes] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _header(self, name: bytes, crc: int, csize: int, usize: int) -> bytes:
        # version 20, no flags except UTF-8 names, deflate, a fixed DOS date (1 Jan 2025).
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, (45 << 9) | (1 << 5) | 1,
                           crc, csize, usize, len(name), 0) + name

    def _write(self, name: str, blocks: Iterable[bytes], sizes: Callable[[], tuple[int, int]],
               declared: int | None) -> None:
        """Stream compressed blocks after a placeholder header, then patch crc and sizes in."""
        raw_name = name.encode("utf-8")
        offset = self.fh.tell()
        self.fh.write(self._header(raw_name, 0, 0, 0))
        csize = 0
        for block in blocks:
            self.fh.write(block)
            csize += len(block)
        crc, usize = sizes()
        size = usize if declared is None else declared
        end = self.fh.tell()
        self.fh.seek(offset)
        self.fh.write(self._header(raw_name, crc, csize, size))
        self.fh.seek(end)
        self.central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, (45 << 9) | (1 << 5) | 1,
            crc, csize, size, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)

    def add(self, name: str, data: Member, declared: int | None = None) -> None:
        """A member from bytes or from a function yielding chunks (compressed as they come)."""
        chunks = [data] if isinstance(data, bytes) else data()
        crc, size = 0, 0

        def blocks() -> Iterator[bytes]:
            nonlocal crc, size
            # Streamed parts are large: the fastest level keeps the tests quick.
            comp = zlib.compressobj(6 if isinstance(data, bytes) else 1, zlib.DEFLATED, -15)
            for chunk in chunks:
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                yield comp.compress(chunk)
            yield comp.flush()

        self._write(name, blocks(), lambda: (crc, size), declared)

    def add_repeated(self, name: str, head: bytes, unit: bytes, count: int, tail: bytes,
                     declared: int | None = None) -> int:
        """head + unit * count + tail, compressed once per distinct block; returns the real size."""
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
        block = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
        again = comp.compress(unit) + comp.flush(zlib.Z_FULL_FLUSH)
        assert block == again, "deflate blocks after a full flush should repeat"
        last = comp.compress(tail) + comp.flush(zlib.Z_FINISH)
        crc = zlib.crc32(head)
        for _ in range(count):
            crc = zlib.crc32(unit, crc)
        crc = zlib.crc32(tail, crc)
        size = len(head) + len(unit) * count + len(tail)

        def blocks() -> Iterator[bytes]:
            yield first
            for _ in range(count):
                yield block
            yield last

        self._write(name, blocks(), lambda: (crc, size), declared)
        return size

    def close(self) -> None:
        if self.fh.closed:
            return
        start = self.fh.tell()
        for entry in self.central:
            self.fh.write(entry)
        size = self.fh.tell() - start
        self.fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(self.central),
                                  len(self.central), size, start, 0))
        self.fh.close()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rebuild(src: Path, dst: Path, replace: dict[str, Member] | None = None,
            add: dict[str, Member] | None = None, drop: Iterable[str] = (),
            declared: dict[str, int] | None = None) -> Path:
    """Copy a workbook member by member, replacing, adding or dropping parts."""
    replace, add, skip, declared = replace or {}, add or {}, set(drop), declared or {}
    with RawZip(dst) as out:
        for name, original in members(src).items():
            if name in skip:
                continue
            out.add(name, replace.get(name, original), declared.get(name))
        for name, extra in add.items():
            out.add(name, extra, declared.get(name))
    return dst


def sheet_part(src: Path, sheet: str) -> str:
    """The zip part of a sheet, found through workbook.xml and its relationships."""
    parts = members(src)
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', book)
    assert rid, f"no sheet {sheet} in {src}"
    target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels) or \
        re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
    assert target, f"no relationship {rid.group(1)}"
    path = target.group(1)
    return path.lstrip("/") if path.startswith("/") else f"xl/{path}"


# ---- the hostile files -------------------------------------------------------------------------

GIB = 1 << 30


def zip_bomb(src: Path, dst: Path, size: int = 3 * GIB // 2, sheet: str = "Indikatorer",
             declared_small: bool = False) -> Path:
    """The sheet part becomes ~size bytes of XML (cells of the same value) in a file of ~2 MB.

    declared_small: the zip directory claims the part is 64 KB, as a forged archive would."""
    part = sheet_part(src, sheet)
    unit = b'<row r="6"><c r="D6"><v>1</v></c></row>' * (1 << 15)  # ~1.3 MB of cells
    count = size // len(unit)
    with RawZip(dst) as out:
        for name, data in members(src).items():
            if name == part:
                out.add_repeated(name, SHEET_HEAD, unit, count, SHEET_TAIL,
                                 declared=64 * 1024 if declared_small else None)
            else:
                out.add(name, data)
    return dst


def _with_doctype(xml: bytes, doctype: str, use: str) -> bytes:
    """Put a DOCTYPE before the root element and an entity reference inside a defined name."""
    text = xml.decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + "\n" + text
    text, n = re.subn(r"(<definedName [^>]*>)", r"\1" + use.replace("\\", "\\\\"), text, count=1)
    assert n == 1
    return text.encode("utf-8")


def billion_laughs(src: Path, dst: Path, part: str = "xl/workbook.xml") -> Path:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE workbook [\n" + "\n".join(levels) + "\n]>"
    data = members(src)[part]
    return rebuild(src, dst, replace={part: _with_doctype(data, doctype, "&lol9;")})


def external_entity(src: Path, dst: Path, target: str = "file:///etc/passwd") -> Path:
    doctype = f'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "{target}">]>'
    data = members(src)["xl/workbook.xml"]
    return rebuild(src, dst, replace={"xl/workbook.xml": _with_doctype(data, doctype, "&xxe;")})


def many_sheets(src: Path, dst: Path, count: int = 5000) -> Path:
    """count extra (small, valid) worksheets, listed in workbook.xml, rels and content types."""
    parts = members(src)
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    types = parts["[Content_Types].xml"].decode()
    sheets = "".join(f'<sheet name="Extra {i}" sheetId="{1000 + i}" r:id="rIdX{i}"/>'
                     for i in range(count))
    book = book.replace("</sheets>", sheets + "</sheets>")
    rel_type = f"{REL_NS}/worksheet"
    rels = rels.replace("</Relationships>", "".join(
        f'<Relationship Id="rIdX{i}" Type="{rel_type}" Target="worksheets/extra{i}.xml"/>'
        for i in range(count)) + "</Relationships>")
    ws_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    types = types.replace("</Types>", "".join(
        f'<Override PartName="/xl/worksheets/extra{i}.xml" ContentType="{ws_type}"/>'
        for i in range(count)) + "</Types>")
    small = SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row>' + SHEET_TAIL
    return rebuild(src, dst, replace={
        "xl/workbook.xml": book.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
        "[Content_Types].xml": types.encode(),
    }, add={f"xl/worksheets/extra{i}.xml": small for i in range(count)})


def million_rows(src: Path, dst: Path, rows: int = 1_000_000, sheet: str = "Indikatorer") -> Path:
    """The sheet keeps its own rows and gets `rows` more below them, streamed as they are made."""
    part = sheet_part(src, sheet)
    original = members(src)[part]
    head, _, tail = original.partition(b"</sheetData>")
    # A dimension element that tells the truth about the new size.
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:J{rows + 100}"/>'.encode(),
                  head)

    def chunks() -> Iterator[bytes]:
        yield head
        batch = []
        for r in range(101, rows + 101):
            batch.append(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r % 7))
            if len(batch) == 10_000:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch)
        yield b"</sheetData>" + tail

    return rebuild(src, dst, replace={part: chunks})


def far_cell(src: Path, dst: Path, ref: str = "XFD1048576", sheet: str = "Indikatorer") -> Path:
    """One extra cell in the sheet's last row and column: a tiny file whose grid is 17 billion
    cells."""
    part = sheet_part(src, sheet)
    original = members(src)[part]
    row = re.match(r"[A-Z]+(\d+)", ref)
    assert row
    cell = f'<row r="{row.group(1)}"><c r="{ref}"><v>1</v></c></row>'.encode()
    return rebuild(src, dst,
                   replace={part: original.replace(b"</sheetData>", cell + b"</sheetData>")})


def external_link(src: Path, dst: Path, target: str) -> Path:
    """An external workbook reference (xl/externalLinks/externalLink1.xml) pointing at target."""
    parts = members(src)
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    types = parts["[Content_Types].xml"].decode()
    refs = '<externalReferences><externalReference r:id="rIdExt1"/></externalReferences>'
    book = book.replace("<definedNames>", refs + "<definedNames>") if "<definedNames>" in book \
        else book.replace("</sheets>", "</sheets>" + refs)
    rels = rels.replace("</Relationships>", (
        f'<Relationship Id="rIdExt1" Type="{REL_NS}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/></Relationships>'))
    types = types.replace("</Types>", (
        '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>'))
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<externalLink xmlns="{MAIN_NS}" '
            f'xmlns:r="{REL_NS}"><externalBook r:id="rId1"><sheetNames><sheetName val="Blad1"/>'
            '</sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>42</v>'
            '</cell></row></sheetData></sheetDataSet></externalBook></externalLink>').encode()
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                 '"http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{REL_NS}/externalLinkPath" Target="{target}" '
                 'TargetMode="External"/></Relationships>').encode()
    return rebuild(src, dst, replace={
        "xl/workbook.xml": book.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
        "[Content_Types].xml": types.encode(),
    }, add={"xl/externalLinks/externalLink1.xml": link,
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels})


def with_macro(src: Path, dst: Path) -> Path:
    """A VBA project part (a compound file, as Excel writes it) in a file still named .xlsx."""
    parts = members(src)
    rels = parts["xl/_rels/workbook.xml.rels"].decode().replace("</Relationships>", (
        '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
        'vbaProject" Target="vbaProject.bin"/></Relationships>'))
    types = parts["[Content_Types].xml"].decode().replace("</Types>", (
        '<Override PartName="/xl/vbaProject.bin" '
        'ContentType="application/vnd.ms-office.vbaProject"/></Types>'))
    # The compound-file signature and a Workbook_Open macro body; it must never be run.
    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + (
        b'Attribute VB_Name = "ThisWorkbook"\r\nPrivate Sub Workbook_Open()\r\n'
        b'Shell "cmd /c calc.exe"\r\nEnd Sub\r\n')
    return rebuild(src, dst, replace={
        "xl/_rels/workbook.xml.rels": rels.encode(), "[Content_Types].xml": types.encode(),
    }, add={"xl/vbaProject.bin": vba})


def forged_part(src: Path, dst: Path, part: str, size: int = GIB // 2) -> Path:
    """A part that really unpacks to `size` more bytes (blanks after its own XML) while the zip
    directory claims its original size: checks on the directory alone do not see it."""
    with RawZip(dst) as out:
        for name, data in members(src).items():
            if name == part:
                out.add_repeated(name, data, b" " * (1 << 20), size >> 20, b"", declared=len(data))
            else:
                out.add(name, data)
    return dst


# ---- reading in a separate process, measuring its memory ---------------------------------------

# address-space cap of the reading process: a failure must not take the machine
MEMORY_CAP = 1536 << 20

_READ_SCRIPT = """
import json, resource, sys
from pathlib import Path
cap = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from consolidate.catalog_parse import load_catalog
from consolidate.read import read_submission
catalog = load_catalog(Path(sys.argv[2]))
sub = read_submission(Path(sys.argv[1]), catalog)


def peak_mb():
    # VmHWM belongs to this program's memory; ru_maxrss survives exec and so reports the parent
    # (pytest) when it was larger when it forked this process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


print(json.dumps({
    "codes": [f.code for f in sub.findings], "messages": [f.message for f in sub.findings],
    "readable": sub.readable, "rows": [list(map(str, r)) for r in sub.cells],
    "peak_mb": peak_mb(),
}))
"""


def read_isolated(path: Path, catalog_path: Path, cap: int = MEMORY_CAP,
                  timeout: float = 120) -> dict[str, Any]:
    """read_submission in a fresh process: its result, peak RSS in MB and exit status."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _READ_SCRIPT, str(path), str(catalog_path),
                           str(cap)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    err = (proc.stderr if len(proc.stderr) < 2500
           else proc.stderr[:1000] + "\n[...]\n" + proc.stderr[-1500:])
    result: dict[str, Any] = {"returncode": proc.returncode, "stderr": err}
    if proc.returncode == 0:
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return result
