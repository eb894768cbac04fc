"""`consolidate status`: one period's register without a master, reading only the files it needs.

A file whose name or nearest dated folder names another period than the one asked (or the one
before it, which the jump warnings compare with) is not read: the reader would either find it to
be that period's file or refuse it for lying in the wrong place, and neither belongs to this
period's register. Every other file is read and validated as `run` does, so a unit's state, its
errors and its warnings are the same as in the master's Inlämning sheet.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import model
from .boardmodel import Doubt
from .catalog import Catalog
from .deadlines import sv_date
from .doubt import doubts_json, find_doubts
from .errors import UsageError
from .model import Checked, Finding, RegisterEntry, Report, Severity, Submission, UnitState
from .periods import Period, find_period_in_text, parse_period

if TYPE_CHECKING:
    import polars as pl

from .run import Progress, build_register, candidates, check_files_from, read_all


@dataclass(frozen=True)
class FolderStatus:
    """The period's register, the files behind it and the deadline, as of `today`."""

    folder: Path
    period: Period
    register: tuple[RegisterEntry, ...]
    checked: Checked
    due: dt.date | None
    today: dt.date
    files_read: int
    files_total: int
    doubts: tuple[Doubt, ...] = ()  # the period's values to check (as run lists them)

    def entries(self, state: UnitState) -> list[RegisterEntry]:
        return [e for e in self.register if e.state == state]

    @functools.cached_property
    def _by_file(self) -> dict[str, Submission]:
        return {s.file: s for s in self.checked.submissions}

    def submission(self, entry: RegisterEntry) -> Submission | None:
        return self._by_file.get(entry.file)

    def findings(self, entry: RegisterEntry) -> list[Finding]:
        sub = self.submission(entry)
        return [] if sub is None else self.checked.of(sub)

    def first_error(self, entry: RegisterEntry) -> Finding | None:
        return next((f for f in self.findings(entry) if f.severity == Severity.ERROR), None)

    @property
    def days_left(self) -> int | None:
        """Days from today to the last day to hand in (0 on the day, negative after it)."""
        return None if self.due is None else (self.due - self.today).days

    @property
    def complete(self) -> bool:
        """Every expected unit has a valid workbook: `run` would exit 0."""
        return not any(e.state in (UnitState.MISSING, UnitState.REJECTED)
                       for e in self.register if e.unit)

    def lacking(self) -> list[RegisterEntry]:
        """The units to remind: missing, or rejected with no valid file (the newest file each)."""
        seen: set[str] = set()
        out: list[RegisterEntry] = []
        for entry in self.register:
            if entry.unit and entry.state in (UnitState.MISSING, UnitState.REJECTED):
                if entry.unit not in seen:
                    seen.add(entry.unit)
                    out.append(self.newest(entry))
        return out

    def newest(self, entry: RegisterEntry) -> RegisterEntry:
        """A rejected unit's newest file (the one to give feedback on)."""
        same = [e for e in self.register if e.unit == entry.unit and e.state == entry.state
                and e.file]
        return max(same, key=lambda e: (getattr(self.submission(e), "modified", 0.0), e.file),
                   default=entry)

    def report(self) -> Report:
        """The files of the period's register and their findings (not the whole folder's)."""
        files = {e.file for e in self.register if e.file}
        results = tuple(r for r in self.checked.file_results() if r.file in files)
        findings = tuple(f for f in self.checked.all_findings() if f.file in files)
        return Report(results, findings)

    def to_dict(self) -> dict[str, Any]:
        """`status --json`: the report's keys (schemas/rapport.schema.json), the register with each
        rejected file's first error, and the deadline."""
        data = self.report().to_dict()
        rows = []
        for entry in self.register:
            row = model.json_keys(entry, model.REGISTER_KEYS)
            first = self.first_error(entry) if entry.state == UnitState.REJECTED else None
            if first is not None:
                row["forsta_fel"] = model.json_keys(first, model.FINDING_KEYS)
            rows.append(row)
        data.update({"period": str(self.period), "inlamning": rows,
                     "sista_dag": None if self.due is None else self.due.isoformat(),
                     "dagar_kvar": self.days_left, "kontrollera": doubts_json(self.doubts)})
        return data


def place_periods(path: Path, root: Path, root_name: str = "") -> list[Period]:
    """The periods a file's name and its nearest dated folder name (the places the reader checks
    against the file's own period), in that order; empty when neither names one. `root_name` is
    the checked folder's real name (resolved once by the caller)."""
    found = []
    named = find_period_in_text(path.name)
    if named is not None:
        found.append(named)
    try:
        parts = path.parent.relative_to(root).parts
    except ValueError:
        parts = (path.parent.name,)
    for folder in [*reversed(parts), root_name or root.resolve().name]:
        dated = find_period_in_text(folder)
        if dated is not None:
            found.append(dated)
            break
    return found


def _wanted(places: Sequence[Period], period: Period) -> bool:
    return not places or any(p in (period, period.previous) for p in places)


def folder_status(folder: Path, catalog: Catalog, period: str | None = None,
                  today: dt.date | None = None, progress: Progress | None = None) -> FolderStatus:
    """The register of `period` (the latest in the folder when None) as `run` would make it,
    without building the board or writing anything."""
    if not folder.is_dir():
        raise UsageError(f"Mappen {folder} finns inte eller är ingen mapp.")
    paths = candidates(folder)
    name = folder.resolve().name
    places = {p: place_periods(p, folder, name) for p in paths}
    guess = parse_period(period) if period is not None else max(
        (q for found in places.values() for q in found), default=None)
    chosen = paths if guess is None else [p for p in paths if _wanted(places[p], guess)]
    checked, values = _check(chosen, catalog, folder, progress)
    current = guess
    if period is None:
        found = _periods(checked)
        if guess is None or not found or found[-1] != guess:
            # The names of files and folders do not tell the latest period: read all, as run does.
            if len(chosen) < len(paths):
                chosen = paths
                checked, values = _check(chosen, catalog, folder, progress)
                found = _periods(checked)
            if not found:
                raise UsageError(f"Hittar inga ifyllda mallar i {folder}. Ange perioden med "
                                 "--period.")
            current = found[-1]
    assert current is not None
    register, accepted = build_register(checked, catalog, current)
    doubts = _doubts(values, accepted, catalog, current)
    # Files that are no unit's are listed when they lie in the period's place or in no dated one.
    path_of = {s.file: Path(s.path) for s in checked.submissions}
    register = [e for e in register if e.unit or _listed(places.get(path_of.get(e.file, folder),
                                                                      []), current)]
    return FolderStatus(folder, current, tuple(register), checked,
                        catalog.settings.deadlines.due(current), today or dt.date.today(),
                        len(chosen), len(paths), doubts)


def _check(paths: list[Path], catalog: Catalog, folder: Path,
           progress: Progress | None) -> tuple[Checked, pl.DataFrame]:
    subs, values = read_all(paths, catalog, folder, progress)
    return check_files_from([s for s in subs if not s.unchanged_copy], catalog, values), values


def _doubts(values: pl.DataFrame, accepted: Sequence[Submission], catalog: Catalog,
            period: Period) -> tuple[Doubt, ...]:
    """The period's values to check, judged as `run` judges them: against the accepted files of
    the tertial before (read with the period's; a yearly indicator's year-old value is not, so it
    is compared in `run` only)."""
    import polars as pl

    used = values.filter(pl.col("file").is_in([s.file for s in accepted]))
    return tuple(d for d in find_doubts(used, catalog) if d.period == str(period))


def _periods(checked: Checked) -> list[Period]:
    return sorted({parse_period(s.period) for s in checked.submissions
                   if s.period and s.readable})


def _listed(places: Sequence[Period], period: Period) -> bool:
    return not places or period in places


def due_text(due: dt.date | None, today: dt.date) -> str:
    """'Sista dag för inlämning är 10 maj 2026 (om 8 dagar).' and its variants."""
    if due is None:
        return "Katalogen anger ingen sista dag för inlämning ([inlamning])."
    days = (due - today).days
    when = {0: "i dag", 1: "i morgon", -1: "i går"}.get(
        days, f"om {days} dagar" if days > 0 else f"för {-days} dagar sedan")
    tense = "var" if days < 0 else "är"
    return f"Sista dag för inlämning {tense} {sv_date(due)} ({when})."
