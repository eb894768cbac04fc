"""Run LibreOffice Calc headless for the round-trip tests: conversions, sheets as shown (CSV), PDF
text and PDF pages as PNG."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
INSTALL_HINT = ("apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils "
                "(.ci/run does this when soffice is missing)")

XLSX = "xlsx:Calc MS Excel 2007 XML"
ODS = "ods:calc8"
PDF = "pdf:calc_pdf_Export"
# Text CSV of every sheet, each cell's text as shown in the profile's locale. Filter option tokens:
# 1-3 field separator 44 ",", text delimiter 34 '"', charset 76 UTF-8; 9 "true" = save cell contents
# as shown; 12 "-1" = every sheet, each to <stem>-<sheet name>.csv (LibreOffice 7.2 and later); the
# others as LibreOffice's defaults.
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
# seconds for one soffice call; a first start with a fresh profile takes a few seconds
TIMEOUT = 240

# A fresh profile per call, set up like a Swedish desktop: Swedish locale (so "1 400" and "4,2 %"
# print as a Swedish user sees them) and "always recalculate on load", so every formula value in
# an output was computed by LibreOffice and none is a cached value copied from the input file.
# OOXMLRecalcMode/ODFRecalcMode: 0 = always, 1 = never (LibreOffice's default), 2 = ask.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"\
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N">\
<prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>sv-SE</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(AssertionError):
    """A conversion that did not produce its files: a test failure, never a skip."""


def _run(cmd: list[str], timeout: float,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run in a new process group so a hung soffice and its children can be ended by group id."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise LibreOfficeError(f"timed out after {timeout} s: {' '.join(cmd)}\n"
                               f"{out}\n{err}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(files: Sequence[Path], target: str, outdir: Path,
            timeout: float = TIMEOUT) -> list[Path]:
    """Convert many files in one soffice call; returns the outputs in the order of `files`.

    soffice exits 0 even when a file cannot be loaded, so success is judged by the outputs."""
    files = [Path(f).resolve() for f in files]
    ext = target.split(":", 1)[0]
    expected = [outdir / f"{f.stem}.{ext}" for f in files]
    if len(set(expected)) != len(expected):
        raise ValueError(f"two inputs would give the same output name in {outdir}: {files}")
    _convert(files, target, outdir, expected, timeout)
    return expected


def convert_sheets_csv(books: dict[Path, Sequence[str]], outdir: Path,
                       timeout: float = TIMEOUT) -> dict[Path, dict[str, list[list[str]]]]:
    """Every sheet of every workbook as LibreOffice shows its cells (formatted text, in the
    profile's Swedish locale), in one soffice call: {workbook: {sheet name: rows of cell texts
    from A1}}.

    `books` maps each workbook to its sheet names (LibreOffice writes <stem>-<sheet>.csv per
    sheet)."""
    files = [Path(f).resolve() for f in books]
    if len({f.stem for f in files}) != len(files):
        raise ValueError(f"two workbooks with the same name: {files}")
    expected = {f: {name: outdir / f"{f.stem}-{name}.csv" for name in books[src]}
                for f, src in zip(files, books, strict=True)}
    _convert(files, CSV_ALL_SHEETS, outdir,
             [p for sheets in expected.values() for p in sheets.values()],
             timeout, allow_empty=True)
    return {src: {name: _read_csv(path) for name, path in expected[f].items()}
            for f, src in zip(files, books, strict=True)}


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _convert(files: list[Path], target: str, outdir: Path, expected: list[Path], timeout: float,
             allow_empty: bool = False) -> None:
    if SOFFICE is None:
        raise LibreOfficeError(f"soffice not found; install it: {INSTALL_HINT}")
    outdir.mkdir(parents=True, exist_ok=True)
    for path in expected:
        path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        # HOME inside the profile folder: nothing of the run is left in the real home directory.
        env = {**os.environ, "HOME": profile}
        cmd = [SOFFICE, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--nodefault", "--convert-to", target, "--outdir",
               str(outdir), *[str(f) for f in files]]
        done = _run(cmd, timeout, env)
    missing = [p.name for p in expected
               if not p.is_file() or (p.stat().st_size == 0 and not allow_empty)]
    if done.returncode != 0 or missing:
        raise LibreOfficeError(f"soffice --convert-to {target} failed (exit {done.returncode}); "
                               f"missing outputs: {missing}\nstdout:\n{done.stdout}\n"
                               f"stderr:\n{done.stderr}")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LibreOfficeError(f"{name} not found; install poppler-utils: {INSTALL_HINT}")
    return found


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text of every page (pdftotext, reading order), one string per page."""
    done = _run([_tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], timeout=60)
    if done.returncode != 0:
        raise LibreOfficeError(f"pdftotext failed on {pdf}: {done.stderr}")
    pages = done.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def render_pages(pdf: Path, pages: Sequence[int], outdir: Path, prefix: str,
                 dpi: int = 110) -> list[Path]:
    """Render 1-based pages of a PDF to PNG files named <prefix>-<page>.png."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        stem = outdir / f"{prefix}-{page}"
        done = _run([_tool("pdftoppm"), "-f", str(page), "-l", str(page), "-r", str(dpi), "-png",
                     "-singlefile", str(pdf), str(stem)], timeout=120)
        png = stem.with_suffix(".png")
        if done.returncode != 0 or not png.is_file():
            raise LibreOfficeError(f"pdftoppm failed on page {page} of {pdf}: {done.stderr}")
        written.append(png)
    return written


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (no imaging library needed)."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise LibreOfficeError(f"{path} is not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    """One PDF page in points: its size and every word with its box (pdftotext -bbox)."""

    width: float
    height: float
    words: tuple[Word, ...]

    def band(self, top: float, bottom: float) -> list[Word]:
        """The words whose box lies between two heights (0 at the top of the page)."""
        return [w for w in self.words if w.y0 >= top and w.y1 <= bottom]


def pdf_words(pdf: Path) -> list[Page]:
    """Every page of a PDF with its words' boxes, in reading order."""
    done = _run([_tool("pdftotext"), "-bbox", "-enc", "UTF-8", str(pdf), "-"], timeout=60)
    if done.returncode != 0:
        raise LibreOfficeError(f"pdftotext -bbox failed on {pdf}: {done.stderr}")
    root = ElementTree.fromstring(done.stdout)
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        words = tuple(Word(w.text or "", *(float(w.attrib[k])
                                           for k in ("xMin", "yMin", "xMax", "yMax")))
                      for w in page.iter("{http://www.w3.org/1999/xhtml}word"))
        pages.append(Page(float(page.attrib["width"]), float(page.attrib["height"]), words))
    return pages
