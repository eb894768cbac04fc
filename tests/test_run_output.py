"""What `consolidate run` says and writes at its edges: the master's name, a period with no
files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    folder = tmp_path_factory.mktemp("kanter") / "exempel"
    build_demo_folder(catalog, folder)
    return folder


@pytest.mark.parametrize("name", ["master.csv", "master", "master.xls"])
def test_the_master_must_be_named_xlsx(demo: Path, tmp_path: Path, invoke: Callable[..., Result],
                                       name: str) -> None:
    result = invoke("run", demo, "--out", tmp_path / name)
    assert result.exit_code == 2
    assert ".xlsx" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_period_without_files_is_said_and_the_periods_with_files_listed(
        demo: Path, tmp_path: Path, invoke: Callable[..., Result]) -> None:
    result = invoke("run", demo, "--period", "2024-T1", "--out", tmp_path / "m.xlsx")
    first = next(line for line in result.stdout.splitlines() if line.startswith("Period"))
    assert "ingen fil i mappen gäller perioden" in first
    found = ", ".join(sorted(p.name for p in demo.iterdir()
                             if p.is_dir() and not p.name.startswith(".")))
    assert first.endswith(f"Perioder som filerna gäller: {found}.")
    assert "2024-T1," not in first


def test_a_second_run_on_the_same_inputs_writes_the_same_bytes(
        demo: Path, invoke: Callable[..., Result]) -> None:
    invoke("run", demo)
    master = next(demo.glob("sammanställning_*.xlsx"))
    first = master.read_bytes()
    again = invoke("run", demo)
    assert "sammanställning" not in again.output.split("Huvudarbetsbok:")[0]
    assert master.read_bytes() == first


def test_mail_usage_errors_exit_2(demo: Path, tmp_path: Path,
                                  invoke: Callable[..., Result]) -> None:
    master = tmp_path / "m.xlsx"
    invoke("run", demo, "--out", master)
    no_recipient = invoke("mail", master)
    assert no_recipient.exit_code == 2 and "--to" in no_recipient.output
    no_master = invoke("mail", "--to", "namnd@exempelkommun.se")
    assert no_master.exit_code == 2 and "huvudarbetsboken" in no_master.output
    assert not (tmp_path / "utkorg").exists()


def test_a_master_of_an_earlier_period_holds_no_later_data(demo: Path, tmp_path: Path,
                                                          invoke: Callable[..., Result]) -> None:
    import openpyxl

    out = tmp_path / "m.xlsx"
    invoke("run", demo, "--period", "2025-T1", "--out", out)
    ws = openpyxl.load_workbook(out)["Data"]
    periods = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert periods == {"2023-T3", "2025-T1"}
