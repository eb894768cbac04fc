"""templates_xlsx/ holds exactly what `python -m consolidate.generate` writes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

from consolidate.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "templates_xlsx"
HOW = "templates_xlsx/ is stale: run `python -m consolidate.generate` and commit the result"


def _generate(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consolidate.generate", "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_committed_templates_are_up_to_date(tmp_path: Path) -> None:
    result = _generate(tmp_path)
    assert result.returncode == 0, result.stderr
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in COMMITTED.glob("*.xlsx")}
    assert sorted(committed) == sorted(fresh), HOW
    for name, data in fresh.items():
        assert committed[name] == data, f"{name}: {HOW}"


def test_committed_templates_are_the_example_period(catalog: Catalog) -> None:
    period = catalog.settings.example_period
    names = sorted(p.name for p in COMMITTED.glob("*.xlsx"))
    assert names == sorted(f"{period}_{u}.xlsx" for u in catalog.unit_ids())
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
    assert "6 mallar skrivna" in result.stdout


def test_generate_refuses_a_bad_catalog(tmp_path: Path) -> None:
    bad = tmp_path / "katalog.toml"
    bad.write_text((ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
                   .replace('riktning = "ökning"', 'riktning = "uppåt"', 1), encoding="utf-8")
    out = tmp_path / "ut"
    result = _generate(out, "--katalog", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith("Fel: Katalogen") and "riktning" in result.stderr
    assert not out.exists()
