"""Feedback copies for unit heads: wrong cells coloured and commented, findings listed first."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .findings import FEL, Finding
from .layout import FEEDBACK_SHEET, META_SHEET

RED = "FFC7CE"
YELLOW = "FFEB9C"


def feedback_name(source: Path) -> str:
    return f"{source.stem}_återkoppling.xlsx"


def _text(cell: Any, value: str) -> None:
    """Write text as text: openpyxl would make a formula of a string starting with '='."""
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"


def write_feedback(source: Path, findings: Sequence[Finding], out_dir: Path) -> Path | None:
    """Write a feedback copy of `source` into out_dir; the source file is only read.

    Returns None when the workbook cannot be opened at all (its findings say why)."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    try:
        wb = openpyxl.load_workbook(source)
    except Exception:
        return None
    red = PatternFill("solid", start_color=RED, end_color=RED)
    yellow = PatternFill("solid", start_color=YELLOW, end_color=YELLOW)
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for item in findings:
        if item.sheet and item.cell and item.sheet in wb.sheetnames:
            by_cell.setdefault((item.sheet, item.cell), []).append(item)
    for (sheet, ref), items in by_cell.items():
        cell = wb[sheet][ref]
        worst = FEL if any(i.severity == FEL for i in items) else "varning"
        cell.fill = red if worst == FEL else yellow
        text = "\n".join(f"{i.severity.upper()}: {i.message}" for i in items)
        comment = Comment(text, "consolidate")
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 45 + len(items))
        cell.comment = comment
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    heads = ["Allvarlighet", "Flik", "Cell", "Regel", "Meddelande"]
    for col, head in enumerate(heads, start=1):
        ws.cell(row=1, column=col, value=head).font = Font(bold=True)
    for row, item in enumerate(findings, start=2):
        ws.cell(row=row, column=1, value=item.severity).fill = red if item.severity == FEL else yellow
        _text(ws.cell(row=row, column=2), item.sheet)
        target = ws.cell(row=row, column=3)
        _text(target, item.cell)
        if item.sheet in wb.sheetnames and item.cell:
            target.hyperlink = f"#'{item.sheet}'!{item.cell}"
            target.font = Font(color="0563C1", underline="single")
        _text(ws.cell(row=row, column=4), item.title)
        _text(ws.cell(row=row, column=5), item.message)
    if not findings:
        ws.cell(row=2, column=5, value="Inga fel eller varningar. Tack!")
    for col, width in zip("ABCDE", (12, 22, 8, 30, 100), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    if META_SHEET in wb.sheetnames:
        meta = wb[META_SHEET]
        for row in meta.iter_rows(min_col=1, max_col=2):
            if row[0].value == "typ":
                row[1].value = "återkoppling"
    out_dir.mkdir(parents=True, exist_ok=True)
    target_path = out_dir / feedback_name(source)
    if target_path.resolve() == source.resolve():
        raise ValueError("feedback would overwrite its source")
    fd, tmp = tempfile.mkstemp(prefix=".~tmp_", suffix=".xlsx", dir=out_dir)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, target_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target_path
