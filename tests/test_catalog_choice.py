"""Which catalog a command uses, in the documented order, and that every command says which."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from consolidate import __version__
from consolidate.catalog_parse import DEFAULT_CATALOG, load_catalog
from consolidate.cli import cli

from conftest import ROOT

EXAMPLE = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
NO_ENV = {"CONSOLIDATE_KATALOG": None}
BUNDLED_LINE = (f"Katalog: exempelkatalogen som följer med consolidate ({DEFAULT_CATALOG}); "
                "skapa nämndens egen med consolidate init")


def board(path: Path, name: str) -> Path:
    """A catalog that says which one it is in its board's name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE.replace('namn = "Socialnämnden"', f'namn = "{name}"', 1),
                    encoding="utf-8")
    assert load_catalog(path).board.name == name
    return path


def first_line(result: Result) -> str:
    return result.output.splitlines()[0]


def test_the_order_option_environment_folder_current_folder_example(
        tmp_path: Path, invoke: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    option = board(tmp_path / "a" / "egen.toml", "A")
    env = board(tmp_path / "b" / "miljö.toml", "B")
    above = board(tmp_path / "delad" / "katalog.toml", "C")
    here = tmp_path / "här"
    board(here / "katalog.toml", "D")
    work = tmp_path / "delad" / "2026-T1"
    work.mkdir()
    monkeypatch.chdir(here)

    def which(*extra: str, environ: dict[str, str | None] = NO_ENV) -> str:
        result = invoke("check", work, *extra, env=environ)
        # an empty folder: nothing to check, but the catalog is named
        assert result.exit_code == 2, result.output
        return first_line(result)

    assert (which("--katalog", str(option), environ={"CONSOLIDATE_KATALOG": str(env)})
            == f"Katalog: {option}")
    assert (which(environ={"CONSOLIDATE_KATALOG": str(env)})
            == f"Katalog: {env} (från CONSOLIDATE_KATALOG)")
    assert which() == f"Katalog: {above}"  # the folder the command works on, or one above it
    above.unlink()
    assert which() == "Katalog: katalog.toml"  # then the current folder, as the user would write it
    (here / "katalog.toml").unlink()
    assert which() == BUNDLED_LINE


def test_a_schemas_folder_in_the_current_folder_no_longer_wins(
        tmp_path: Path, invoke: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    board(tmp_path / "schemas" / "katalog.toml", "Gammal")
    monkeypatch.chdir(tmp_path)
    result = invoke("katalog", env=NO_ENV)
    assert result.exit_code == 0
    assert first_line(result) == BUNDLED_LINE and "Gammal" not in result.output


def test_the_file_a_command_works_on_counts_as_its_folder(tmp_path: Path,
                                                          invoke: Callable[..., Result],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    own = board(tmp_path / "nämnd" / "katalog.toml", "Egen")
    master = tmp_path / "nämnd" / "inlamning" / "sammanställning_2026-T1.xlsx"
    master.parent.mkdir()
    monkeypatch.chdir(tmp_path)
    result = invoke("mail", master.relative_to(tmp_path), "--to", "namnd@exempelkommun.se",
                    env=NO_ENV)
    assert first_line(result) == f"Katalog: {own.relative_to(tmp_path)}"
    assert result.exit_code != 0 and "Fel:" in result.stderr  # no master there: said in Swedish


def test_json_stays_json_and_the_catalog_is_named_on_stderr(tmp_path: Path,
                                                            invoke: Callable[..., Result],
                                                            filled: Callable[..., Path]) -> None:
    # an empty template: errors, but JSON all the same
    filled("myren", "2025-T2", {}, folder=tmp_path)
    result = invoke("check", tmp_path, "--json", env=NO_ENV)
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["filer"]) == 1
    assert result.stderr.splitlines()[0] == BUNDLED_LINE


def test_templates_list_paths_on_stdout_and_the_catalog_on_stderr(
        tmp_path: Path, invoke: Callable[..., Result]) -> None:
    result = invoke("template", "--period", "2026-T1", "--unit", "beroende", "--out", tmp_path,
                    env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(tmp_path / "2026-T1_beroende.xlsx")]
    assert result.stderr.splitlines()[0] == BUNDLED_LINE


def test_an_environment_variable_that_points_nowhere(tmp_path: Path,
                                                     invoke: Callable[..., Result]) -> None:
    result = invoke("katalog", env={"CONSOLIDATE_KATALOG": str(tmp_path / "saknas.toml")})
    assert result.exit_code == 2
    assert (result.stderr.startswith("Fel: CONSOLIDATE_KATALOG pekar på")
            and "saknas.toml" in result.stderr)


@pytest.mark.parametrize("command", ["", "template", "check", "run", "status", "mail"])
def test_help_names_the_environment_variable(invoke: Callable[..., Result], command: str) -> None:
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "CONSOLIDATE_KATALOG" in result.output and "katalog.toml" in result.output


def test_every_command_that_reads_the_catalog_takes_katalog_or_finds_it() -> None:
    uses = {name for name, command in cli.commands.items()
            if any(p.name == "catalog_path" for p in command.params)}
    # plus `katalog [FIL]` and `--version`
    assert uses == {"template", "check", "run", "status", "mail", "demo"}


def test_version_names_the_catalog_and_its_fingerprint(tmp_path: Path,
                                                       invoke: Callable[..., Result],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("--version", env=NO_ENV)
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"consolidate, version {__version__}", BUNDLED_LINE,
                                          f"Katalogens fingeravtryck: {load_catalog().fingerprint}"]
    own = board(tmp_path / "katalog.toml", "Egen")
    result = invoke("-V", env=NO_ENV)
    assert result.output.splitlines()[1] == "Katalog: katalog.toml"
    assert (result.output.splitlines()[2]
            == f"Katalogens fingeravtryck: {load_catalog(own).fingerprint}")


def test_the_master_names_its_catalog(tmp_path: Path, invoke: Callable[..., Result],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from consolidate.demo import build_demo_folder

    monkeypatch.delenv("CONSOLIDATE_KATALOG", raising=False)
    folder = tmp_path / "delad"
    build_demo_folder(load_catalog(), folder)

    def about(out: Path, *args: object) -> str:
        invoke("run", folder, "--out", out, *args)
        ws = openpyxl.load_workbook(out)["Om sammanställningen"]
        return next(str(c.value) for c in ws["A"] if "Katalog:" in str(c.value))

    line = about(tmp_path / "exempel.xlsx")
    assert ("Katalog: exempelkatalogen som följer med consolidate" in line
            and str(DEFAULT_CATALOG) not in line)
    own = board(tmp_path / "egen" / "nämndens katalog.toml", "Socialnämnden")
    assert f"Katalog: {own}" in about(tmp_path / "egen.xlsx", "--katalog", own)
