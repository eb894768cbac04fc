"""templates_xlsx/ and seeds/exempel/ hold exactly what `python -m consolidate.generate` writes
today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

from consolidate.catalog import Catalog
from consolidate.periods import parse_period

from conftest import in_plan

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "templates_xlsx"
HOW = "templates_xlsx/ is stale: run `python -m consolidate.generate` and commit the result"


EXAMPLES = ROOT / "seeds" / "exempel"
HOW_EXAMPLES = "seeds/exempel/ is stale: run `python -m consolidate.generate` and commit the result"


def _generate(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    examples = out.parent / f"{out.name}_exempel"
    return subprocess.run([sys.executable, "-m", "consolidate.generate", "--out", str(out),
                           "--exempel", str(examples), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=180, check=False)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_committed_example_workbooks_are_up_to_date(tmp_path: Path) -> None:
    result = _generate(tmp_path / "mallar")
    assert result.returncode == 0, result.stderr
    fresh, committed = _tree(tmp_path / "mallar_exempel"), _tree(EXAMPLES)
    assert sorted(committed) == sorted(fresh), HOW_EXAMPLES
    for name, data in fresh.items():
        assert committed[name] == data, f"{name}: {HOW_EXAMPLES}"


def test_example_workbooks_are_filled_from_the_seed_figures() -> None:
    """The 2023 outcome of 004 (1 931 in preventive support) is spread over the units that report
    it."""
    total = 0.0
    for path in sorted((EXAMPLES / "2023-T3").glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        name = "ind_forebyggande_insatser_varde"
        if name in wb.defined_names:
            for sheet, ref in wb.defined_names[name].destinations:
                total += float(wb[sheet][ref.replace("$", "")].value)
    assert total == 1931


def test_committed_templates_are_up_to_date(tmp_path: Path) -> None:
    result = _generate(tmp_path)
    assert result.returncode == 0, result.stderr
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in COMMITTED.glob("*.xlsx")}
    assert sorted(committed) == sorted(fresh), HOW
    for name, data in fresh.items():
        assert committed[name] == data, f"{name}: {HOW}"


def test_committed_templates_are_the_example_period(catalog: Catalog) -> None:
    """One template per unit in the example period's plan (a unit merged before it has none)."""
    period = catalog.settings.example_period
    names = sorted(p.name for p in COMMITTED.glob("*.xlsx"))
    units = [u.id for u in catalog.units if in_plan(u, parse_period(period))]
    assert "myren" not in units  # merged into barn_unga in the 2026 plan
    assert names == sorted(f"{period}_{u}.xlsx" for u in units)
    for name in names:
        wb = openpyxl.load_workbook(COMMITTED / name, read_only=True)
        meta = dict(wb["_meta"].values)
        wb.close()
        assert meta["period"] == period and meta["katalog"] == catalog.fingerprint


def test_generate_removes_templates_it_no_longer_writes(tmp_path: Path) -> None:
    stale = tmp_path / "2019-T1_nedlagd_enhet.xlsx"
    stale.write_bytes(b"old")
    keep = tmp_path / "LASMIG.txt"
    keep.write_text("not a template")
    result = _generate(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and keep.exists()
    assert "5 mallar skrivna" in result.stdout  # the units of the 2026-T1 plan


def test_generate_refuses_a_bad_catalog(tmp_path: Path) -> None:
    bad = tmp_path / "katalog.toml"
    bad.write_text((ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
                   .replace('riktning = "ökning"', 'riktning = "uppåt"', 1), encoding="utf-8")
    out = tmp_path / "ut"
    result = _generate(out, "--katalog", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith("Fel: Katalogen") and "riktning" in result.stderr
    assert not out.exists()
