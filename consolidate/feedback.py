"""Feedback copies for unit heads: wrong cells coloured and commented, a letter with the findings
first."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .catalog import Catalog
from .deadlines import sv_date
from .errors import PeriodError, UsageError, os_reason
from .feedbackletter import EDGE, MARK, LetterHead, letter_rows, write_letter
from .layout import FEEDBACK_SHEET, META_SHEET, build_layout
from .model import Finding, Severity
from .periods import parse_period
from .printsetup import openpyxl_print

RED = MARK[Severity.ERROR]
YELLOW = MARK[Severity.WARNING]
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
    from openpyxl.styles import Border, PatternFill, Side

    plain = PatternFill("solid", start_color=INPUT, end_color=INPUT)
    thin = Side(style="thin")  # the template's input cells: border 1
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
                    cell.fill = plain
                    cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)


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
                   inputs: Collection[Path] = (), value_digest: str = "",
                   catalog: Catalog | None = None) -> Path | None:
    """Write a feedback copy of `source` into out_dir; the source file is only read.

    With the catalog, the letter names the fields as the template does and says the deadline and
    whom to ask. Returns None when openpyxl cannot open the workbook as the reader did (its
    findings say why when it is broken), or when the copy would land on a submitted file:
    `source` itself (a returned feedback copy checked in place) or any of `inputs` (pass every
    checked file)."""
    import openpyxl

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
    meta = {str(k.value): v for k, v in wb[META_SHEET].iter_rows(min_col=1, max_col=2)}
    _clear_earlier_marks(wb)
    _mark(wb, findings)
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    said = {key: str(cell.value or "") for key, cell in meta.items()}
    head = _letter_head(source, said, catalog)
    rows = letter_rows(findings, _field_labels(wb, said, catalog), wb.sheetnames)
    letter = write_letter(wb, head, rows)
    for ws in wb.worksheets:
        if ws is not letter and ws.sheet_state == "visible":
            openpyxl_print(ws, head.unit, head.heading)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    if "typ" in meta:
        meta["typ"].value = "återkoppling"
    if value_digest:
        # Lets a later run skip this copy until a unit head changes a value in it.
        if "vardehash" in meta:
            meta["vardehash"].value = value_digest
        else:
            wb[META_SHEET].append(["vardehash", value_digest])
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_atomically(target_path, wb.save)


def _mark(wb: Any, findings: Sequence[Finding]) -> None:
    """Each finding's cell red (fel) or yellow (varning) with a strong edge, so the mark shows on
    the template's pale yellow input cells and on paper, and a comment saying what the letter
    says."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Border, PatternFill, Side

    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for item in findings:
        if item.sheet and item.cell and item.sheet in wb.sheetnames:
            by_cell.setdefault((item.sheet, item.cell), []).append(item)
    for (sheet, ref), items in by_cell.items():
        cell = _anchor(wb[sheet], ref)
        worst = (Severity.ERROR if any(i.severity == Severity.ERROR for i in items)
                 else Severity.WARNING)
        cell.fill = PatternFill("solid", start_color=MARK[worst], end_color=MARK[worst])
        edge = Side(style="medium", color=EDGE[worst])
        cell.border = Border(left=edge, right=edge, top=edge, bottom=edge)
        text = "\n".join(f"{i.severity.upper()}: {i.message}" for i in items)
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 45 + len(items))
        cell.comment = comment


def _letter_head(source: Path, meta: dict[str, str], catalog: Catalog | None) -> LetterHead:
    unit_id, period_text = meta.get("enhet", ""), meta.get("period", "") or "okänd period"
    try:
        period = parse_period(period_text)
    except PeriodError:
        period = None
    unit = meta.get("enhetsnamn") or unit_id or "okänd enhet"
    if catalog is None:
        return LetterHead(unit, period.label if period else period_text,
                          period.heading if period else period_text, "", source.name)
    if catalog.has_unit(unit_id):
        unit = catalog.unit(unit_id).name
    due = catalog.settings.deadlines.due(period) if period else None
    return LetterHead(unit, period.label if period else period_text,
                      period.heading if period else period_text,
                      f"{catalog.board.name}, {catalog.board.municipality}", source.name,
                      sv_date(due) if due else "", catalog.board.contact)


def _field_labels(wb: Any, meta: dict[str, str],
                  catalog: Catalog | None) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> the field's label in the template, found through the workbook's defined
    names, so a cell that moved with an inserted row keeps its name."""
    try:
        period = parse_period(meta.get("period", ""))
    except PeriodError:
        return {}
    if catalog is None or not catalog.has_unit(meta.get("enhet", "")):
        return {}
    labels = {c.name: c.label for c in build_layout(catalog, meta["enhet"], period).cells}
    found: dict[tuple[str, str], str] = {}
    for name, defined in wb.defined_names.items():
        if name in labels:
            for sheet, ref in defined.destinations:
                found[(sheet, ref.replace("$", ""))] = labels[name]
    return found
