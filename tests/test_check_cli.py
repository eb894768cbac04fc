"""`consolidate check PATH…`: terminal table, --json equal to the library's report, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.findings import FEL, VARNING
from consolidate.model import FileResult, Report
from consolidate.periods import Period
from consolidate.run import check_files, collect_paths
from test_validate import base_values

T2 = Period(2025, 2)
LOCK = b"\x04Anna" + b" " * 50 + "Anna".encode("utf-16-le") + b"\x20\x00" * 50


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")


@pytest.fixture
def folder(tmp_path: Path, filled: Callable[..., Path], catalog: Catalog) -> Path:
    """A shared folder: a valid file, one with an error and a warning, a broken file and a lock
    file."""
    root = tmp_path / "inlamning"
    filled("vuxen", "2025-T2", base_values(catalog, "vuxen", T2), folder=root)
    filled("forebyggande", "2025-T2", {**base_values(catalog, "forebyggande", T2),
                                       "tab_arenden_per_kalla_bun_andel": 0.63,
                                       "ind_forebyggande_insatser_varde": 25000}, folder=root)
    (root / "trasig.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (root / "~$2025-T2_vuxen.xlsx").write_bytes(LOCK)
    return root


def library_report(paths: list[Path], catalog: Catalog) -> dict[str, Any]:
    """The report as the library gives it for the same paths."""
    files, root = collect_paths(paths)
    checked = check_files(files, catalog, root)
    results = tuple(
        FileResult(s.file, s.unit, s.period,
                   "godkänd" if not [f for f in checked.of(s) if f.severity == FEL]
                   else "underkänd",
                   sum(1 for f in checked.of(s) if f.severity == FEL),
                   sum(1 for f in checked.of(s) if f.severity == VARNING), s.sha256,
                   s.modified_text)
        for s in checked.submissions)
    return Report(results, tuple(checked.all_findings())).to_dict()


def test_terminal_table(folder: Path, invoke: Callable[..., Result],
                        unchanged: Callable[[Path], None]) -> None:
    unchanged(folder)
    result = invoke("check", folder)
    assert result.exit_code == 1
    out = plain(result.stdout)
    lines = out.splitlines()
    assert any(line.startswith("OK") and "2025-T2_vuxen.xlsx" in line and "0 fel" in line
               for line in lines)
    bad = [line for line in lines if "2025-T2_forebyggande.xlsx" in line]
    assert bad[0].startswith("UNDERKÄND") and "1 fel, 1 varning" in bad[0]
    share = [line for line in lines if "Ärenden per källa!C7" in line]
    assert (len(share) == 1 and "FEL" in share[0] and "63 %" in share[0]
            and "1 244 av 2 034" in share[0])
    warn = [line for line in lines if "Indikatorer!D6" in line]
    assert len(warn) == 1 and "VARNING" in warn[0] and "25 000" in warn[0]
    broken = next(i for i, line in enumerate(lines) if "trasig.xlsx" in line)
    assert lines[broken].startswith("UNDERKÄND") and "skadad" in lines[broken + 1]
    assert "~$" not in result.output
    assert "Totalt: 3 filer, 2 fel, 1 varning." in out


def test_json_equals_library_report(folder: Path, invoke: Callable[..., Result], catalog: Catalog,
                                    unchanged: Callable[[Path], None]) -> None:
    unchanged(folder)
    result = invoke("check", "--json", folder)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == library_report([folder], catalog)
    assert data["giltig"] is False and data["fel"] == 2 and data["varningar"] == 1
    assert sorted(f["fil"] for f in data["filer"]) == [
        "2025-T2_forebyggande.xlsx", "2025-T2_vuxen.xlsx", "trasig.xlsx"]
    share = [f for f in data["fynd"] if f["cell"] == "C7"]
    assert share[0]["flik"] == "Ärenden per källa" and share[0]["kod"] == "andel_antal"
    assert (share[0]["allvarlighet"] == "fel"
            and share[0]["regel"] == "Andelen stämmer inte med antalet")
    assert share[0]["enhet"] == "forebyggande" and share[0]["period"] == "2025-T2"


def test_exit_0_when_only_warnings(tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
                                   invoke: Callable[..., Result],
                                   unchanged: Callable[[Path], None]) -> None:
    path = filled("forebyggande", "2025-T2", {**base_values(catalog, "forebyggande", T2),
                                              "ind_forebyggande_insatser_varde": 25000})
    unchanged(path)
    result = invoke("check", path)
    assert result.exit_code == 0, result.output
    assert "0 fel, 1 varning" in result.stdout
    data = json.loads(invoke("check", path, "--json").stdout)
    assert data["giltig"] is True and data["varningar"] == 1


def test_files_and_folders_together(folder: Path, tmp_path: Path, filled: Callable[..., Path],
                                    catalog: Catalog, invoke: Callable[..., Result],
                                    unchanged: Callable[[Path], None]) -> None:
    single = filled("myren", "2025-T2", base_values(catalog, "myren", T2), folder=tmp_path / "en")
    unchanged(single)
    unchanged(folder)
    result = invoke("check", "--json", single, folder)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == library_report([single, folder], catalog)
    assert len(data["filer"]) == 4


def test_lock_file_given_alone_is_skipped(folder: Path, invoke: Callable[..., Result],
                                          unchanged: Callable[[Path], None]) -> None:
    unchanged(folder)
    result = invoke("check", "--json", folder / "~$2025-T2_vuxen.xlsx")
    assert result.exit_code == 2  # a lock file is skipped, so there is nothing to check
    assert "Inga arbetsböcker att kontrollera" in result.output


def test_exit_2_on_usage_errors(tmp_path: Path, invoke: Callable[..., Result]) -> None:
    missing = invoke("check", tmp_path / "finns_inte")
    assert missing.exit_code == 2
    assert "Hittar inte" in missing.output and "finns_inte" in missing.output
    assert invoke("check").exit_code == 2
    assert invoke("check", "--okand-flagga", tmp_path).exit_code == 2


def test_bad_files_never_crash(tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
                               invoke: Callable[..., Result],
                               unchanged: Callable[[Path], None]) -> None:
    root = tmp_path / "blandat"
    good = filled("vuxen", "2025-T2", base_values(catalog, "vuxen", T2), folder=root)
    data = good.read_bytes()
    (root / "halv.xlsx").write_bytes(data[: len(data) // 3])
    (root / "tom.xlsx").write_bytes(b"")
    (root / "gammal.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    (root / "data.xlsx").write_text("a;b\n1;2\n", encoding="utf-8")
    (root / "binar.xlsx").write_bytes(bytes(range(256)) * 4)
    unchanged(root)
    result = invoke("check", "--json", root, "--feedback", tmp_path / "aterkoppling")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    states = {f["fil"]: (f["status"], f["fel"]) for f in data["filer"]}
    assert states.pop("2025-T2_vuxen.xlsx") == ("godkänd", 0)
    assert set(states.values()) == {("underkänd", 1)} and len(states) == 5
    # Only the readable workbook gets a feedback copy.
    assert [p.name for p in (tmp_path / "aterkoppling").iterdir()] == [
        "2025-T2_vuxen_återkoppling.xlsx"]


def test_every_command_has_help(invoke: Callable[..., Result]) -> None:
    result = invoke("check", "--help")
    assert result.exit_code == 0
    assert ("--json" in result.output and "--feedback" in result.output
            and "Slutkod" in result.output)


def test_report_json_round_trip(folder: Path, catalog: Catalog) -> None:
    """Report.to_json is what --json prints: plain JSON with Swedish keys and text kept as UTF-8."""
    report = library_report([folder], catalog)
    text = json.dumps(report, ensure_ascii=False)
    assert "Ärenden per källa" in text
    files, root = collect_paths([folder])
    checked = check_files(files, catalog, root)
    built = Report((), tuple(checked.all_findings()))
    # Every field of every finding, under its Swedish key.
    swedish = {"code": "kod", "severity": "allvarlighet", "title": "regel", "file": "fil",
               "unit": "enhet", "period": "period", "sheet": "flik", "cell": "cell", "scope": "id",
               "value": "varde", "expected": "forvantat", "message": "meddelande"}
    assert json.loads(built.to_json())["fynd"] == [
        {swedish[k]: str(v) for k, v in asdict(f).items()} for f in checked.all_findings()]
