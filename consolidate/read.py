"""Read one returned workbook into its values and findings: the entry point of reading."""

# The jobs of reading have their own modules: discover (which files), guard (bytes to bounded, safe
# parts), book (the workbook part), sheetxml (what calamine does not tell), identity (whose
# template, which period, where the file lies) and cells (the input cells by defined name).

from __future__ import annotations

import hashlib
import os
import stat as stat_mode
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .book import read_book
from .catalog import Catalog
from .cells import Workbook, read_values
from .discover import is_lock_file, iter_workbooks, links_out
from .errors import os_reason
from .findings import finding
from .guard import MAX_FILE_BYTES, MAX_SHEETS, Package, Refused, check_bytes, main_part, refuse
from .identity import identify
from .layout import META_SHEET
from .model import CELL_COLUMNS, CellValue, Finding, Submission

__all__ = ["columns_of", "file_label", "frame_from_columns", "frame_of", "is_lock_file",
           "iter_workbooks", "read_submission", "values_digest"]

# Set (to 1) by the test suite: a bug in the reader then raises instead of becoming "internt_fel",
# so that no test can pass over one.
RAISE_BUGS = "CONSOLIDATE_RAISE_BUGS"


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
    return ([list(column) for column in zip(*rows, strict=True)] if rows
            else [[] for _ in CELL_COLUMNS])


def _schema() -> dict[str, Any]:
    import polars as pl

    return {
        "file": pl.String, "unit": pl.String, "period": pl.String, "sheet": pl.String,
        "cell": pl.String, "name": pl.String, "scope": pl.String, "item": pl.String,
        "field": pl.String, "kind": pl.String, "required": pl.Boolean, "value": pl.Float64,
        "text": pl.String, "raw": pl.String,
    }


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


def read_submission(path: Path, catalog: Catalog, root: Path | None = None) -> Submission:
    """Read one workbook. Never raises for what is in the file: problems become findings."""
    label = file_label(path, root)
    if links_out(path, root):
        try:
            modified = path.lstat().st_mtime
        except OSError:
            modified = 0.0
        return Submission(str(path), label, 0, modified, "",
                          findings=(finding("lank_utanfor", label),))
    try:
        stat = path.stat()
        if not stat_mode.S_ISREG(stat.st_mode):  # a FIFO or device would block or never end
            return Submission(str(path), label, 0, stat.st_mtime, "", findings=(
                finding("oläsbar", label, reason="det är ingen vanlig fil"),))
        data = path.read_bytes() if stat.st_size <= MAX_FILE_BYTES else b""
    except OSError as exc:
        return Submission(str(path), label, 0, 0.0, "", findings=(
            finding("oläsbar", label, reason=os_reason(exc)),))
    base = Submission(str(path), label, stat.st_size, stat.st_mtime,
                      hashlib.sha256(data).hexdigest())
    try:
        return _read(base, data, path, catalog, root)
    except Refused as refused:
        return _replace(base, findings=(refused.finding,))
    except Exception as exc:  # noqa: BLE001 - the one edge where a bug in reading one file is
                              # caught
        return _internal_error(base, exc)
    except BaseException as exc:
        # A panic in calamine's Rust code reaches Python as pyo3's PanicException, a BaseException
        # that cannot be imported by name; it is a bug in a library, not in the file.
        if type(exc).__name__ != "PanicException":
            raise
        return _internal_error(base, exc)


def _internal_error(base: Submission, exc: BaseException) -> Submission:
    if os.environ.get(RAISE_BUGS):
        raise exc
    name = type(exc).__name__
    return _replace(base, findings=(finding("internt_fel", base.file, value=name, error=name),))


# errno -> why, in Swedish (the OS's own text may be English): reading a file, writing one.
def _replace(base: Submission, **changes: Any) -> Submission:
    values = {k: getattr(base, k) for k in base.__dataclass_fields__}
    values.update(changes)
    return Submission(**values)


def _read(base: Submission, data: bytes, path: Path, catalog: Catalog,
          root: Path | None) -> Submission:
    label = base.file
    suffix = path.suffix.lower()
    check_bytes(data, base.size, suffix, label)
    package = Package(data, label)
    book = read_book(package, main_part(package, suffix))
    extra: list[Finding] = []
    if any("externallinks/" in name for name in package.parts):
        extra.append(finding("extern_lank", label))
    if len(book.sheets) > MAX_SHEETS:
        raise refuse("for_manga_flikar", label, count=str(len(book.sheets)), limit=str(MAX_SHEETS))
    workbook = Workbook(package, book) if META_SHEET in book.sheets else None
    who = identify(workbook, catalog, path, root, label)
    if who.period is None:  # one of the tool's own outputs
        return _replace(base, tool_output=who.kind, unit=who.unit, period=who.period_text,
                        readable=True)
    assert workbook is not None  # a template has its _meta sheet
    cells, found = read_values(workbook, catalog, who.unit, who.period, who.content)
    # A feedback copy nobody has changed is our own output to `run`; a corrected one is a
    # submission.
    digest = values_digest(cells)
    unchanged = who.kind == "återkoppling" and who.digest == digest
    return _replace(base, unit=who.unit, period=who.period_text, cells=tuple(cells),
                    unchanged_copy=unchanged, findings=tuple(extra + found), readable=True,
                    n_values=len(cells), digest=digest, template_catalog=who.catalog)


def values_digest(cells: Sequence[CellValue]) -> str:
    """A fingerprint of what was typed (name and raw text of every input cell)."""
    text = "\n".join(sorted(f"{c.name}\t{c.raw}" for c in cells))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
