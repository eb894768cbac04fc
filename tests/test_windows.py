"""What the Windows desktops need, proven on Linux with real processes: worker processes started
with spawn (Windows' and macOS' only way), output to a cp1252 console, and a master that Excel
holds open when run wants to replace it."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.atomic import ReplaceError, write_atomically
from consolidate.catalog import Catalog
from consolidate.console import HANDLER
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period
from consolidate.run import PARALLEL_FROM

from conftest import ROOT, fill

PERIOD = Period(2025, 2)
MASTER = f"sammanställning_{PERIOD}.xlsx"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONSOLIDATE_KATALOG", "CONSOLIDATE_START_METHOD", "PYTHONIOENCODING")}
    return {**env, **extra}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- spawn -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """PARALLEL_FROM + 8 workbooks with different figures and a few mistakes (the bench's
    generator)."""
    spec = importlib.util.spec_from_file_location("bench_gen", ROOT / "bench" / "gen.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # its dataclasses look their module up there
    spec.loader.exec_module(gen)
    return gen.generate(PARALLEL_FROM + 8, tmp_path_factory.mktemp("många"), log=lambda _: None)


CHILDREN = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _children(pid: int) -> list[str]:
    """Command lines of a process' children (of any of its threads), read from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            for child in task.read_text().split():
                found.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                             .decode(errors="replace"))
        except OSError:
            continue  # ended while we looked
    return found


def entry_point() -> list[str]:
    """The `consolidate` command that pip installed beside this Python, as a user runs it."""
    script = shutil.which("consolidate", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "consolidate"]


def run_watched(method: str, many: Any,
                out: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The real `consolidate run` in its own process; its children are watched while it runs."""
    args = [*entry_point(), "run", str(many.folder), "--katalog", str(many.catalog_path), "--out",
            str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment(CONSOLIDATE_START_METHOD=method))
    seen: list[str] = []
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        seen.extend(c for c in _children(proc.pid) if c not in seen)
        time.sleep(0.01)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr), seen


def sheet_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()]
            for ws in wb.worksheets}


@pytest.mark.skipif(not CHILDREN.exists(),
                    reason="watches the worker processes through /proc/PID/task/*/children")
def test_spawned_workers_give_the_same_master_as_forked_ones(many: Any, tmp_path: Path) -> None:
    assert len(list(many.folder.glob("*.xlsx"))) >= PARALLEL_FROM
    fork, fork_children = run_watched("fork", many, tmp_path / "fork.xlsx")
    spawn, spawn_children = run_watched("spawn", many, tmp_path / "spawn.xlsx")
    for done in (fork, spawn):
        # written; the generated mistakes reject a few units
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
    # Both runs really read in worker processes, each started its own way.
    assert any(str(many.folder) in c and "spawn_main" not in c
               for c in fork_children), fork_children
    assert any("spawn_main" in c for c in spawn_children), spawn_children
    assert not any("spawn_main" in c for c in fork_children)
    assert fork.stdout.replace("fork.xlsx", "spawn.xlsx") == spawn.stdout
    assert sheet_values(tmp_path / "spawn.xlsx") == sheet_values(tmp_path / "fork.xlsx")


def test_a_start_method_that_does_not_exist_is_said_in_swedish(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "consolidate", "run", str(tmp_path)],
                          capture_output=True, text=True,
                          env=environment(CONSOLIDATE_START_METHOD="tråd"), timeout=60, check=False)
    assert done.returncode == 2
    assert ("Fel: CONSOLIDATE_START_METHOD=tråd går inte här" in done.stderr
            and "spawn" in done.stderr)


# ---- a cp1252 console --------------------------------------------------------------------------

def test_the_fallback_keeps_what_cp1252_has_and_replaces_the_rest() -> None:
    text = "Åsa – 1\u00a0931 ▲▼► ≤ ≥ ● 1\u202f931 ő 📊"
    assert (text.encode("cp1252", errors=HANDLER).decode("cp1252")
            == "Åsa – 1\u00a0931 ^v> <= >= * 1 931 o ?")


@pytest.fixture
def awkward(tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path]) -> Path:
    """A shared folder whose findings and names hold what cp1252 lacks: "≤", U+202F, an emoji."""
    folder = tmp_path / "Delad mapp – Åsa Öberg"
    seeds = load_seeds()
    for unit in catalog.unit_ids():
        values = unit_values(catalog, seeds, unit, PERIOD)
        name = f"{PERIOD}_{unit}.xlsx"
        if unit == "barn_unga":
            table = next(t for t in catalog.tables if t.id == "tillbud_skador")
            values["tab_tillbud_skador_total_antal"] = 1
            values[f"tab_tillbud_skador_{table.rows[0].id}_antal"] = 3  # varav ≤ total
            values["ind_forebyggande_insatser_varde"] = "ca\u202f40"  # quoted back in the message
            name = f"📊 Barn och unga – {PERIOD}.xlsx"
        fill(template_cache(unit, str(PERIOD)), values, folder / str(PERIOD) / name)
    return folder


def test_real_commands_print_to_a_cp1252_console(awkward: Path, tmp_path: Path) -> None:
    def cp1252(*args: str) -> tuple[int, str, str]:
        done = subprocess.run([sys.executable, "-m", "consolidate", *args], capture_output=True,
                              cwd=tmp_path, env=environment(PYTHONIOENCODING="cp1252"), timeout=180,
                              check=False)
        out, err = done.stdout.decode("cp1252"), done.stderr.decode("cp1252")  # strict: must decode
        assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
        return done.returncode, out, err

    folder = awkward.name
    code, out, err = cp1252("check", folder)
    assert code == 1
    assert "\"ca 40\"" in out and "2025-T2/? Barn och unga – 2025-T2.xlsx" in out, out
    assert "UNDERKÄND" in out and "är större än totalen" in out
    code, out, err = cp1252("check", folder, "--json")
    assert code == 1 and "≤" not in out and '"<= 1"' in out
    code, out, err = cp1252("run", folder)
    assert (code == 1 and f"Huvudarbetsbok: {Path(folder) / MASTER}" in out
            and "underkända: 1" in out)
    for args in (("--help",), ("run", "--help"), ("katalog",), ("--version",), ("init", "Nämnd Å"),
                 ("template", "--period", "2025-T2", "--out", "mallar"), ("demo", "Exempel Ä")):
        code, out, err = cp1252(*args)
        assert code == 0, (args, err)
        assert out.strip() and ("ä" in out + err or "å" in out + err or "ö" in out + err), \
            (args, out, err)


# ---- a master open in Excel --------------------------------------------------------------------

def _immutable(path: Path, on: bool) -> bool:
    """chattr +i: even root cannot replace the file, as Windows refuses while Excel has it open."""
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True,
                          check=False)
    return done.returncode == 0


def test_a_master_open_in_excel_is_left_intact_and_said_in_swedish(awkward: Path,
                                                                   tmp_path: Path) -> None:
    folder = Path(awkward.name)  # relative, as the user typed it
    first = subprocess.run([sys.executable, "-m", "consolidate", "run", str(folder)],
                           capture_output=True, text=True, cwd=tmp_path, env=environment(),
                           timeout=180, check=False)
    assert first.returncode == 1, first.stderr
    master = awkward / MASTER
    before = sha256(master)
    if not _immutable(master, True):
        pytest.skip("chattr +i does not work here (needs CAP_LINUX_IMMUTABLE and ext4/xfs/btrfs)")
    try:
        again = subprocess.run([sys.executable, "-m", "consolidate", "run", str(folder)],
                               capture_output=True, text=True, cwd=tmp_path, env=environment(),
                               timeout=180, check=False)
    finally:
        _immutable(master, False)
    assert again.returncode == 2
    assert again.stderr.startswith(f"Fel: {folder / MASTER} kan inte ersättas"), again.stderr
    assert ("Stäng sammanställningen i Excel och kör igen" in again.stderr
            and "Traceback" not in again.stderr)
    assert sha256(master) == before
    assert [p.name for p in awkward.iterdir() if p.name.startswith(".~")] == []


def test_any_output_that_cannot_take_the_old_files_place(tmp_path: Path) -> None:
    # The generic path: a folder with a file in it stands where the output goes.
    target = tmp_path / "rapport.xlsx"
    target.mkdir()
    (target / "kvar.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ReplaceError, match="kan inte ersättas .*Stäng filen i Excel och kör igen"):
        write_atomically(target, lambda tmp: tmp.write_bytes(b"ny"))
    assert (target / "kvar.txt").read_text(encoding="utf-8") == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport.xlsx"]
