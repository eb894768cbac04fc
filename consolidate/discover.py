"""Which files in a folder are read: workbooks, and what a unit head may have saved instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

# Every spreadsheet a unit head may hand in, also in a format the reader refuses: a file saved as
# an Excel template, as .ods or as .csv must be named with its reason, not pass as a missing unit.
CANDIDATE_SUFFIXES = frozenset({
    ".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb",
    ".ods", ".ots", ".fods", ".csv", ".numbers",
})


def is_lock_file(path: Path) -> bool:
    """Excel's (~$) and LibreOffice's (.~lock) lock files beside an open workbook."""
    return path.name.startswith("~$") or path.name.startswith(".~lock")


def links_out(path: Path, root: Path | None) -> bool:
    """A symbolic link, in a checked folder, to something outside that folder."""
    if root is None or not path.is_symlink():
        return False
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def iter_workbooks(root: Path) -> Iterator[Path]:
    """Every candidate file under a folder, sorted. A link out of the folder is yielded too, so that
    read_submission can say why it is not read (it never opens the target); folder links are not
    followed."""
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in CANDIDATE_SUFFIXES:
            continue
        if path.is_file() or links_out(path, root):
            yield path
