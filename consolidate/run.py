"""The main job: read a shared folder, validate everything at once, register, combine, write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .boardmodel import RunResult
from .catalog import Catalog
from .errors import PeriodError, UsageError, os_reason
from .findings import finding
from .model import (
    REGISTER_KEYS,
    Checked,
    Finding,
    RegisterEntry,
    Report,
    Severity,
    Submission,
    UnitState,
    json_keys,
    sort_key,
)
from .periods import Period, parse_period
from .plan import absence
from .read import frame_of, is_lock_file, iter_workbooks
from .readmany import PARALLEL_FROM, START_METHOD_ENV, Progress, read_all

__all__ = ["MAX_UNITS", "PARALLEL_FROM", "START_METHOD_ENV", "Progress", "check_files",
           "check_files_from", "collect_paths", "default_master_path", "read_all", "run"]

if TYPE_CHECKING:
    import polars as pl

# The master puts the units side by side (Per enhet, the unit tables): a label column, one column
# per unit, the total and a share, within Excel's 16 384 columns.
MAX_UNITS = 16_384 - 3


def check_files(paths: Sequence[Path], catalog: Catalog, root: Path | None = None,
                progress: Progress | None = None, history: bool = True) -> Checked:
    """Read and validate files; the rules run once over all values together. With `history`,
    each file is also compared with its unit's previous tertial found in the shared folder it lies
    in (history.history_files), as `run` on that folder would."""
    subs, values = read_all(paths, catalog, root, progress)
    earlier: list[Submission] = []
    if history:
        earlier, values = _read_history(paths, subs, values, catalog)
    return check_files_from(subs, catalog, values, earlier)


def _read_history(paths: Sequence[Path], subs: list[Submission], values: pl.DataFrame,
                  catalog: Catalog) -> tuple[list[Submission], pl.DataFrame]:
    import polars as pl

    from .history import history_files

    wanted = {parse_period(period) for _, period in map(_before, subs) if period}
    earlier: list[Submission] = []
    frames = [values]
    for folder, found in (history_files(paths, wanted) if wanted else {}).items():
        read, read_values = read_all(found, catalog, folder)
        # Named by their whole path: they are not what was checked, and names repeat across
        # folders.
        earlier += [replace(s, file=s.path) for s in read if not s.unchanged_copy]
        frames.append(read_values.with_columns(
            pl.col("file").replace({s.file: s.path for s in read})))
    return earlier, pl.concat(frames)


def collect_paths(inputs: Sequence[Path]) -> tuple[list[Path], Path | None]:
    """Files to check from files and folders; lock files are skipped silently."""
    paths: list[Path] = []
    root: Path | None = None
    for item in inputs:
        if item.is_dir():
            root = root or item
            paths.extend(p for p in iter_workbooks(item) if not _skipped(p))
        elif item.exists():
            if not _skipped(item):
                paths.append(item)
        else:
            raise UsageError(f"Hittar inte {item}.")
    return paths, root if len(inputs) == 1 else None


def default_master_path(folder: Path, period: Period, masked: bool = False) -> Path:
    return folder / f"sammanställning_{period}{'_maskerad' if masked else ''}.xlsx"


def run(folder: Path, catalog: Catalog, period: str | None = None, out: Path | None = None,
        mask: bool = False, export: Path | None = None, progress: Progress | None = None,
        write: bool = True, comparison: Path | None = None, fetch: bool = False) -> RunResult:
    """Everything `consolidate run` does; raises UsageError when nothing can be written.

    `comparison` (a Kolada file) or `fetch` (from Kolada's API) puts Kolada's figures beside the
    board's; what goes wrong with them is a warning, never a stop."""
    if not folder.is_dir():
        raise UsageError(f"Mappen {folder} finns inte eller är ingen mapp.")
    if write:  # a wrong --out or --export is said before minutes of reading, not after
        if len(catalog.units) > MAX_UNITS:
            raise UsageError(f"Katalogen har {len(catalog.units)} enheter. Huvudarbetsboken visar "
                             f"enheterna sida vid sida och rymmer högst {MAX_UNITS} (Excel har "
                             "16 384 kolumner); dela upp katalogen, t.ex. per förvaltning.")
        if out is not None:
            _guard_place(out)
        if export is not None:
            _guard_export(export)
    if comparison is not None and fetch:
        raise UsageError("Ange antingen --jamforelse FIL eller --hamta, inte båda.")
    if comparison is not None and not comparison.is_file():
        raise UsageError(f"Jämförelsefilen {comparison} finns inte (eller är ingen fil).")
    subs_all, all_values = read_all(candidates(folder), catalog, folder, progress)
    checked = check_files_from([s for s in subs_all if not s.unchanged_copy], catalog, all_values)
    periods = sorted({parse_period(s.period) for s in checked.submissions
                      if s.period and s.readable})
    found = list(periods)
    if period is not None:
        current = parse_period(period)
    elif periods:
        current = periods[-1]
    else:
        raise UsageError(f"Hittar inga ifyllda mallar i {folder}. "
                         f"Ange --period om mappen ska vara tom.")
    if current not in periods:
        periods.append(current)
        periods.sort()
    periods = [p for p in periods if p <= current]
    register, accepted = build_register(checked, catalog, current)
    # A master is of its period and the history before it: later tertials' files stay out of it.
    accepted = [s for s in accepted if parse_period(s.period) <= current]
    import polars as pl

    values = all_values.filter(pl.col("file").is_in([s.file for s in accepted]))
    findings = checked.all_findings()
    report = Report(checked.file_results(), tuple(findings), {
        "period": str(current),
        "inlamning": [json_keys(r, REGISTER_KEYS) for r in register],
    })
    result = RunResult(current, periods, register, checked, accepted, values, report, found=found)
    from .board import build_board

    board = build_board(result, catalog)
    from .doubt import doubts_json

    result.doubts = board.doubts  # the unmasked board's: the controller sees every one
    report.extra["kontrollera"] = doubts_json(board.doubts)
    if mask:
        from .mask import mask_board

        board = mask_board(board)
    from .compare import with_comparison

    board = with_comparison(board, folder, comparison, fetch)  # public figures: after masking
    result.board, result.report = board, board.report
    if write:
        from .master import write_master

        target = out or default_master_path(folder, current, mask)
        if out is None:
            _guard_place(target)
        _guard_inputs(target, [Path(s.path) for s in subs_all if not s.tool_output])
        try:
            result.master = write_master(board, target, source=folder)
            if export is not None:
                from .export import export_long

                export_long(board, export)
        except OSError as exc:
            where = exc.filename or target
            raise UsageError(f"Kan inte skriva {where}: {os_reason(exc, writing=True)}.") from None
    return result


def candidates(folder: Path) -> list[Path]:
    """The files of a shared folder that are read: every workbook candidate, less lock and temp
    files."""
    try:
        return [p for p in iter_workbooks(folder) if not _skipped(p)]
    except OSError as exc:
        raise UsageError(f"Mappen {folder} kan inte läsas: {os_reason(exc)}.") from None


def check_files_from(subs_all: list[Submission], catalog: Catalog,
                     values: pl.DataFrame | None = None,
                     history: Sequence[Submission] = ()) -> Checked:
    """Validate what was read. `history`: files of earlier tertials to compare with, validated too
    (only a file a run would use counts) but not reported."""
    subs = [s for s in subs_all if not s.tool_output]
    pool = Checked(subs + [s for s in history if not s.tool_output])
    for sub in pool.submissions:
        pool.findings[sub.file] = list(sub.findings) + _outside_plan(sub, catalog)
    readable = [s for s in pool.submissions if s.readable and s.n_values]
    if readable:
        import polars as pl

        from .validate import jump_findings, validate

        if values is None:
            values = frame_of(readable)
        else:
            values = values.filter(pl.col("file").is_in([s.file for s in readable]))
        for f in validate(values, catalog):
            pool.findings.setdefault(f.file, []).append(f)
        # Jumps against the file a run uses for the unit's tertial before, known once every file's
        # fel are.
        used = values.filter(pl.col("file").is_in([s.file for s in pool.used().values()]))
        mine = values.filter(pl.col("file").is_in([s.file for s in subs]))
        for f in jump_findings(mine, catalog, used):
            pool.findings.setdefault(f.file, []).append(f)
    checked = Checked(subs)
    for sub in subs:
        checked.findings[sub.file] = sorted(pool.findings.get(sub.file, []), key=sort_key)
    used = pool.used()
    checked.compared = sorted({used[key].file for key in map(_before, subs) if key in used
                               and used[key].file not in checked.findings})
    return checked


def _before(sub: Submission) -> tuple[str, str]:
    """The unit and tertial a file's jumps are measured against."""
    try:
        return sub.unit, str(parse_period(sub.period).previous)
    except PeriodError:
        return sub.unit, ""


def _outside_plan(sub: Submission, catalog: Catalog) -> list[Finding]:
    """A file of a unit that is not in its period's plan (not started, ended or merged) is
    refused."""
    if not (sub.readable and sub.unit and sub.period and catalog.has_unit(sub.unit)):
        return []
    period = parse_period(sub.period)
    if catalog.unit_active(sub.unit, period):
        return []
    return [finding("enhet_utanfor_plan", sub.file, unit=sub.unit, period=sub.period,
                    unit_name=catalog.unit(sub.unit).name, period_text=sub.period,
                    why=absence(catalog, sub.unit, period))]


def _skipped(path: Path) -> bool:
    """Lock files of Excel and LibreOffice, and temp files of our own writes left by a killed
    run."""
    return is_lock_file(path) or path.name.startswith((".~tmp_", ".~sammanställning_"))


def _guard_inputs(target: Path, inputs: Sequence[Path]) -> None:
    """The master may replace an earlier master, never a submitted file."""
    resolved = target.resolve()
    if any(resolved == p.resolve() for p in inputs):
        raise UsageError(f"{target} är en inlämnad fil; "
                         f"sammanställningen skrivs aldrig över en inlämning.")


def _guard_place(target: Path) -> None:
    """The master goes into an existing folder, never over a folder or among the templates."""
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"{target} ska sluta på .xlsx: huvudarbetsboken är en Excel-arbetsbok "
                         f"(t.ex. {target.with_suffix('.xlsx').name}).")
    resolved = target.resolve()
    if "templates_xlsx" in resolved.parts:
        raise UsageError("Sammanställningen skrivs inte i templates_xlsx/, där mallarna ligger.")
    if not resolved.parent.is_dir():
        raise UsageError(f"Mappen {target.parent} finns inte.")
    if resolved.is_dir():
        raise UsageError(f"{target} är en mapp; ange filnamnet för sammanställningen, t.ex. "
                         f"{target / 'sammanställning.xlsx'}.")


def _guard_export(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} är en fil; --export ska vara en mapp.")
    if "templates_xlsx" in folder.resolve().parts:
        raise UsageError("Exporten skrivs inte i templates_xlsx/, där mallarna ligger.")


def _duplicate_note(checked: Checked, sub: Submission, used: Submission) -> str:
    if checked.errors(sub):
        return (f"Underkänd ({checked.errors(sub)} fel); "
                f"den giltiga filen {used.file} används i stället.")
    if sub.modified < used.modified:
        return f"Ersatt av den nyare giltiga filen {used.file}."
    return f"Lika gammal som {used.file}, som används (sist i namnordning)."


def _flag_duplicate(checked: Checked, sub: Submission, used: Submission, unit_name: str) -> None:
    """A warning in the log, so the controller sees which file of the two was left out and why."""
    checked.findings.setdefault(sub.file, []).append(finding(
        "dubblett", sub.file, unit_name=unit_name, period_text=sub.period,
        why=_duplicate_note(checked, sub, used),
        unit=sub.unit, period=sub.period, value=sub.file, expected=used.file))


def build_register(checked: Checked, catalog: Catalog,
                   current: Period) -> tuple[list[RegisterEntry], list[Submission]]:
    """Per expected unit and the current period: delivered, missing, rejected or duplicate.

    For every period, the newest valid file of a unit is the one used; the others are listed."""
    by_key: dict[tuple[str, str], list[Submission]] = {}
    unidentified: list[Submission] = []
    for sub in checked.submissions:
        if sub.unit and sub.period:
            by_key.setdefault((sub.unit, sub.period), []).append(sub)
        else:
            unidentified.append(sub)
    accepted: list[Submission] = []
    register: list[RegisterEntry] = []
    in_use = checked.used()
    for (unit, period), subs in sorted(by_key.items()):
        used = in_use.get((unit, period))
        if used is not None:
            accepted.append(used)
            for other in subs:
                if other is not used:
                    _flag_duplicate(checked, other, used, catalog.unit(unit).name)
        if period != str(current):
            continue
        name = catalog.unit(unit).name
        for sub in sorted(subs, key=lambda s: (s.modified, s.file), reverse=True):
            if sub is used:
                note = "Används." + (f" {len(subs) - 1} fil(er) till för samma period används inte."
                                     if len(subs) > 1 else "")
                state = UnitState.DELIVERED
            elif used is not None:
                state, note = UnitState.DUPLICATE, _duplicate_note(checked, sub, used)
            else:
                state = UnitState.REJECTED
                note = "Har fel som måste rättas." + (" Flera filer; ingen är giltig."
                                                      if len(subs) > 1 else "")
            register.append(RegisterEntry(unit, name, state, sub.file, sub.modified_text,
                                          sub.sha256, checked.errors(sub), checked.warnings(sub),
                                          note))
    delivered = {u for (u, p) in by_key if p == str(current)}
    # the units in the period's plan: merged ones are not missing
    for expected in catalog.units_in(current):
        if expected.id not in delivered:
            register.append(RegisterEntry(expected.id, expected.name, UnitState.MISSING,
                                          note="Ingen fil för perioden."))
    for sub in unidentified:  # no unit's submission: listed apart, with the reason, never as a unit
        reason = next((f.message for f in checked.of(sub) if f.severity == Severity.ERROR),
                      "Kan inte knytas till en enhet och period.")
        register.append(RegisterEntry("", "", UnitState.STRAY, sub.file, sub.modified_text,
                                      sub.sha256, checked.errors(sub), checked.warnings(sub),
                                      reason))
    order = {u: i for i, u in enumerate(catalog.unit_ids())}
    register.sort(key=lambda r: (r.unit == "", order.get(r.unit, 999),
                                 r.state != UnitState.DELIVERED, r.file))
    return register, accepted

