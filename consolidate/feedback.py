"""Feedback copies for unit heads: wrong cells coloured and commented, findings listed first."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .errors import UsageError, os_reason
from .layout import FEEDBACK_SHEET, META_SHEET
from .model import Finding, Severity

RED = "FFC7CE"
YELLOW = "FFEB9C"
INPUT = "FFF2CC"  # the template's fill of input cells (template.INPUT_FILL)
AUTHOR = "consolidate"
_SUFFIX = "_återkoppling"


def feedback_name(source: Path) -> str:
    """'2025-T2_vuxen.xlsx' -> '2025-T2_vuxen_återkoppling.xlsx'; a returned feedback copy keeps
    its name."""
    stem = source.stem
    return f"{stem}.xlsx" if stem.endswith(_SUFFIX) else f"{stem}{_SUFFIX}.xlsx"


def _anchor(ws: Any, ref: str) -> Any:
    """The cell to mark: a cell swallowed by a merged range is marked on the range's top left
    cell."""
    from openpyxl.cell.cell import MergedCell

    cell = ws[ref]
    if isinstance(cell, MergedCell):
        for rng in ws.merged_cells.ranges:
            if cell.coordinate in rng:
                return ws.cell(row=rng.min_row, column=rng.min_col)
    return cell


def _clear_earlier_marks(wb: Any) -> None:
    """A returned feedback copy: remove our old comments and colours so only current findings
    show."""
    from openpyxl.styles import PatternFill

    plain = PatternFill("solid", start_color=INPUT, end_color=INPUT)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
                    cell.fill = plain


def _link(cell: Any, sheet: str, ref: str) -> Any:
    """An in-workbook link (location, not an external target), as Excel writes one."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    return Hyperlink(ref=cell.coordinate, location="'" + sheet.replace("'", "''") + "'!" + ref)


def _text(cell: Any, value: str) -> None:
    """Write text as text: openpyxl would make a formula of a string starting with '='."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"


def check_feedback_dir(out_dir: Path) -> None:
    """Refuse a feedback folder that is a file, lies in templates_xlsx/ or cannot be written in,
    before anything is read: made if missing, then written in once (a permission is only known by
    trying: root, ACLs and network shares do not answer os.access truthfully)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} är en fil; --feedback ska vara en mapp.")
    if "templates_xlsx" in out_dir.resolve().parts:
        raise UsageError("Återkopplingskopiorna skrivs inte i templates_xlsx/, "
                         "där mallarna ligger.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        why = os_reason(exc, writing=True)
        raise UsageError(f"Återkopplingsmappen {out_dir} går inte att skriva i ({why}). Ange en "
                         "mapp du kan skriva i med --feedback.") from None


def feedback_target(source: Path, out_dir: Path, inputs: Collection[Path] = ()) -> Path | None:
    """Where the copy of `source` goes, or None when that path is a submitted file (never
    overwritten)."""
    target = (out_dir / feedback_name(source)).resolve()
    protected = {source.resolve(), *(p.resolve() for p in inputs)}
    return None if target in protected else out_dir / feedback_name(source)


def write_feedback(source: Path, findings: Sequence[Finding], out_dir: Path,
                   inputs: Collection[Path] = (), value_digest: str = "") -> Path | None:
    """Write a feedback copy of `source` into out_dir; the source file is only read.

    Returns None when openpyxl cannot open the workbook as the reader did (its findings say why
    when it is broken), or when the copy would land on a submitted file: `source` itself (a
    returned feedback copy checked in place) or any of `inputs` (pass every checked file)."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    target_path = feedback_target(source, out_dir, inputs)
    if target_path is None:
        return None
    try:
        # openpyxl warns about what it drops; the check below decides
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(source)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for packages calamine reads
        return None
    if META_SHEET not in wb.sheetnames:
        # openpyxl sees no sheets in a package the reader read (Strict Open XML, say): a copy of it
        # would be the feedback sheet alone, the unit's own sheets lost.
        return None
    _clear_earlier_marks(wb)
    red = PatternFill("solid", start_color=RED, end_color=RED)
    yellow = PatternFill("solid", start_color=YELLOW, end_color=YELLOW)
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for item in findings:
        if item.sheet and item.cell and item.sheet in wb.sheetnames:
            by_cell.setdefault((item.sheet, item.cell), []).append(item)
    for (sheet, ref), items in by_cell.items():
        cell = _anchor(wb[sheet], ref)
        worst = (Severity.ERROR if any(i.severity == Severity.ERROR for i in items)
                 else Severity.WARNING)
        cell.fill = red if worst == Severity.ERROR else yellow
        text = "\n".join(f"{i.severity.upper()}: {i.message}" for i in items)
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 45 + len(items))
        cell.comment = comment
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    heads = ["Allvarlighet", "Flik", "Cell", "Regel", "Meddelande"]
    for col, head in enumerate(heads, start=1):
        ws.cell(row=1, column=col, value=head).font = Font(bold=True)
    for row, item in enumerate(findings, start=2):
        ws.cell(row=row, column=1, value=str(item.severity)).fill = (
            red if item.severity == Severity.ERROR else yellow)
        _text(ws.cell(row=row, column=2), item.sheet)
        target = ws.cell(row=row, column=3)
        _text(target, item.cell)
        if item.sheet in wb.sheetnames and item.cell:
            target.hyperlink = _link(target, item.sheet, item.cell)
            target.font = Font(color="0563C1", underline="single")
        _text(ws.cell(row=row, column=4), item.title)
        _text(ws.cell(row=row, column=5), item.message)
    if not findings:
        ws.cell(row=2, column=5, value="Inga fel eller varningar. Tack!")
    for letter, width in zip("ABCDE", (12, 22, 8, 30, 100), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    if META_SHEET in wb.sheetnames:
        meta = wb[META_SHEET]
        keys: dict[Any, Any] = {}
        for key_cell, value_cell in meta.iter_rows(min_col=1, max_col=2):
            keys[key_cell.value] = value_cell
            if key_cell.value == "typ":
                value_cell.value = "återkoppling"
        if value_digest:
            # Lets a later run skip this copy until a unit head changes a value in it.
            if "vardehash" in keys:
                keys["vardehash"].value = value_digest
            else:
                meta.append(["vardehash", value_digest])
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_atomically(target_path, wb.save)
