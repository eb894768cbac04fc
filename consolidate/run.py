"""The main job: read a shared folder, validate everything at once, register, combine, write."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from .read import (
    columns_of,
    frame_from_columns,
    frame_of,
    is_lock_file,
    iter_workbooks,
    read_submission,
)

if TYPE_CHECKING:
    import polars as pl

PARALLEL_FROM = 64  # below this, starting worker processes costs more than it saves
# How worker processes start: "fork", "spawn" or "forkserver"; unset, the platform's default (spawn
# on Windows and macOS, fork on Linux up to Python 3.13). The tests run both fork and spawn.
START_METHOD_ENV = "CONSOLIDATE_START_METHOD"
# The master puts the units side by side (Per enhet, the unit tables): a label column, one column
# per unit, the total and a share, within Excel's 16 384 columns.
MAX_UNITS = 16_384 - 3
Progress = Callable[[int, int], None]


_WORKER_CATALOG: Catalog | None = None


def _init_worker(catalog: Catalog) -> None:
    """Each worker gets the catalog once, so its cached lookups and layouts live for all chunks."""
    global _WORKER_CATALOG
    _WORKER_CATALOG = catalog


def _read_chunk(args: tuple[list[str], str | None]) -> tuple[list[Submission], list[list[Any]]]:
    """Read a chunk in a worker; values travel back as column lists and become one frame in the
    parent at once, instead of living on as millions of row tuples."""
    paths, root = args
    assert _WORKER_CATALOG is not None
    subs = [read_submission(Path(p), _WORKER_CATALOG, Path(root) if root else None) for p in paths]
    return [replace(s, cells=()) for s in subs], columns_of(subs)


def _pool_context(start_method: str | None) -> Any:
    import multiprocessing

    method = start_method or os.environ.get(START_METHOD_ENV) or None
    if method is None:
        return None
    if method not in multiprocessing.get_all_start_methods():
        raise UsageError(f"{START_METHOD_ENV}={method} går inte här; välj en av "
                         f"{', '.join(multiprocessing.get_all_start_methods())}.")
    return multiprocessing.get_context(method)


def read_all(paths: Sequence[Path], catalog: Catalog, root: Path | None = None,
             progress: Progress | None = None, workers: int | None = None,
             start_method: str | None = None) -> tuple[list[Submission], pl.DataFrame]:
    """Read files, in parallel processes when there are many; returns the files and all values.

    start_method (else the environment variable CONSOLIDATE_START_METHOD) picks how the worker
    processes start; everything a worker needs travels by pickling, so spawn works as fork does."""
    total = len(paths)
    # a wrong setting is said on every run, not only on large ones
    context = _pool_context(start_method)
    if total < PARALLEL_FROM or (workers or os.cpu_count() or 1) < 2:
        out = []
        for done, path in enumerate(paths, start=1):
            out.append(read_submission(path, catalog, root))
            if progress:
                progress(done, total)
        return out, frame_of(out)
    count = workers or min(os.cpu_count() or 2, 8)
    size = max(8, total // (count * 8))
    chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, total, size)]
    results: list[Submission] = []
    frames: list[pl.DataFrame] = []
    with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_init_worker,
                             initargs=(catalog,)) as pool:
        # map() submits every chunk, so the workers start now, from a process that has not yet
        # imported polars or pandera; those imports then run while the workers read. (Spawned
        # workers import only what reading needs: consolidate.run does not import polars at the
        # top.)
        chunk_results = pool.map(_read_chunk, [(c, str(root) if root else None) for c in chunks])
        import polars as pl

        from . import validate  # noqa: F401 - needed right after reading
        for subs, columns in chunk_results:
            results.extend(subs)
            frames.append(frame_from_columns(columns))
            if progress:
                progress(len(results), total)
    return results, pl.concat(frames) if frames else frame_of([])


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

    wanted = set()
    for sub in subs:
        try:
            wanted.add(parse_period(sub.period).previous)
        except PeriodError:
            continue
    earlier: list[Submission] = []
    frames = [values]
    for folder, found in (history_files(paths, wanted) if wanted else {}).items():
        read, read_values = read_all(found, catalog, folder)
        # Named by their whole path: they are not what was checked, and names repeat across
        # folders.
        earlier += [replace(s, file=s.path) for s in read]
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
        write: bool = True) -> RunResult:
    """Everything `consolidate run` does; raises UsageError when nothing can be written."""
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
    try:
        candidates = [p for p in iter_workbooks(folder) if not _skipped(p)]
    except OSError as exc:
        raise UsageError(f"Mappen {folder} kan inte läsas: {os_reason(exc)}.") from None
    subs_all, all_values = read_all(candidates, catalog, folder, progress)
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
    register, accepted = _register(checked, catalog, current)
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
    if mask:
        from .mask import mask_board

        board = mask_board(board)
    result.board = board
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
    return checked


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


def _register(checked: Checked, catalog: Catalog,
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

