"""Benchmark of `consolidate run` against the raw calamine floor and a naive pandas/openpyxl
pipeline.

    python bench/run_bench.py [--sizes 30,1000,5000] [--workdir DIR] [--naive-max 1000]

Generates (or reuses) N filled unit workbooks per size (bench/gen.py), then measures as whole
processes, one after the other on the same warm files:
  run    `consolidate run FOLDER --katalog BENCH_CATALOG --out OUT`
  floor  python-calamine opens every file and reads every sheet (bench/floor.py), with the
         parallelism of `consolidate run` (a pool of min(cpus, 8) processes from
         consolidate.run.PARALLEL_FROM files on, else one process) so the ratio compares work,
         not core counts
  naive  pandas + openpyxl, one process (bench/naive.py); skipped above --naive-max
and `consolidate --help` and `python -c "import consolidate.cli"` (best of 5). Up to 1 000 files,
run and floor are each measured three times, taking turns, and the fastest of each is kept.
Each run is checked: the delivered/rejected counts `consolidate run` prints must match the files
generated with errors (a warning is printed otherwise). A run that dies with a traceback is
reported as "krasch".
The machine may be shared: the load average is recorded, and CPU seconds (user + system of the
whole process tree) are shown beside wall time because they move less with load.
Wall time: time.perf_counter around the child. Peak memory: the peak of the summed PSS
(proportional set size, so pages shared by forked workers count once) of the child and all its
descendants, sampled every 50 ms from /proc; the largest single-process RSS (wait4) is shown too.
Children run without PYTHONDONTWRITEBYTECODE, as in a normal installation where the package's
bytecode is cached; one untimed `consolidate --help` warms that cache first.
Prints the table and writes bench/results/latest.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen  # noqa: E402

TARGETS = {
    "ratio_1000": 3.0,      # run within 3x the floor at 1 000 files
    "naive_1000": 20.0,     # run at least 20x faster than naive at 1 000 files
    "memory_5000": 500.0,   # MB peak at 5 000 files
    "board_30": 2.0,        # s end to end for 30 files
    "help": 0.3,            # s for consolidate --help
}


@dataclass
class Measured:
    seconds: float
    peak_mb: float          # summed PSS of the process tree, sampled
    max_rss_mb: float       # largest single process (wait4 ru_maxrss)
    cpu_seconds: float      # user + system time of the child and its reaped children (wait4)
    returncode: int
    stdout: str
    stderr: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def crashed(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr or self.returncode < 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run one command as a child; wall time, peak tree PSS and max RSS."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_{os.getpid()}_out.txt"
    err_path = out_path.with_name(out_path.name.replace("_out", "_err"))
    peak = [0]
    done = threading.Event()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)

        def sample() -> None:
            while not done.is_set():
                tree, stack = [], [proc.pid]
                while stack:
                    pid = stack.pop()
                    tree.append(pid)
                    stack += _children(pid)
                peak[0] = max(peak[0], sum(_pss_kb(p) for p in tree))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    return Measured(seconds, peak[0] / 1024, usage.ru_maxrss / 1024,
                    usage.ru_utime + usage.ru_stime, proc.returncode, stdout, stderr)


def best_of(cmd: list[str], env: dict[str, str], times: int = 5) -> float:
    return min(measure(cmd, env).seconds for _ in range(times))


RUN_PYTHON: str | None = None  # --run-python: measure `consolidate` installed in another venv


def consolidate_cmd() -> list[str]:
    python = Path(RUN_PYTHON) if RUN_PYTHON else Path(sys.executable)
    script = python.parent / "consolidate"
    return [str(script)] if script.exists() else [str(python), "-m", "consolidate"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def warm(paths: list[Path]) -> None:
    """Read every file once so all three pipelines see the same warm page cache."""
    for path in paths:
        path.read_bytes()


def _run_counts(text: str) -> tuple[int, int] | None:
    match = re.search(r"Levererade: (\d+)\s+saknas: \d+\s+underkända: (\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def bench_size(n: int, workdir: Path, naive_max: int, env: dict[str, str],
               log: Any) -> dict[str, Any]:
    from consolidate.run import PARALLEL_FROM

    bench = gen.generate(n, workdir, log=log)
    files = sorted(bench.folder.glob("*.xlsx"))
    filelist = bench.root / "filer.txt"
    filelist.write_text("".join(f"{p}\n" for p in files), encoding="utf-8")
    out_dir = bench.root / "ut"
    out_dir.mkdir(exist_ok=True)
    workers = min(os.cpu_count() or 2, 8)
    # best of 3, run and floor taking turns: the machine may be shared
    repeat = 3 if n <= 1000 else 1
    warm(files)
    row: dict[str, Any] = {"n": n, "errors_generated": bench.error_files}

    run_cmd = consolidate_cmd() + ["run", str(bench.folder), "--katalog", str(bench.catalog_path),
                          "--out", str(out_dir / "sammanställning.xlsx")]
    floor_cmd = [sys.executable, str(HERE / "floor.py"), str(filelist), "--workers", str(workers),
                 "--parallel-from", str(PARALLEL_FROM)]
    runs, floors = [], []
    for _ in range(repeat):
        runs.append(measure(run_cmd, env))
        floors.append(measure(floor_cmd, env))
    run = min(runs, key=lambda m: m.seconds)
    row["run"] = run
    if run.crashed:
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"rc={run.returncode}"
        log(f"N={n}: consolidate run CRASHED: {last}")
        row["run_crash"] = last
    counts = _run_counts(run.stdout)
    row["run_counts"] = counts
    if counts is not None and counts != (n - bench.error_files, bench.error_files):
        log(f"N={n}: WARNING run reported levererade/underkända {counts}, generated "
            f"{n - bench.error_files}/{bench.error_files}")
    log(f"N={n}: run   {run.seconds:7.2f} s  cpu {run.cpu_seconds:6.1f} s  "
        f"peak {run.peak_mb:6.0f} MB  (rc {run.returncode}, {counts})")

    floor = min(floors, key=lambda m: m.seconds)
    row["floor"] = floor
    log(f"N={n}: floor {floor.seconds:7.2f} s  cpu {floor.cpu_seconds:6.1f} s  "
        f"peak {floor.peak_mb:6.0f} MB  {floor.stdout.strip()}")

    if n <= naive_max:
        naive_cmd = [sys.executable, str(HERE / "naive.py"), str(filelist), "--katalog",
                     str(bench.catalog_path), "--out", str(out_dir / "naiv.xlsx")]
        naive = measure(naive_cmd, env)
        if naive.returncode == 0:
            naive.extra = json.loads(naive.stdout)
            if naive.extra.get("rejected") != bench.error_files:
                log(f"N={n}: WARNING naive rejected {naive.extra.get('rejected')}, "
                    f"generated {bench.error_files}")
        else:
            log(f"N={n}: naive FAILED: {naive.stderr.strip().splitlines()[-1:]}")
        row["naive"] = naive
        log(f"N={n}: naive {naive.seconds:7.2f} s  cpu {naive.cpu_seconds:6.1f} s  "
            f"peak {naive.peak_mb:6.0f} MB  {naive.stdout.strip()}")
    else:
        row["naive"] = None
        log(f"N={n}: naive not run (N > --naive-max {naive_max})")
    row["workers"] = workers
    return row


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}".replace(",", " ")


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("PASS" if ok else "FAIL")


def summarize(rows: list[dict[str, Any]],
              startup: dict[str, float]) -> tuple[list[list[str]], list[list[str]]]:
    table = []
    by_n = {r["n"]: r for r in rows}
    for r in rows:
        run, floor, naive = r["run"], r["floor"], r["naive"]
        ok_run = not run.crashed
        n = r["n"]
        table.append([
            f"{n:,}".replace(",", " "),
            (_fmt(run.seconds, 2) + " s" + ("" if ok_run else " (krasch)")) if run else "–",
            _fmt(n / run.seconds, 0) if ok_run else "–",
            _fmt(n / floor.seconds, 0),
            _fmt(n / naive.seconds, 0) if naive else "not run",
            _fmt(run.seconds / floor.seconds, 1) + "×" if ok_run else "–",
            ((_fmt(naive.seconds / run.seconds, 1) + "×") if naive and ok_run
             else "not run" if not naive else "–"),
            _fmt(run.cpu_seconds, 1) if ok_run else "–",
            _fmt(floor.cpu_seconds, 1),
            _fmt(naive.cpu_seconds, 1) if naive else "–",
            _fmt(run.peak_mb, 0),
            _fmt(run.max_rss_mb, 0),
            _fmt(floor.peak_mb, 0),
            _fmt(naive.peak_mb, 0) if naive else "–",
        ])

    def ok(n: int, test: Any) -> tuple[str, bool | None]:
        r = by_n.get(n)
        if r is None:
            return "–", None
        if r["run"].crashed:
            return "krasch", False
        return test(r)

    targets = []
    got, verdict = ok(1000, lambda r: (f"{r['run'].seconds / r['floor'].seconds:.1f}×",
                                       r["run"].seconds / r["floor"].seconds
                                       <= TARGETS["ratio_1000"]))
    targets.append(["run/floor at 1 000", f"≤ {TARGETS['ratio_1000']:g}×", got, _verdict(verdict)])
    got, verdict = ok(1000, lambda r: ("not run", None) if r["naive"] is None else (
        f"{r['naive'].seconds / r['run'].seconds:.1f}×",
        r["naive"].seconds / r["run"].seconds >= TARGETS["naive_1000"]))
    targets.append(["naive/run at 1 000", f"≥ {TARGETS['naive_1000']:g}×", got, _verdict(verdict)])
    got, verdict = ok(5000, lambda r: (f"{r['run'].peak_mb:.0f} MB",
                                       r["run"].peak_mb < TARGETS["memory_5000"]))
    targets.append(["peak memory at 5 000", f"< {TARGETS['memory_5000']:g} MB", got,
                    _verdict(verdict)])
    got, verdict = ok(30, lambda r: (f"{r['run'].seconds:.2f} s",
                                     r["run"].seconds < TARGETS["board_30"]))
    targets.append(["30 workbooks end to end", f"< {TARGETS['board_30']:g} s", got,
                    _verdict(verdict)])
    targets.append(["consolidate --help", f"< {TARGETS['help']:g} s", f"{startup['help']:.3f} s",
                    _verdict(startup["help"] < TARGETS["help"])])
    targets.append(["python -c 'import consolidate.cli'", "(info)",
                    f"{startup['import_cli']:.3f} s", ""])
    targets.append(["python -c 'pass' (interpreter)", "(info)", f"{startup['python']:.3f} s", ""])
    return table, targets


HEAD = ["N", "run", "run files/s", "floor files/s", "naive files/s", "run/floor", "naive/run",
        "run cpu s", "floor cpu s", "naive cpu s", "run peak MB", "run max proc MB",
        "floor peak MB", "naive peak MB"]
THEAD = ["target", "wanted", "measured", "verdict"]


def text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def md_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                             text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "consolidate"],
                               cwd=HERE.parent,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes in consolidate/)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="30,1000,5000",
                        help="comma-separated N (default 30,1000,5000)")
    parser.add_argument("--workdir", type=Path, default=HERE / "work",
                        help="generated files, cached per N")
    parser.add_argument("--naive-max", type=int, default=1000,
                        help="largest N for the naive pipeline")
    parser.add_argument("--run-python", default=None, metavar="PYTHON",
                        help="measure `consolidate` installed beside this interpreter, e.g. a venv "
                             "made with `pip install -e .` only: the bench extra installs pandas, "
                             "and pandera imports all of pandas when it is present (about 0.5 s of "
                             "start-up a user does not pay)")
    args = parser.parse_args()
    global RUN_PYTHON
    RUN_PYTHON = args.run_python
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    env = child_env()

    def log(message: str) -> None:
        print(message, flush=True)

    began = time.perf_counter()
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    # warm .pyc
    subprocess.run(consolidate_cmd() + ["--help"], env=env, capture_output=True, check=False)
    startup = {
        "help": best_of(consolidate_cmd() + ["--help"], env),
        "import_cli": best_of([sys.executable, "-c", "import consolidate.cli"], env),
        "python": best_of([sys.executable, "-c", "pass"], env),
    }
    log(f"consolidate --help {startup['help']:.3f} s, "
        f"import consolidate.cli {startup['import_cli']:.3f} s, "
        f"python -c pass {startup['python']:.3f} s (best of 5)")
    rows = [bench_size(n, args.workdir, args.naive_max, env, log) for n in sizes]
    table, targets = summarize(rows, startup)
    print()
    print(text_table(HEAD, table))
    print()
    print(text_table(THEAD, targets))
    elapsed = time.perf_counter() - began
    print(f"\nbench took {elapsed:.0f} s")

    notes = []
    for r in rows:
        if r.get("run_crash"):
            notes.append(f"- N={r['n']}: `consolidate run` crashed: `{r['run_crash']}`")
        if r["run_counts"] is not None:
            notes.append(f"- N={r['n']}: run delivered/rejected "
                         f"{r['run_counts'][0]}/{r['run_counts'][1]} "
                         f"(generated with errors: {r['errors_generated']})")
        if r["naive"] is not None and r["naive"].extra:
            x = r["naive"].extra
            notes.append(f"- N={r['n']}: naive read+check {x['read_check_s']} s, "
                         f"concat {x['concat_s']} s, "
                         f"to_excel {x['write_s']} s; rejected {x['rejected']}")
    md = "\n".join([
        "# Benchmark: consolidate run",
        "",
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"load average before the run {load_before}; "
        f"commit {_git_commit()}; `python bench/run_bench.py --sizes {args.sizes}"
        f"`; floor and run use {rows[0]['workers'] if rows else '?'} "
        f"worker processes from {__import__('consolidate.run', fromlist=['x']).PARALLEL_FROM} "
        "files on; naive is one process.",
        "",
        md_table(HEAD, table),
        "",
        md_table(THEAD, targets),
        "",
        *notes,
        "",
    ])
    (results / "latest.md").write_text(md, encoding="utf-8")
    (results / f"bench_{dt.datetime.now().strftime('%Y%m%d_%H%M%S')}.md").write_text(
        md, encoding="utf-8")
    (results / "latest.json").write_text(json.dumps({
        "startup": startup,
        "rows": [{"n": r["n"], "errors_generated": r["errors_generated"],
                  "run_counts": r["run_counts"],
                  **{k: None if r[k] is None else {"seconds": r[k].seconds, "peak_mb": r[k].peak_mb,
                                                    "max_rss_mb": r[k].max_rss_mb,
                                                    "cpu_seconds": r[k].cpu_seconds,
                                                    "rc": r[k].returncode,
                                                    "extra": r[k].extra}
                     for k in ("run", "floor", "naive")}} for r in rows],
    }, indent=1), encoding="utf-8")
    print(f"wrote {results / 'latest.md'}")


if __name__ == "__main__":
    main()
