"""The shared folder around checked files: where their earlier tertials lie, so that `check FILE`
compares a file with its unit's previous tertial as `run` on the folder does."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from .discover import is_lock_file
from .errors import PeriodError
from .periods import Period, parse_period


def period_named(folder: Path) -> Period | None:
    """The tertial a folder is named for ("2026-T1", "T1 2026" …), if it is one's."""
    try:
        return parse_period(folder.name)
    except PeriodError:
        return None


def shared_folder(path: Path) -> Path:
    """The shared folder a file or folder lies in: its own folder, or the one above when that is a
    tertial's folder (inlamning/2026-T1/fil.xlsx lies in inlamning)."""
    folder = path if path.is_dir() else path.parent
    return folder.parent if period_named(folder) is not None else folder


def history_files(checked: Sequence[Path], wanted: Collection[Period]) -> dict[Path, list[Path]]:
    """Per shared folder of the checked files, the other workbooks in it and in the folders in it
    (the layout `run` reads: MAPP/2025-T3/fil.xlsx), leaving out tertials' folders that are not
    `wanted`. Deeper folders are not searched: a file checked in Hämtade filer must not set off a
    read of everything below it."""
    own = {p.resolve() for p in checked}
    found: dict[Path, list[Path]] = {}
    for root in sorted({shared_folder(p) for p in checked}):
        paths = []
        for path in _workbooks(root):
            period = period_named(path.parent) if path.parent != root else None
            if (period is None or period in wanted) and path.resolve() not in own:
                paths.append(path)
        if paths:
            found[root] = paths
    return found


def _workbooks(root: Path) -> list[Path]:
    """The .xlsx files in a folder and in its folders, sorted; lock files and our temp files left
    out, folder links not followed."""
    out: list[Path] = []
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return out
    for entry in entries:
        try:
            if entry.is_dir() and not entry.is_symlink():
                out += [p for p in sorted(entry.iterdir()) if _workbook(p)]
            elif _workbook(entry):
                out.append(entry)
        except OSError:
            continue
    return out


def _workbook(path: Path) -> bool:
    return (path.suffix.lower() == ".xlsx" and not is_lock_file(path)
            and not path.name.startswith(".") and path.is_file())
