"""Run LibreOffice Calc headless for the round-trip tests: conversions, PDF text and PDF pages as PNG."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
INSTALL_HINT = ("apt-get install -y --no-install-recommends libreoffice-calc-nogui poppler-utils "
                "(.ci/run does this when soffice is missing)")

XLSX = "xlsx:Calc MS Excel 2007 XML"
ODS = "ods:calc8"
PDF = "pdf:calc_pdf_Export"
TIMEOUT = 240  # seconds for one soffice call; a first start with a fresh profile takes a few seconds

# A fresh profile per call, set up like a Swedish desktop: Swedish locale (so "1 400" and "4,2 %"
# print as a Swedish user sees them) and "always recalculate on load", so every formula value in
# an output was computed by LibreOffice and none is a cached value copied from the input file.
# OOXMLRecalcMode/ODFRecalcMode: 0 = always, 1 = never (LibreOffice's default), 2 = ask.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>sv-SE</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(AssertionError):
    """A conversion that did not produce its files: a test failure, never a skip."""


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run in a new process group so a hung soffice and its children can be ended by group id."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise LibreOfficeError(f"timed out after {timeout} s: {' '.join(cmd)}\n{out}\n{err}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(files: Sequence[Path], target: str, outdir: Path, timeout: float = TIMEOUT) -> list[Path]:
    """Convert many files in one soffice call; returns the outputs in the order of `files`.

    soffice exits 0 even when a file cannot be loaded, so success is judged by the outputs."""
    if SOFFICE is None:
        raise LibreOfficeError(f"soffice not found; install it: {INSTALL_HINT}")
    files = [Path(f).resolve() for f in files]
    ext = target.split(":", 1)[0]
    outdir.mkdir(parents=True, exist_ok=True)
    expected = [outdir / f"{f.stem}.{ext}" for f in files]
    if len(set(expected)) != len(expected):
        raise ValueError(f"two inputs would give the same output name in {outdir}: {files}")
    for path in expected:
        path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        # HOME inside the profile folder: nothing of the run is left in the real home directory.
        env = {**os.environ, "HOME": profile}
        cmd = [SOFFICE, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", target, "--outdir", str(outdir),
               *[str(f) for f in files]]
        done = _run(cmd, timeout, env)
    missing = [p.name for p in expected if not p.is_file() or p.stat().st_size == 0]
    if done.returncode != 0 or missing:
        raise LibreOfficeError(f"soffice --convert-to {target} failed (exit {done.returncode}); "
                               f"missing outputs: {missing}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return expected


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


def render_pages(pdf: Path, pages: Sequence[int], outdir: Path, prefix: str, dpi: int = 110) -> list[Path]:
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
