"""The public Python API: the README's example runs as written, and every entry point is
documented."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

import consolidate
from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path: Path, catalog: Catalog,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    section = README.read_text(encoding="utf-8").split("## Från Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    build_demo_folder(catalog, tmp_path / "exempel")
    monkeypatch.chdir(tmp_path)
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 - the README's own example
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(catalog.indicators)
    assert any("saknar: socialpsykiatri" in line for line in printed)
    wb = openpyxl.load_workbook(tmp_path / "exempel" / "sammanställning.xlsx")
    assert wb.sheetnames[0] == "Sammanställning"


def test_every_entry_point_is_exported_and_says_what_it_returns() -> None:
    names = [n for n in consolidate.__all__ if n != "__version__"]
    assert len(names) >= 7
    for name in names:
        doc = getattr(consolidate, name).__doc__
        assert doc and re.search(r"\breturn", doc, re.IGNORECASE), name


def test_the_board_model_without_a_workbook(tmp_path: Path, catalog: Catalog) -> None:
    folder = tmp_path / "exempel"
    build_demo_folder(catalog, folder)
    board = consolidate.consolidate_folder(folder, catalog)
    assert not list(folder.glob("sammanställning*"))
    states = board.unit_states()
    assert states["socialpsykiatri"] == "saknas" and states["vuxen"] == "underkänd"
    row = next(r for r in board.rows if r.indicator.id == "medarbetare_tidiga_insatser")
    assert row.current.rejected == ("vuxen",) and row.current.partial
    assert row.judgement.status == "grå"
    report = consolidate.check([folder / "2026-T1"], catalog)
    assert report.errors == 2


def test_no_entry_point_is_shadowed_by_a_submodule() -> None:
    """Importing a submodule sets it as an attribute of the package: an entry point with a module's
    name would turn into that module once the module is imported (export.py did so to export())."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(consolidate.__path__):
        importlib.import_module(f"consolidate.{module.name}")
    for name in consolidate.__all__:
        assert callable(getattr(consolidate, name)) or name == "__version__", name
        assert name not in {m.name for m in pkgutil.iter_modules(consolidate.__path__)}, name
