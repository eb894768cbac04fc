"""The submission deadline per tertial: from the catalog's [inlamning], shown in the template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from consolidate.catalog_parse import load_catalog
from consolidate.errors import CatalogError
from consolidate.layout import INSTRUCTION_SHEET
from consolidate.periods import Period
from consolidate.template import write_template

ROOT = Path(__file__).resolve().parent.parent
REAL_TEXT = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
BUNDLED = '[inlamning]\nT1 = "05-10"\nT2 = "09-10"\nT3 = "01-15"\n'


def _variant(tmp_path: Path, section: str) -> Path:
    assert BUNDLED in REAL_TEXT
    path = tmp_path / "katalog.toml"
    path.write_text(REAL_TEXT.replace(BUNDLED, section), encoding="utf-8")
    return path


def _line_of(text: str, marker: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == marker)


@pytest.mark.parametrize(("period", "due"), [
    ("2026-T1", dt.date(2026, 5, 10)),
    ("2025-T2", dt.date(2025, 9, 10)),
    ("2025-T3", dt.date(2026, 1, 15)),  # T3 ends in December: the day falls in the next year
])
def test_tertial_month_day_is_the_first_such_day_after_the_tertial(period: str,
                                                                    due: dt.date) -> None:
    catalog = load_catalog(ROOT / "schemas" / "katalog.toml")
    year, tertial = period.split("-T")
    assert catalog.settings.deadlines.due(Period(int(year), int(tertial))) == due


def test_a_period_of_its_own_wins_and_no_table_means_no_deadline(tmp_path: Path) -> None:
    own = BUNDLED + '"2026-T1" = 2026-05-12\n"2025-T3" = "2026-01-20"\n'
    deadlines = load_catalog(_variant(tmp_path, own)).settings.deadlines
    assert deadlines.due(Period(2026, 1)) == dt.date(2026, 5, 12)
    assert deadlines.due(Period(2025, 3)) == dt.date(2026, 1, 20)
    assert deadlines.due(Period(2027, 1)) == dt.date(2027, 5, 10)
    (tmp_path / "ingen").mkdir()
    none = load_catalog(_variant(tmp_path / "ingen", "")).settings.deadlines
    assert not none and none.due(Period(2026, 1)) is None


@pytest.mark.parametrize(("line", "key", "problem"), [
    ('T1 = "10 maj"', "T1", "månad och dag"),
    ('T2 = "02-30"', "T2", "ingen dag i året"),
    ('T4 = "01-15"', "T4", "okänd nyckel"),
    ('"2026-T1" = 2026-04-12', "2026-T1", "inte efter periodens slut"),
    ('"2026-T2" = "12 sept"', "2026-T2", "ska vara ett datum"),
])
def test_a_bad_deadline_names_the_key_and_its_line(tmp_path: Path, line: str, key: str,
                                                   problem: str) -> None:
    # a key the bundled table has is changed in place (TOML refuses a key given twice)
    kept = [old for old in BUNDLED.splitlines() if not old.startswith(key + " ")]
    section = "\n".join([*kept, line]) + "\n"
    path = _variant(tmp_path, section)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert "[inlamning]" in message and f"nyckeln '{key}'" in message and problem in message
    assert f"rad {_line_of(path.read_text(encoding='utf-8'), line)}" in message


def _instruction_text(path: Path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb[INSTRUCTION_SHEET].iter_rows(values_only=True)
        return "\n".join(str(cell) for row in rows for cell in row if cell)
    finally:
        wb.close()


def test_the_template_says_when_to_hand_in(tmp_path: Path) -> None:
    catalog = load_catalog(ROOT / "schemas" / "katalog.toml")
    path = tmp_path / "mall.xlsx"
    write_template(catalog, "vuxen", Period(2025, 3), path)
    assert "Lämna in senast 15 januari 2026." in _instruction_text(path)

    (tmp_path / "ingen").mkdir()
    without = load_catalog(_variant(tmp_path / "ingen", ""))
    path = tmp_path / "mall_utan.xlsx"
    write_template(without, "vuxen", Period(2025, 3), path)
    assert "senast" not in _instruction_text(path)
