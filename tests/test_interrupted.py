"""Interrupted and concurrent runs: a run killed at any moment leaves the previous master intact
and nothing half-written under a final name; two runs at once both end with a valid master."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import ROOT, fill, sha256

PERIOD = Period(2025, 2)
CATALOG = ROOT / "schemas" / "katalog.toml"
MASTER = f"sammanställning_{PERIOD}.xlsx"
COPIES = 10  # 6 units x 10 files: a run takes a second or two, long enough to be cut anywhere
RUN = [sys.executable, "-c", "from consolidate.cli import main; main()", "run"]


def start(folder: Path, *extra: str | Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*RUN, str(folder), "--katalog", str(CATALOG), *map(str, extra)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def finish(proc: subprocess.Popen[bytes]) -> int:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err.decode(errors="replace")[-2000:]
    return proc.returncode


def kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=60)


def temp_files(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.iterdir() if p.name.startswith(".")]


def valid_master(path: Path) -> None:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        assert "Sammanställning" in wb.sheetnames
    finally:
        wb.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
           catalog: Catalog) -> list[Path]:
    folder = tmp_path_factory.mktemp("ifyllda")
    return [fill(template_cache(u, str(PERIOD)), unit_values(catalog, load_seeds(), u, PERIOD),
                 folder / f"{PERIOD}_{u}.xlsx") for u in catalog.unit_ids()]


@pytest.fixture
def folder(tmp_path: Path, inputs: list[Path]) -> Path:
    root = tmp_path / "delad"
    root.mkdir()
    for copy in range(1, COPIES + 1):
        for path in inputs:
            shutil.copy2(path, root / f"{path.stem}_v{copy:02d}.xlsx")
    return root


def test_a_killed_run_leaves_the_previous_master_or_the_new_one_never_a_broken_one(
        folder: Path, tmp_path: Path, inputs: list[Path], invoke: Callable[..., Any],
        unchanged: Callable[[Path], None]) -> None:
    # The previous master: from three units only, so it differs from what a full run writes.
    few = tmp_path / "förra"
    few.mkdir()
    for path in inputs[:3]:
        shutil.copy2(path, few / path.name)
    assert invoke("run", few, "--out", folder / MASTER, "--katalog", CATALOG).exit_code == 1
    previous = tmp_path / "förra_sammanställningen.xlsx"
    shutil.copy2(folder / MASTER, previous)
    export = tmp_path / "export"
    unchanged(folder)  # registers the inputs and the previous master alike
    # What a complete run writes (the previous master is in the folder, as it is for the killed
    # runs).
    reference, reference_export = tmp_path / "referens.xlsx", tmp_path / "referens_export"
    result = invoke("run", folder, "--out", reference, "--export", reference_export, "--katalog",
                    CATALOG)
    assert result.exit_code == 0, result.output
    assert sha256(reference) != sha256(previous)

    old, new = sha256(previous), sha256(reference)
    outcomes, hits = [], 0
    for moment in MOMENTS:
        proc = start(folder, "--export", export)
        seen = _wait(proc, moment, folder, export)
        kill(proc)
        master = folder / MASTER
        assert master.exists(), f"killed at {moment}: the previous master is gone"
        digest = sha256(master)
        assert digest in (old, new), (f"killed at {moment}: the master is neither the old nor the "
                                      "new one")
        outcomes.append(f"{moment}: {'gammal' if digest == old else 'ny'}")
        leftovers = temp_files(folder, export)
        hits += bool(seen and leftovers)
        # Whatever is under a final name in the export folder is complete.
        for path in export.glob("data_*"):
            if path.suffix == ".csv":
                assert path.read_bytes() == (reference_export / path.name).read_bytes(), moment
            else:
                assert pl.read_parquet(path).equals(
                    pl.read_parquet(reference_export / path.name)), moment
        for path in leftovers:
            assert path.name.startswith(".~"), f"killed at {moment}: leftover {path.name}"
            path.unlink()
        # The next moment starts from the previous master again.
        shutil.copy2(previous, master)
    assert hits >= 1, f"no kill landed while the master was being written: {outcomes}"
    assert any(o.endswith("gammal") for o in outcomes), outcomes


# Seconds after the start, or 'temp[+s]': when the run's first temp file shows (it is writing).
MOMENTS: list[float | str] = [0.1, 0.6, 1.0, "temp", "temp+0.03"]


def _wait(proc: subprocess.Popen[bytes], moment: float | str, *folders: Path) -> bool:
    """Wait for a moment (seconds, or 'temp[+s]': the first temp file of the run); True when a
    temp file was seen before the kill."""
    began = time.monotonic()
    if isinstance(moment, float):
        while time.monotonic() - began < moment and proc.poll() is None:
            time.sleep(0.005)
        return bool(temp_files(*folders))
    extra = float(moment.partition("+")[2] or 0)
    while proc.poll() is None and time.monotonic() - began < 60:
        if temp_files(*folders):
            time.sleep(extra)
            return True
        time.sleep(0.001)
    return False


def shared_folder(tmp_path: Path, inputs: list[Path]) -> Path:
    """The submissions once each, in a fresh shared folder."""
    folder = tmp_path / "delad"
    folder.mkdir()
    for path in inputs:
        shutil.copy2(path, folder / path.name)
    return folder


def test_temp_files_of_a_killed_run_are_not_read_as_submissions(tmp_path: Path, inputs: list[Path],
                                                                invoke: Callable[..., Any]) -> None:
    folder = shared_folder(tmp_path, inputs)
    assert invoke("run", folder, "--katalog", CATALOG).exit_code == 0
    # What SIGKILL leaves: the empty temp file from mkstemp, or one cut off while being written.
    (folder / ".~sammanställning_k3j9x1ab.xlsx").write_bytes(b"")
    half = (folder / MASTER).read_bytes()
    (folder / ".~sammanställning_p0q8r7st.xlsx").write_bytes(half[: len(half) // 2])
    result = invoke("run", folder, "--json", "--katalog", CATALOG)
    report = json.loads(result.stdout)
    files = ({f["fil"] for f in report["filer"]}
             | {e["fil"] for e in report["inlamning"] if e["fil"]})
    assert not any(name.startswith(".~") for name in files), files
    assert result.exit_code == 0


def test_two_runs_at_once_both_finish_with_a_valid_master(
        folder: Path, tmp_path: Path, invoke: Callable[..., Any],
        unchanged: Callable[[Path], None]) -> None:
    unchanged(folder)
    export = tmp_path / "export"
    first = start(folder, "--export", export)
    second = start(folder, "--export", export)
    for proc in (first, second):
        finish(proc)
    valid_master(folder / MASTER)
    assert not temp_files(folder, export), "a finished run left a temp file"
    assert pl.read_parquet(export / f"data_{PERIOD}.parquet").height > 0
    # A run after them is not disturbed by anything they left.
    result = invoke("run", folder, "--out", tmp_path / "efteråt.xlsx", "--json", "--katalog",
                    CATALOG)
    assert result.exit_code == 0
    assert all(not f["fil"].startswith(".") for f in json.loads(result.stdout)["filer"])
    valid_master(tmp_path / "efteråt.xlsx")


def test_outputs_get_the_folders_normal_permissions(tmp_path: Path, inputs: list[Path],
                                                   invoke: Callable[..., Any]) -> None:
    folder = shared_folder(tmp_path, inputs)
    umask = os.umask(0o022)
    try:
        assert invoke("run", folder, "--export", tmp_path / "export", "--katalog",
                      CATALOG).exit_code == 0
        assert invoke("check", folder, "--feedback", tmp_path / "återkoppling", "--katalog",
                      CATALOG).exit_code == 0
    finally:
        os.umask(umask)
    outputs = [folder / MASTER, tmp_path / "export" / f"data_{PERIOD}.csv",
               next((tmp_path / "återkoppling").glob("*.xlsx"))]
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in outputs}
    assert set(modes.values()) == {oct(0o644)}, modes
