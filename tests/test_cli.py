"""The command line: every command has Swedish help, usage errors exit 2 in Swedish."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from consolidate import __version__
from consolidate.cli import cli

COMMANDS = sorted(cli.commands)


def test_every_command_has_help_text() -> None:
    assert {"template", "check", "run", "status", "demo", "katalog", "mail"} <= set(COMMANDS)
    for name in COMMANDS:
        command = cli.commands[name]
        assert command.help and command.help.strip(), name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_swedish(invoke, name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0
    assert "Användning:" in result.output
    assert "Flaggor" in result.output
    for english in ("Usage:", "Options:", "Show this message"):
        assert english not in result.output


def test_group_help_and_version(invoke) -> None:
    result = invoke("--help")
    assert (result.exit_code == 0 and "Kommandon" in result.output
            and "Tertialuppföljning" in result.output)
    assert __version__ in invoke("--version").output


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consolidate", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, needle", [
    (("run", "--bogus"), "Okänd flagga: --bogus"),
    (("run",), "Argumentet MAPP saknas"),
    (("nope",), "Okänt kommando: nope"),
    (("template", "--period", "2025-T9", "--out", "x"), "Perioden \"2025-T9\" kan inte tolkas"),
])
def test_usage_errors_are_swedish_and_exit_2(args: tuple[str, ...], needle: str, tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "consolidate", *args], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert needle in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
