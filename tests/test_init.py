"""`consolidate init`: a board's folder that the other commands then use, and its LÄSMIG's commands
run one by one in a real process, in a folder whose long name has spaces and Swedish letters."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Origin
from consolidate.catalog_parse import DEFAULT_CATALOG, load_catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.errors import UsageError
from consolidate.periods import parse_period
from consolidate.starter import start_board

from conftest import fill

# Over 260 characters in all (Windows' old MAX_PATH), each name well under 255 bytes.
LONG = ("Socialnämndens tertialuppföljning – Åsa Öberg och Ärlige Åke, förvaltningens "
        "gemensamma mapp för år 2026")


def env_without_catalog() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CONSOLIDATE_KATALOG"}


def consolidate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consolidate", *args], capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd, env=env_without_catalog(),
                          timeout=180, check=False)


def test_init_writes_a_catalog_a_readme_and_the_folders(tmp_path: Path,
                                                        invoke: Callable[..., Result],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "Nämnden")
    assert result.exit_code == 0, result.output
    board = tmp_path / "Nämnden"
    assert sorted(p.relative_to(board).as_posix() for p in board.rglob("*")) == [
        "LÄSMIG.md", "aterkoppling", "inlamning",
        *(f"inlamning/{p}" for p in _this_years_tertials()), "katalog.toml", "mallar", "utskick"]
    text = (board / "katalog.toml").read_text(encoding="utf-8")
    head = text.split("\n\n", 1)[0]
    assert (head.startswith("# ") and "Ändra först" in head and "[namnd]" in head
            and "consolidate katalog" in head)
    assert text.endswith(DEFAULT_CATALOG.read_text(encoding="utf-8"))  # the example, ready to edit
    mine = load_catalog(board / "katalog.toml")
    assert mine.fingerprint == load_catalog().fingerprint and not mine.bundled
    readme = (board / "LÄSMIG.md").read_text(encoding="utf-8")
    for folder in ("inlamning/", "mallar/", "aterkoppling/", "utskick/", "katalog.toml"):
        assert folder in readme
    assert "Katalog: Nämnden/katalog.toml" in result.output and "LÄSMIG.md" in result.output


def test_init_in_the_empty_current_folder(tmp_path: Path, invoke: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("init", ".")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "katalog.toml").is_file() and (tmp_path / "LÄSMIG.md").is_file()
    result = invoke("katalog")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Katalog: katalog.toml\n")


@pytest.mark.parametrize("make", ["file", "folder with a file", "hidden file"])
def test_init_refuses_anything_but_a_new_or_empty_folder(tmp_path: Path,
                                                         invoke: Callable[..., Result],
                                                         make: str) -> None:
    target = tmp_path / "nämnd"
    if make == "file":
        target.write_text("x", encoding="utf-8")
    else:
        target.mkdir()
        (target / ("gammal.txt" if make == "folder with a file" else ".gömd")).write_text(
            "x", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = invoke("init", target)
    assert result.exit_code == 2
    assert result.stderr.startswith("Fel: ") and str(target) in result.stderr
    assert ("är en fil" if make == "file" else "är inte tom") in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_init_leaves_nothing_behind_when_it_cannot_finish(tmp_path: Path) -> None:
    # A real failure halfway: the board's path is so long that inlamning/ fits under the system's
    # path limit and inlamning/ÅÅÅÅ-T1 does not (ENAMETOOLONG), as on a deep network share.
    limit = os.pathconf(tmp_path, "PC_PATH_MAX") - 1  # in bytes, so the long names here are ASCII
    deep = tmp_path
    while len(str(deep)) < limit - 16 - 200:
        deep = deep / ("mapp" * 50)
    deep.mkdir(parents=True)
    board = deep / ("n" * (limit - 16 - len(str(deep)) - 1))
    assert len(str(board / "inlamning")) <= limit < len(str(board / "inlamning" / "2026-T1"))
    with pytest.raises(UsageError, match="Kan inte skapa"):
        start_board(board)
    assert list(deep.iterdir()) == []


def _this_years_tertials() -> list[str]:
    import datetime as dt

    return [f"{dt.date.today().year}-T{t}" for t in (1, 2, 3)]


def _readme_commands(readme: str) -> list[str]:
    blocks = re.findall(r"```\n(.*?)```", readme, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines()
            if line.startswith("consolidate ")]


def test_the_readmes_commands_run_in_the_board_folder(
        tmp_path: Path, template_cache: Callable[[str, str], Path]) -> None:
    parent = tmp_path / LONG
    parent.mkdir()
    board = parent / f"{LONG} – nämndens mapp"
    assert len(str(board / "inlamning" / "2026-T3" / "2026-T3_barn_unga_återkoppling.xlsx")) > 260
    done = consolidate("init", str(board), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    commands = _readme_commands((board / "LÄSMIG.md").read_text(encoding="utf-8"))
    assert [c.split()[1] for c in commands] == ["katalog", "template", "mail", "check", "mail",
                                                "status", "mail", "run", "mail"]
    catalog = load_catalog(board / "katalog.toml")
    seeds = load_seeds()
    for command in commands:
        args = shlex.split(command)[1:]
        if args[0] == "check":  # the units have filled in their templates by now
            period = parse_period(args[1].split("/")[-1])
            for template in sorted((board / "mallar" / str(period)).glob("*.xlsx")):
                unit = next(u for u in catalog.unit_ids() if template.stem.endswith(u))
                fill(template, unit_values(catalog, seeds, unit, period),
                     board / "inlamning" / str(period) / template.name)
        done = consolidate(*args, cwd=board)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        said = done.stdout + done.stderr
        # the board's own, found in the folder
        assert "Katalog: katalog.toml\n" in said, (command, said)
        assert "Traceback" not in said
    period = next(p for p in _this_years_tertials() if any((board / "inlamning" / p).iterdir()))
    master = board / "inlamning" / f"sammanställning_{period}.xlsx"
    assert openpyxl.load_workbook(master, read_only=True).sheetnames[0] == "Sammanställning"
    # Per unit of that period's plan its template and a feedback mail (everyone delivered: no
    # reminders), and the master to the board; each of them in the board's log.
    units = len(catalog.units_in(parse_period(period)))
    assert len(list((board / "utskick").glob("*.eml"))) == 2 * units + 1
    log = (board / "utskickslogg.txt").read_text(encoding="utf-8").splitlines()
    assert len(log) == 1 + 2 * units + 1
    # From outside, with the folder given: its catalog is found above the folder, and the paths are
    # printed as they were given (relative, with spaces and Swedish letters).
    relative = Path(LONG) / board.name / "inlamning"
    done = consolidate("run", str(relative), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"Katalog: {Path(LONG) / board.name / 'katalog.toml'}\n" in done.stdout
    assert f"Huvudarbetsbok: {relative / master.name}\n" in done.stdout


def test_the_catalog_records_where_it_came_from(tmp_path: Path) -> None:
    bundled = load_catalog()
    assert bundled.bundled and bundled.origin is Origin.BUNDLED
    assert bundled.path == str(DEFAULT_CATALOG)
    assert bundled.label == f"exempelkatalogen som följer med consolidate ({DEFAULT_CATALOG})"
    start_board(tmp_path / "n")
    own = load_catalog(tmp_path / "n" / "katalog.toml", Origin.FOLDER)
    assert not own.bundled and own.label == str(tmp_path / "n" / "katalog.toml")
    from_env = load_catalog(tmp_path / "n" / "katalog.toml", Origin.ENVIRONMENT)
    assert from_env.label.endswith("(från CONSOLIDATE_KATALOG)")
    assert own == bundled  # the same content: where it came from does not make it another catalog
