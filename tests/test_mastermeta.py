"""The master's hidden _meta sheet round-trips, also for a region's thousands of units."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from consolidate.mastermeta import (
    MasterSummary,
    Move,
    UnitStatus,
    read_master_summary,
    write_meta_sheet,
)


def _summary(units: int) -> MasterSummary:
    return MasterSummary(
        tool="consolidate test", board="Socialnämnden", municipality="Exempelkommun",
        period="2025-T2", period_label="tertial 2 2025 (maj–aug)", errors=0, warnings=3,
        units=tuple(UnitStatus(f"e{i:05d}", f"Enhet {i} – =text", f"e{i}@exempel.se",
                               "levererad" if i % 7 else "saknas") for i in range(units)),
        status_counts={"grön": 5, "gul": 4, "röd": 3, "grå": 1},
        moves=(Move("x", "Indikator x", "1 400 → 1 931", 0.5),), masked=False, source="/delad/mapp",
    )


def _write(path: Path, summary: MasterSummary) -> None:
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sammanställning").write_string(0, 0, "x")
    write_meta_sheet(wb, summary)
    wb.close()


def test_long_unit_list_is_split_over_rows_and_read_back(tmp_path: Path) -> None:
    summary = _summary(5000)  # far more than one Excel cell (32 767 characters) holds
    path = tmp_path / "m.xlsx"
    _write(path, summary)
    assert read_master_summary(path) == summary


def test_small_board_round_trips(tmp_path: Path) -> None:
    summary = _summary(6)
    path = tmp_path / "m.xlsx"
    _write(path, summary)
    assert read_master_summary(path) == summary
