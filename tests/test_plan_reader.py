"""Reading a return whose template was made before the catalog changed: what the file lacks or has
too much is said once, in words of the plan; what does not matter for the file is not said at all.

These need the reader to call plan.template_changes (see the report of issue #15); until then they
are expected to fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from consolidate.catalog_parse import load_catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period
from consolidate.template import write_template

from conftest import ADDED_NAME, fill, with_added_indicator

ROOT = Path(__file__).resolve().parent.parent
REAL_TEXT = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")


def catalogs(tmp_path: Path) -> tuple[Path, Path]:
    """The catalog before and after the controller added an indicator for barn_unga from 2026-T1."""
    before, after = tmp_path / "katalog_före.toml", tmp_path / "katalog_efter.toml"
    before.write_text(REAL_TEXT, encoding="utf-8")
    after.write_text(with_added_indicator(REAL_TEXT, ["barn_unga"]), encoding="utf-8")
    return before, after


def returned(catalog_path: Path, unit: str, period: Period, folder: Path) -> Path:
    """A return filled in a template made from `catalog_path`, with the figures that template
    asks."""
    catalog = load_catalog(catalog_path)
    template = write_template(catalog, unit, period,
                              folder / "mallar" / f"{period}_{unit}_mall.xlsx")
    return fill(template, unit_values(catalog, load_seeds(), unit, period),
                folder / str(period) / f"{period}_{unit}.xlsx")


def check(invoke: Callable[..., Result], path: Path, catalog: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("check", path, "--json", "--katalog", catalog)
    return result.exit_code, json.loads(result.stdout)


def the_finding(report: dict[str, Any]) -> tuple[str, str, str, str]:
    """The report's one finding: code, severity, scope and message."""
    (only,) = report["fynd"]
    return only["kod"], only["allvarlighet"], only["id"], only["meddelande"]


def test_an_old_template_lacking_a_new_indicator_gets_one_clear_finding(
        tmp_path: Path, invoke: Callable[..., Result]) -> None:
    before, after = catalogs(tmp_path)
    (tmp_path / "mallar").mkdir()
    path = returned(before, "barn_unga", Period(2026, 1), tmp_path)
    code, report = check(invoke, path, after)
    assert code == 1
    *rule, message = the_finding(report)
    assert rule == ["ny_indikator", "fel", "nya_familjer"]
    assert message.startswith(f"Indikatorn \"{ADDED_NAME}\" tillkom 2026-T1 och saknas i mallen; "
                              "hämta den nya mallen")
    assert "#REFERENS!" not in message


def test_a_change_for_a_later_period_is_not_mentioned(tmp_path: Path,
                                                      invoke: Callable[..., Result]) -> None:
    """A 2025 return from a template made before the 2026 indicator was added: nothing differs that
    matters for it, so no finding at all (no blanket 'tidigare version av katalogen')."""
    before, after = catalogs(tmp_path)
    (tmp_path / "mallar").mkdir()
    path = returned(before, "barn_unga", Period(2025, 2), tmp_path)
    code, report = check(invoke, path, after)
    assert (code, report["fynd"]) == (0, [])


def test_an_indicator_retired_after_the_template_was_made_is_named_once(
        tmp_path: Path, invoke: Callable[..., Result]) -> None:
    """The next plan ends the new indicator after 2026-T1; a 2026-T2 return from a template made
    before that still has it: a warning says it is not read, and the file is accepted."""
    _, after = catalogs(tmp_path)
    ended = tmp_path / "katalog_avslutad.toml"
    ended.write_text(after.read_text(encoding="utf-8").replace(
        'id = "nya_familjer"\nfran = "2026-T1"',
        'id = "nya_familjer"\nfran = "2026-T1"\ntill = "2026-T1"'),
        encoding="utf-8")
    (tmp_path / "mallar").mkdir()
    path = returned(after, "barn_unga", Period(2026, 2), tmp_path)
    code, report = check(invoke, path, ended)
    assert code == 0
    *rule, message = the_finding(report)
    assert rule == ["utgatt", "varning", "nya_familjer"]
    assert message.startswith(f"Indikatorn \"{ADDED_NAME}\" avslutades 2026-T1 och efterfrågas "
                              "inte för 2026-T2")


def test_old_returns_are_read_whole_after_a_later_change(tmp_path: Path,
                                                         invoke: Callable[..., Result]) -> None:
    """A 2025 return is never rejected for a 2026 change, and gets no warning about it."""
    before, after = catalogs(tmp_path)
    (tmp_path / "mallar").mkdir()
    path = returned(before, "barn_unga", Period(2025, 2), tmp_path)
    code, report = check(invoke, path, after)
    assert code == 0 and report["fel"] == 0
    assert report["fynd"] == []  # nothing differs that matters for a 2025 file: no warning
