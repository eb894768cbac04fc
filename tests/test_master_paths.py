"""The master's two writing paths: xlsxwriter's fast internals and its public API give the same
cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder
from consolidate.master import write_master
from consolidate.run import run
from consolidate.xlsxrows import fast_path_available


def cells(path: Path) -> dict[str, dict[str, Any]]:
    """Every non-empty cell value of every sheet, by sheet and reference."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets:
        out[ws.title] = {c.coordinate: c.value for row in ws.iter_rows() for c in row
                         if c.value is not None}
    return out


@pytest.mark.parametrize("masked", [False, True], ids=["omaskerad", "maskerad"])
def test_fast_and_public_paths_write_the_same_cells(tmp_path: Path, catalog: Catalog,
                                                    masked: bool) -> None:
    folder = tmp_path / "exempel"
    build_demo_folder(catalog, folder)
    board = run(folder, catalog, mask=masked, write=False).board
    assert board is not None
    fast = write_master(board, tmp_path / "snabb.xlsx", fast=True)
    public = write_master(board, tmp_path / "publik.xlsx", fast=False)
    a, b = cells(fast), cells(public)
    assert list(a) == list(b)
    for sheet in a:
        assert a[sheet] == b[sheet], sheet
    # The Data table covers the same range on both paths.
    ta = openpyxl.load_workbook(fast)["Data"].tables["Data"].ref
    tb = openpyxl.load_workbook(public)["Data"].tables["Data"].ref
    assert ta == tb
    assert sum(len(v) for v in a.values()) > 1000


def test_this_xlsxwriter_takes_the_fast_path() -> None:
    """The pinned xlsxwriter range is the one the fast path is tested with."""
    assert fast_path_available()


def test_the_public_path_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLIDATE_XLSX_PUBLIC", "1")
    assert not fast_path_available()
