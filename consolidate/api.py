"""The library's entry points: what the command line does, callable from Python."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .boardmodel import Board
from .catalog import Catalog
from .model import Report


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Returns the board's catalog from a TOML file (the bundled example when `path` is None).

    Raises CatalogError with a Swedish message naming the line when the file is wrong."""
    from .catalog_parse import load_catalog as load

    return load(path)


def make_templates(catalog: Catalog, period: str, folder: str | Path,
                   units: Iterable[str] | None = None) -> list[Path]:
    """Writes one template per unit (or the given unit ids) for the period, e.g. "2025-T2";
    returns the paths written."""
    from .periods import parse_period
    from .template import write_templates

    return write_templates(catalog, parse_period(period), Path(folder),
                           list(units) if units else None)


def check(paths: Sequence[str | Path], catalog: Catalog) -> Report:
    """Reads and validates workbooks (files or folders); returns the report: one result per file
    and every finding with file, sheet, cell and a Swedish message. Never changes a file."""
    from .run import check_files, collect_paths

    files, root = collect_paths([Path(p) for p in paths])
    return check_files(files, catalog, root).report()


def consolidate_folder(folder: str | Path, catalog: Catalog, period: str | None = None,
                       mask: bool = False, comparison: str | Path | None = None) -> Board:
    """Reads every submission in the shared folder and returns the board model for the period
    (the latest in the folder when None): per indicator and period the value, the units' parts,
    who is missing or rejected, status and trend; the unit tables; the register and every finding
    (`board.register`, `board.report`). Nothing is written. `mask` hides small counts;
    `comparison`, a file from Kolada, gives `board.comparison` (Kolada's figures beside the
    board's)."""
    from .run import run

    board = run(Path(folder), catalog, period=period, mask=mask, write=False,
                comparison=Path(comparison) if comparison is not None else None).board
    assert board is not None
    return board


def write_master(board: Board, path: str | Path) -> Path:
    """Writes the board's master workbook (atomically) and returns its path."""
    from .master import write_master as write

    return write(board, Path(path))


def write_export(board: Board, folder: str | Path) -> list[Path]:
    """Writes the board's long data as Parquet and CSV into folder; returns the two paths."""
    from .export import export_long

    return export_long(board, Path(folder))


def mail_master(master: str | Path, to: Sequence[str], *, sender: str, cc: Sequence[str] = (),
                outbox: str | Path | None = None, incomplete: bool = False,
                catalog: Catalog | None = None, force: bool = False) -> Path:
    """Writes the board's e-mail with the master attached as an .eml file in the outbox (default
    utkorg/ beside the master), logs it in the board's utskickslogg.txt (beside `catalog`'s file,
    else in the folder the master was made from) and returns the .eml's path. A master that lacks
    a unit of its period (missing, or rejected with no valid file) is refused unless `incomplete`
    (`force` is its old name). Sending through SMTP: consolidate.delivery.deliver."""
    from .delivery import MASTER, Outgoing, deliver
    from .mail import build_master_message, parse_addresses
    from .maillog import LOG_NAME, log_path
    from .mastermeta import read_master_summary

    path = Path(master)
    summary = read_master_summary(path)
    message = build_master_message(path, summary, sender=sender, to=parse_addresses(to),
                                   cc=parse_addresses(cc), incomplete=incomplete or force)
    source = Path(summary.source) if summary.source else path.parent
    home = source if source.is_dir() else path.parent
    log = log_path(catalog, home) if catalog is not None else home / LOG_NAME
    done = deliver([Outgoing(message, MASTER, summary.period)], settings=None, log=log,
                   outbox=Path(outbox) if outbox else path.parent / "utkorg")
    assert done[0].path is not None
    return done[0].path
