"""The package as a municipality installs it: the sdist and the wheel built from a copy of the
source (the wheel from the sdist, as pip and pipx do), the wheel installed in a fresh venv, and
`demo`, `katalog` and `init` run from an empty folder, far from the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from consolidate import __version__

from conftest import ROOT

BIN = "Scripts" if os.name == "nt" else "bin"
# What a clean clone does not have; seeds/exempel and templates_xlsx are left out too, to show the
# build does not need them.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".*_cache", ".hypothesis", "test-output", "exempel",
                                    "templates_xlsx", "results")


def _run(args: list[str | Path], cwd: Path,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONSOLIDATE_KATALOG", "PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("bygge")
    source = work / "källkod"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    done = _run([sys.executable, "-m", "build", "--outdir", work / "dist", source], cwd=work)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,), (wheel,) = (sorted((work / "dist").glob("*.tar.gz")),
                          sorted((work / "dist").glob("*.whl")))
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its dependencies (from pip's cache or the index)."""
    venv = tmp_path_factory.mktemp("venv") / "miljö"
    done = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    assert done.returncode == 0, done.stderr
    python = venv / BIN / ("python.exe" if os.name == "nt" else "python")
    done = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", built[1]],
                cwd=venv.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / BIN


def test_the_wheel_carries_the_example_catalog_and_the_seed_figures(
        built: tuple[Path, Path]) -> None:
    sdist, wheel = built
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert (z.read("consolidate/schemas/katalog.toml")
                == (ROOT / "schemas" / "katalog.toml").read_bytes())
        assert (z.read("consolidate/seeds/figurer.toml")
                == (ROOT / "seeds" / "figurer.toml").read_bytes())
    assert {"consolidate/py.typed", "consolidate/starter.py", "consolidate/locate.py"} <= names
    assert not [n for n in names
                if n.endswith(".xlsx") or n.startswith(("tests/", "schemas/", "seeds/"))]
    with tarfile.open(sdist) as t:
        inside = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"schemas/katalog.toml", "seeds/figurer.toml", "pyproject.toml"} <= inside


def test_demo_katalog_and_init_work_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    consolidate = installed / "consolidate"
    empty = tmp_path / "tom mapp"
    empty.mkdir()
    where = _run([installed / "python", "-c", "import consolidate; print(consolidate.__file__)"],
                 cwd=empty)
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(installed.parent), where.stdout  # not the repository's copy
    example = ("Katalog: exempelkatalogen som följer med consolidate "
               f"({package / 'schemas' / 'katalog.toml'})")

    version = _run([consolidate, "--version"], cwd=empty)
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[:2] == [f"consolidate, version {__version__}",
                                               f"{example}; skapa nämndens egen med consolidate "
                                               "init"]

    katalog = _run([consolidate, "katalog"], cwd=empty)
    assert katalog.returncode == 0, katalog.stderr
    assert katalog.stdout.startswith(example) and "14 indikatorer" in katalog.stdout

    demo = _run([consolidate, "demo"], cwd=empty)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.startswith(example) and "Traceback" not in demo.stderr
    assert (empty / "exempel" / "sammanställning_2026-T1.xlsx").is_file()

    init = _run([consolidate, "init", "Nämnden"], cwd=empty)
    assert init.returncode == 0, init.stderr
    mine = _run([consolidate, "katalog"], cwd=empty / "Nämnden")
    assert (mine.returncode == 0
            and mine.stdout.startswith("Katalog: katalog.toml\n")), mine.stdout + mine.stderr
    template = _run([consolidate, "template", "--period", "2026-T1", "--out", "mallar/2026-T1"],
                    cwd=empty / "Nämnden")
    assert template.returncode == 0, template.stderr
    # the units of the 2026 plan (Myren merged)
    assert len(list((empty / "Nämnden" / "mallar" / "2026-T1").glob("*.xlsx"))) == 5


def test_generate_says_it_belongs_to_the_repository(installed: Path, tmp_path: Path) -> None:
    done = _run([installed / "python", "-m", "consolidate.generate"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("Fel: python -m consolidate.generate skriver om filerna i "
                                  "källkodsförrådet")
    assert list(tmp_path.iterdir()) == []
