"""Inputs are read-only: check (with feedback copies), run (with export) and repeated runs over
demo-like folders leave every submitted file as it was — same bytes, same modification time."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder, load_seeds, unit_values
from consolidate.periods import Period

from conftest import ROOT, sha256

CATALOG = ROOT / "schemas" / "katalog.toml"


def snapshot(folder: Path) -> dict[Path, tuple[str, int, int]]:
    """Every file under the folder: hash, modification time (ns) and mode."""
    return {p: (sha256(p), p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A folder like the demo's: three periods in subfolders, one faulty unit, one missing."""
    folder = tmp_path_factory.mktemp("demo") / "delad mapp"
    build_demo_folder(catalog, folder)
    return folder


@pytest.fixture
def shared(tmp_path: Path, demo_source: Path) -> Path:
    folder = tmp_path / "delad mapp"
    shutil.copytree(demo_source, folder, copy_function=shutil.copy2)
    # Make the inputs look old, as they are on the shared drive: a write would show in the mtime.
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    return folder


def test_check_with_feedback_changes_no_input(shared: Path, tmp_path: Path,
                                              invoke: Callable[..., Any],
                                              unchanged: Callable[[Path], None]) -> None:
    unchanged(shared)
    before = snapshot(shared)
    # elsewhere, and beside the inputs
    for target in (tmp_path / "återkoppling", shared / "2025-T2"):
        result = invoke("check", shared, "--feedback", target, "--katalog", CATALOG)
        assert result.exit_code == 1, result.output  # the demo has a faulty unit
        assert list(target.glob("*_återkoppling.xlsx"))
    after = snapshot(shared)
    assert {p: v for p, v in after.items() if p in before} == before
    new = sorted(p.name for p in set(after) - set(before))
    assert new and all(name.endswith("_återkoppling.xlsx") for name in new), new


def test_run_with_export_changes_no_input(shared: Path, tmp_path: Path, invoke: Callable[..., Any],
                                          unchanged: Callable[[Path], None]) -> None:
    unchanged(shared)
    before = snapshot(shared)
    for period in ("2025-T2", "2025-T1", "2023-T3"):
        result = invoke("run", shared, "--period", period, "--export", tmp_path / "export",
                        "--katalog", CATALOG)
        assert result.exit_code in (0, 1), result.output
    # Twice more (the latest period, 2026-T1): a run reads the previous master (and skips it) and
    # replaces only that.
    for _ in range(2):
        assert invoke("run", shared, "--json", "--katalog", CATALOG).exit_code in (0, 1)
    after = snapshot(shared)
    assert {p: v for p, v in after.items() if p in before} == before
    assert sorted(p.name for p in set(after) - set(before)) == [
        "sammanställning_2023-T3.xlsx", "sammanställning_2025-T1.xlsx",
        "sammanställning_2025-T2.xlsx", "sammanställning_2026-T1.xlsx"]


def test_single_files_checked_by_path_are_not_changed(shared: Path, tmp_path: Path,
                                                      invoke: Callable[..., Any],
                                                      unchanged: Callable[[Path], None]) -> None:
    files = sorted((shared / "2026-T1").glob("*.xlsx"))  # with the demo's faulty file
    unchanged(shared)
    before = snapshot(shared)
    result = invoke("check", *files, "--json", "--feedback", tmp_path / "ut", "--katalog", CATALOG)
    assert result.exit_code == 1
    assert snapshot(shared) == before


def test_read_only_files_on_the_share_can_be_checked_and_run(
        shared: Path, tmp_path: Path, invoke: Callable[..., Any],
        unchanged: Callable[[Path], None]) -> None:
    """Submissions are often read-only for the controller: nothing needs write access to them."""
    for path in shared.rglob("*.xlsx"):
        path.chmod(0o444)
    unchanged(shared)
    before = snapshot(shared)
    assert invoke("check", shared, "--feedback", tmp_path / "ut", "--katalog",
                  CATALOG).exit_code == 1
    assert invoke("run", shared, "--out", tmp_path / "m.xlsx", "--katalog",
                  CATALOG).exit_code in (0, 1)
    assert snapshot(shared) == before


def test_demo_never_deletes_files_it_did_not_write(tmp_path: Path,
                                                   template_cache: Callable[[str, str], Path],
                                                   catalog: Catalog,
                                                   invoke: Callable[..., Any]) -> None:
    from conftest import fill

    folder = tmp_path / "delad mapp"
    period = Period(2025, 2)
    real = fill(template_cache("vuxen", str(period)),
                unit_values(catalog, load_seeds(), "vuxen", period),
                folder / "2025-T2" / "2025-T2_vuxen.xlsx")
    digest = sha256(real)
    invoke("demo", folder, "--katalog", CATALOG)
    assert real.exists() and sha256(real) == digest
    result = invoke("demo", folder, "--katalog", CATALOG)
    assert (result.exit_code == 2 and result.stderr.startswith("Fel:")
            and "ingen exempelmapp" in result.stderr)
    assert (sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
            == ["2025-T2", "2025-T2/2025-T2_vuxen.xlsx"])


def test_demo_again_removes_only_what_it_wrote(tmp_path: Path, invoke: Callable[..., Any]) -> None:
    folder = tmp_path / "exempel"
    assert invoke("demo", folder, "--katalog", CATALOG).exit_code == 0
    written = snapshot(folder)
    own = [folder / "2025-T2" / "2025-T2_myren_anteckningar.xlsx",
           folder / "mina anteckningar.xlsx"]
    for path in own:
        shutil.copy(folder / "2025-T2" / "2025-T2_myren.xlsx", path)
    digests = {path: sha256(path) for path in own}
    assert invoke("demo", folder, "--katalog", CATALOG).exit_code in (0, 1)
    assert {path: sha256(path) for path in own} == digests
    # The example itself was written again, file for file.
    assert {p for p in snapshot(folder) if p not in own} == set(written)
