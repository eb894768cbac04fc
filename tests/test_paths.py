"""Paths: odd file names are read and listed right; links out of the folder are not followed;
unreadable files are reported; outputs never land in templates_xlsx/ or over an input file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import ROOT, fill, sha256

PERIOD = Period(2025, 2)
CATALOG = ROOT / "schemas" / "katalog.toml"


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
          catalog: Catalog) -> dict[str, Path]:
    """One valid filled workbook per unit, kept outside the folders the tests run on."""
    folder = tmp_path_factory.mktemp("giltiga")
    return {unit: fill(template_cache(unit, str(PERIOD)),
                       unit_values(catalog, load_seeds(), unit, PERIOD),
                       folder / f"{PERIOD}_{unit}.xlsx") for unit in catalog.unit_ids()}


def run_json(invoke: Callable[..., Any], folder: Path, *extra: Any) -> tuple[int, dict[str, Any]]:
    result = invoke("run", folder, "--json", "--katalog", CATALOG, *extra)
    return result.exit_code, json.loads(result.stdout)


def hashes(folder: Path) -> dict[str, str]:
    """Checked inside the test body (the `unchanged` fixture only fails at teardown)."""
    return {p.name: sha256(p) for p in folder.iterdir() if p.is_file()}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---- names -------------------------------------------------------------------------------------

NAMES = {
    "forebyggande": "📊 Förebyggande enheten, rapport 2025-T2.xlsx",
    "barn_unga": "Barn och unga – tertial 2 2025 (Åsa Ödmark).xlsx",
    # as macOS writes it
    "vuxen": unicodedata.normalize("NFD", "Vuxen – Åke Ärlig, tertial 2 2025.xlsx"),
    "myren": "  myren   med  mellanslag .xlsx",
    "beroende": "beroende\u00a0T2\u00a02025 – ÅÄÖ åäö é ü ß.xlsx",
    "socialpsykiatri": "Socialpsykiatri 2025-T2 \u200b(kopia).xlsx",
}


def test_odd_names_are_read_and_listed_as_they_are(tmp_path: Path, valid: dict[str, Path],
                                                   catalog: Catalog,
                                                   invoke: Callable[..., Any],
                                                   unchanged: Callable[[Path], None]) -> None:
    folder = tmp_path / "Tertial 2 – inlämnat (åäö)"
    folder.mkdir()
    for unit, name in NAMES.items():
        shutil.copy(valid[unit], folder / name)
    on_disk = set(os.listdir(folder))
    assert unicodedata.normalize("NFD", NAMES["vuxen"]) in on_disk  # the file system kept NFD
    unchanged(folder)
    code, report = run_json(invoke, folder)
    assert code == 0, report
    listed = {f["fil"]: f for f in report["filer"]}
    assert {nfc(n) for n in listed} == {nfc(n) for n in NAMES.values()}
    assert all(f["status"] == "godkänd" for f in listed.values())
    delivered = {e["enhet"]: e["fil"] for e in report["inlamning"] if e["status"] == "levererad"}
    assert {u: nfc(f) for u, f in delivered.items()} == {u: nfc(n) for u, n in NAMES.items()}
    wb = openpyxl.load_workbook(report["huvudarbetsbok"])
    in_master = {nfc(str(r[2])) for r in wb["Inlämning"].iter_rows(min_row=5, values_only=True)
                 if r[2]}
    assert {nfc(n) for n in NAMES.values()} <= in_master
    text = invoke("check", folder, "--katalog", CATALOG).stdout
    for name in NAMES.values():
        assert nfc(name) in nfc(text)


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_name_that_is_not_utf8_does_not_stop_the_run(tmp_path: Path, valid: dict[str, Path],
                                                       command: str,
                                                       unchanged: Callable[[Path], None]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen.xlsx")
    latin1 = (os.fsencode(folder) + b"/" + f"{PERIOD}_myren_".encode() + "åäö".encode("latin-1")
              + b".xlsx")
    shutil.copy(os.fsencode(valid["myren"]), latin1)
    unchanged(folder)
    proc = subprocess.run([sys.executable, "-m", "consolidate", command, str(folder), "--json",
                           "--katalog", str(CATALOG)], capture_output=True, timeout=120,
                          check=False)
    assert proc.returncode in (0, 1), proc.stderr.decode(errors="replace")[-1500:]
    report = json.loads(proc.stdout)
    files = [f["fil"] for f in report["filer"]]
    assert len(files) == 2 and any(f.startswith(f"{PERIOD}_myren_") for f in files)


# ---- links and special files -------------------------------------------------------------------

def test_links_out_of_the_folder_are_not_followed(tmp_path: Path, valid: dict[str, Path],
                                                  invoke: Callable[..., Any],
                                                  unchanged: Callable[[Path], None]) -> None:
    folder, outside = tmp_path / "in", tmp_path / "utanför"
    folder.mkdir()
    outside.mkdir()
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen.xlsx")
    shutil.copy(valid["myren"], outside / f"{PERIOD}_myren.xlsx")
    shutil.copy(valid["beroende"], outside / f"{PERIOD}_beroende.xlsx")
    (folder / f"{PERIOD}_myren.xlsx").symlink_to(outside / f"{PERIOD}_myren.xlsx")  # a file out
    (folder / "extern").symlink_to(outside, target_is_directory=True)              # a folder out
    (folder / "upp").symlink_to("..", target_is_directory=True)                    # the parent
    (folder / "slinga").symlink_to(".", target_is_directory=True)                  # a loop
    (folder / f"{PERIOD}_barn_unga.xlsx").symlink_to(tmp_path / "finns inte.xlsx")  # dangling
    unchanged(folder)
    unchanged(outside)
    code, report = run_json(invoke, folder)
    assert code == 1
    used = {e["enhet"] for e in report["inlamning"] if e["status"] == "levererad"}
    assert used == {"vuxen"}
    read = [f["fil"] for f in report["filer"] if f["status"] == "godkänd"]
    assert read == [f"{PERIOD}_vuxen.xlsx"]
    wb = openpyxl.load_workbook(report["huvudarbetsbok"])
    unit_col = [c.value for c in wb["Data"][1]].index("Enhets-id")
    data_units = {r[unit_col] for r in wb["Data"].iter_rows(min_row=2, values_only=True)}
    assert data_units == {"vuxen"}


def test_a_link_out_of_the_folder_is_listed_with_a_reason(tmp_path: Path, valid: dict[str, Path],
                                                          invoke: Callable[..., Any]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen.xlsx")
    (folder / f"{PERIOD}_myren.xlsx").symlink_to(valid["myren"])
    _, report = run_json(invoke, folder)
    reasons = [f["meddelande"] for f in report["fynd"] if f["fil"] == f"{PERIOD}_myren.xlsx"]
    assert reasons and "länk" in reasons[0].lower() and "utanför" in reasons[0]
    assert {e["enhet"] for e in report["inlamning"] if e["status"] == "levererad"} == {"vuxen"}


def test_a_fifo_or_a_folder_named_xlsx_does_not_hang_the_run(tmp_path: Path,
                                                             valid: dict[str, Path]) -> None:
    """Opening a FIFO for reading blocks forever: the reader must only open regular files."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen.xlsx")
    os.mkfifo(folder / f"{PERIOD}_myren.xlsx")
    (folder / f"{PERIOD}_beroende.xlsx").mkdir()
    proc = subprocess.run([sys.executable, "-m", "consolidate", "run", str(folder), "--json",
                           "--katalog", str(CATALOG)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert {e["enhet"] for e in report["inlamning"] if e["status"] == "levererad"} == {"vuxen"}


def test_a_fifo_named_on_the_command_line_is_reported_not_opened(tmp_path: Path,
                                                                 valid: dict[str, Path]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    fifo = folder / f"{PERIOD}_myren.xlsx"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "consolidate", "check", str(fifo),
                           str(valid["vuxen"]), "--json", "--katalog", str(CATALOG)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    reasons = [f for f in json.loads(proc.stdout)["fynd"] if f["fil"] == fifo.name]
    assert [f["kod"] for f in reasons] == ["oläsbar"]
    assert reasons[0]["meddelande"] == "Filen kan inte läsas: det är ingen vanlig fil."


def test_an_unreadable_file_is_reported(tmp_path: Path, valid: dict[str, Path],
                                        invoke: Callable[..., Any]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen.xlsx")
    locked = folder / f"{PERIOD}_myren.xlsx"
    shutil.copy(valid["myren"], locked)
    locked.chmod(0)
    try:
        try:
            with open(locked, "rb"):
                pass
        except PermissionError:
            pass
        else:
            pytest.skip("running as root (or with CAP_DAC_OVERRIDE): chmod 000 does not stop "
                        "reading")
        code, report = run_json(invoke, folder)
        assert code == 1
        reasons = [f for f in report["fynd"] if f["fil"] == locked.name]
        assert [f["kod"] for f in reasons] == ["oläsbar"]
        assert reasons[0]["meddelande"].startswith("Filen kan inte läsas")
        assert any(e["fil"] == locked.name for e in report["inlamning"])
    finally:
        locked.chmod(0o644)


# ---- where outputs go --------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path, valid: dict[str, Path]) -> Path:
    root = tmp_path / "delad"
    root.mkdir()
    for path in valid.values():
        shutil.copy(path, root / path.name)
    return root


@pytest.mark.parametrize("spelling", ["{f}/{n}", "{f}/./{n}", "{f}/../delad/{n}", "{t}/alias.xlsx"])
def test_the_master_is_never_written_over_an_input(folder: Path, tmp_path: Path,
                                                   invoke: Callable[..., Any],
                                                   unchanged: Callable[[Path], None],
                                                   spelling: str) -> None:
    target = folder / f"{PERIOD}_vuxen.xlsx"
    (tmp_path / "alias.xlsx").symlink_to(target)
    unchanged(folder)
    before = set(os.listdir(folder))
    result = invoke("run", folder, "--out", spelling.format(f=folder, n=target.name, t=tmp_path),
                    "--katalog", CATALOG)
    assert result.exit_code == 2
    assert result.stderr.startswith("Fel:") and "inlämn" in result.stderr, result.stderr
    assert set(os.listdir(folder)) == before  # no master and no temp file either


def test_the_master_is_never_written_into_a_folder(folder: Path, invoke: Callable[..., Any],
                                                   unchanged: Callable[[Path], None]) -> None:
    unchanged(folder)
    result = invoke("run", folder, "--out", folder, "--katalog", CATALOG)
    assert result.exit_code == 2 and result.stderr.startswith("Fel:")
    assert folder.is_dir()


def test_a_submission_named_like_the_master_is_not_overwritten(folder: Path,
                                                               invoke: Callable[..., Any]) -> None:
    own = folder / f"sammanställning_{PERIOD}.xlsx"
    (folder / f"{PERIOD}_myren.xlsx").rename(own)
    before = hashes(folder)
    result = invoke("run", folder, "--katalog", CATALOG)
    assert result.exit_code in (0, 1, 2)
    assert {p: h for p, h in hashes(folder).items() if p in before} == before


def test_feedback_never_overwrites_an_input(folder: Path, valid: dict[str, Path],
                                            invoke: Callable[..., Any]) -> None:
    # A unit head corrected the feedback copy they got and handed it in under its name.
    shutil.copy(valid["vuxen"], folder / f"{PERIOD}_vuxen_återkoppling.xlsx")
    before = hashes(folder)
    result = invoke("check", folder, "--feedback", folder, "--katalog", CATALOG)
    assert result.exit_code in (0, 1, 2)
    assert {p: h for p, h in hashes(folder).items() if p in before} == before


@pytest.mark.parametrize("command", [
    pytest.param(["run", "{f}", "--out", "{tpl}/sammanställning.xlsx"], id="run-out"),
    pytest.param(["run", "{f}", "--out", "{tmp}/m.xlsx", "--export", "{tpl}"], id="run-export"),
    pytest.param(["check", "{f}", "--feedback", "{tpl}"], id="check-feedback"),
])
def test_no_output_goes_into_templates_xlsx(folder: Path, tmp_path: Path,
                                            invoke: Callable[..., Any],
                                            command: list[str]) -> None:
    templates = tmp_path / "templates_xlsx"
    templates.mkdir()
    (templates / "mall.xlsx").write_bytes(b"mall")
    args = [c.format(f=folder, tpl=templates, tmp=tmp_path) for c in command]
    result = invoke(*args, "--katalog", CATALOG)
    assert (result.exit_code == 2 and result.stderr.startswith("Fel:")
            and "templates_xlsx" in result.stderr)
    assert os.listdir(templates) == ["mall.xlsx"]
