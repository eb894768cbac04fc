"""On paper: feedback copies and templates printed to PDF by LibreOffice, checked from the PDF
(pages per sheet, the running head, nothing cut at the right edge or inside a cell, the letter's
lines in full) and rendered to PNG for a person to look at.

The PNGs, PDFs and a page count per sheet (`sidor.txt`) stay in test-output/utskrift/ (or
$CONSOLIDATE_TEST_OUTPUT/utskrift/) after the run."""

from __future__ import annotations

import os
import shutil
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.periods import Period
from consolidate.template import write_templates
from test_feedback import letter
from test_validate import base_values

from conftest import ROOT
from lo_helpers import PDF, SOFFICE, Page, convert, pdf_words, png_size, render_pages

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice Calc (soffice) is not installed on "
                                               "this machine; .ci/run installs "
                                               "libreoffice-calc-nogui when it is missing"),
]

OUTPUT = Path(os.environ.get("CONSOLIDATE_TEST_OUTPUT") or ROOT / "test-output") / "utskrift"
SIDE = 0.5 * 72  # left and right margins
LATEST = Period(2026, 1)  # the demo's last tertial; Vuxensektionen's file has two entry mistakes
T2 = Period(2025, 2)


@pytest.fixture(scope="module")
def output_dir() -> Path:
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> dict[str, Path]:
    """The demo's feedback copies (Vuxensektionen 2026-T1 with two errors, 2025-T2 without any),
    a copy with marks on several sheets, and the 2026-T1 templates."""
    from click.testing import CliRunner

    from consolidate.cli import cli

    from conftest import fill

    root = tmp_path_factory.mktemp("utskrift")
    runner = CliRunner()

    def run(*args: Any) -> Result:
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    assert run("demo", root / "exempel").exit_code == 0
    out = root / "återkoppling"
    assert run("check", root / "exempel" / str(LATEST), "--feedback", out).exit_code == 1
    assert run("check", root / "exempel" / str(T2), "--feedback", out).exit_code == 0
    templates = write_templates(catalog, T2, root / "mallar_t2")
    by_unit = {p.stem.split("_", 1)[1]: p for p in templates}
    many = fill(by_unit["forebyggande"], {
        **base_values(catalog, "forebyggande", T2), "tab_arenden_per_kalla_bun_andel": 0.63,
        "ind_forebyggande_insatser_varde": 25000, "tab_personalomsattning_egen_begaran_antal": 12},
        root / "flera" / f"{T2}_forebyggande.xlsx")
    assert run("check", many, "--feedback", out).exit_code == 1
    found = {
        "vuxen_aterkoppling": out / f"{LATEST}_vuxen_återkoppling.xlsx",
        "vuxen_aterkoppling_t2": out / f"{T2}_vuxen_återkoppling.xlsx",
        "forebyggande_aterkoppling": out / f"{T2}_forebyggande_återkoppling.xlsx",
    }
    for path in write_templates(catalog, LATEST, root / "mallar"):
        found[f"mall_{path.stem.split('_', 1)[1]}"] = path
    return found


@pytest.fixture(scope="module")
def printed(books: dict[str, Path], output_dir: Path) -> dict[str, tuple[Path, list[Page]]]:
    """Each workbook with its PDF's pages, converted in one LibreOffice call."""
    folder = output_dir / "xlsx"
    folder.mkdir()
    copies = [shutil.copy2(path, folder / f"{key}.xlsx") for key, path in books.items()]
    pdfs = convert([Path(c) for c in copies], PDF, output_dir)
    return {key: (book, pdf_words(pdf)) for (key, book), pdf in zip(books.items(), pdfs,
                                                                    strict=True)}


def _head(page: Page) -> tuple[str, str]:
    """The running head's left part (unit and period) and right part (the sheet): the page's
    first line."""
    top = min(w.y0 for w in page.words)
    words = page.band(top - 1, top + 14)
    left = " ".join(w.text for w in words if w.x1 < page.width / 2)
    right = " ".join(w.text for w in words if w.x0 > page.width / 2)
    return left, right


def _pages_per_sheet(pages: list[Page]) -> dict[str, list[Page]]:
    found: dict[str, list[Page]] = {}
    for page in pages:
        found.setdefault(_head(page)[1], []).append(page)
    return found


def _visible(book: Path) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [ws for ws in openpyxl.load_workbook(book).worksheets
                if ws.sheet_state == "visible"]


def _words(text: str) -> list[str]:
    return text.replace("\u00a0", " ").replace("\u202f", " ").split()


def _flat(pages: list[Page]) -> str:
    return " ".join(w.text for page in pages for w in page.words)


def test_vuxensektionens_copy_prints_its_letter_on_one_page(
        printed: dict[str, tuple[Path, list[Page]]], catalog: Catalog, output_dir: Path) -> None:
    book, pages = printed["vuxen_aterkoppling"]
    sheets = _pages_per_sheet(pages)
    assert [title for title in sheets] == [ws.title for ws in _visible(book)]
    assert {title: len(found) for title, found in sheets.items()} == {
        title: 1 for title in sheets}, "every sheet of the copy prints on one page"
    assert _head(pages[0])[1] == "Återkoppling"
    text = _flat(sheets["Återkoppling"])
    lines, _, rows = letter(openpyxl.load_workbook(book)["Återkoppling"])
    for line in lines:  # each line of the letter, whole and in order of its words
        assert " ".join(_words(line)) in text, line
    assert "Bedömning: underkänd – 2 fel och 0 varningar." in text
    assert "senast 10 maj 2026" in text
    assert f"Frågor? Kontakta {catalog.board.contact}." in text
    assert len(rows) == 2
    words = Counter(text.split())
    for row in rows:  # the table's cells wrap side by side, so their words are counted
        missing = Counter(w for cell in row for w in _words(str(cell))) - words
        assert not missing, (row, missing)


def test_every_sheet_prints_at_page_width_with_unit_and_period_in_the_head(
        printed: dict[str, tuple[Path, list[Page]]], catalog: Catalog) -> None:
    for key, (book, pages) in printed.items():
        meta = {row[0].value: row[1].value
                for row in openpyxl.load_workbook(book)["_meta"].iter_rows(max_col=2)}
        unit = catalog.unit(str(meta["enhet"])).name
        year, tertial = str(meta["period"]).split("-T")
        for number, page in enumerate(pages, start=1):
            assert page.width > page.height, f"{key} page {number} is not landscape"
            assert abs(page.width - 842) < 2 and abs(page.height - 595) < 2, "A4"
            assert _head(page)[0] == f"{unit} – T{tertial} {year}", (key, number)
            outside = [w.text for w in page.words
                       if w.x1 > page.width - SIDE + 2 or w.x0 < SIDE - 2]
            assert not outside, f"{key} page {number}: text beyond the margins: {outside}"
        for title, found in _pages_per_sheet(pages).items():
            # The last column's head repeats on every page: no column ran onto a page of its own.
            last = {"Återkoppling": "väntas", "Instruktioner": None}.get(title, "Kontroll")
            for page in found:
                assert last is None or last in {w.text for w in page.words}, (key, title)


def _overlapping(page: Page) -> list[tuple[str, str]]:
    """Words drawn over each other: a wrapped cell's lines that run on below a row too low for
    them (LibreOffice writes them into the PDF, clipped or over the next row's text)."""
    found = []
    words = sorted(page.words, key=lambda w: w.y0)
    for index, word in enumerate(words):
        for other in words[index + 1:]:
            if other.y0 >= word.y1:
                break
            high = min(word.y1, other.y1) - max(word.y0, other.y0)
            wide = min(word.x1, other.x1) - max(word.x0, other.x0)
            # lines of one wrapped cell touch; lines of two rows drawn over each other cover
            if wide > 1 and high > 0.4 * min(word.y1 - word.y0, other.y1 - other.y0):
                found.append((word.text, other.text))
    return found


def test_no_text_is_cut_inside_its_cell(printed: dict[str, tuple[Path, list[Page]]]) -> None:
    """Every word of every text cell is on its sheet's pages, and no line is drawn over another:
    a cell too narrow cuts words off (before: 'AllvarligheFlik'), a row too low for its wrapped
    text hides its last lines (before: the end of the Indikatorer sheet's hint)."""
    for key, (book, pages) in printed.items():
        for number, page in enumerate(pages, start=1):
            assert not _overlapping(page), f"{key} page {number}: {_overlapping(page)[:5]}"
        sheets = _pages_per_sheet(pages)
        for ws in _visible(book):
            shown = Counter(_flat(sheets.get(ws.title, [])).split())
            typed = Counter(w for row in ws.iter_rows() for cell in row
                            if cell.data_type == "s" for w in _words(str(cell.value)))
            missing = typed - shown
            assert not missing, f"{key}, sheet {ws.title}: not printed in full: {dict(missing)}"


def test_pages_are_rendered_for_a_person_to_look_at(
        printed: dict[str, tuple[Path, list[Page]]], output_dir: Path) -> None:
    report = []
    for key, (book, pages) in printed.items():
        counts = {title: len(found) for title, found in _pages_per_sheet(pages).items()}
        report.append(f"{key}: {len(pages)} sidor; "
                      + ", ".join(f"{title} {n}" for title, n in counts.items()))
    (output_dir / "sidor.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    for key in ("vuxen_aterkoppling", "forebyggande_aterkoppling", "mall_vuxen"):
        pages = printed[key][1]
        for png in render_pages(output_dir / f"{key}.pdf", range(1, len(pages) + 1), output_dir,
                                key):
            width, height = png_size(png)
            assert width > height > 500, (png, width, height)  # A4 landscape at 110 dpi
            assert png.stat().st_size > 20_000, f"{png} looks blank"
