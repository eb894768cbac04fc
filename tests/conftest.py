"""Shared fixtures: the real catalog, templates written by our own code, filled with openpyxl."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.cli import cli
from consolidate.periods import Period, parse_period
from consolidate.template import template_filename, write_template

# A bug in the reader raises in every test (and in every process a test starts) instead of becoming
# the finding "internt_fel": no test passes over one. test_read_bugs.py turns it off to see the
# finding.
os.environ["CONSOLIDATE_RAISE_BUGS"] = "1"

ROOT = Path(__file__).resolve().parent.parent
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "schemas" / "katalog.toml")


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory: pytest.TempPathFactory,
                   catalog: Catalog) -> Callable[[str, str], Path]:
    folder = tmp_path_factory.mktemp("mallar")

    def get(unit: str, period: str) -> Path:
        p = parse_period(period)
        path = folder / template_filename(catalog, unit, p)
        if not path.exists():
            write_template(catalog, unit, p, path)
        return path

    return get


def fill(template: Path, values: dict[str, Any], out: Path) -> Path:
    """Type values into named cells with openpyxl, as a person would (independent of the
    product)."""
    wb = openpyxl.load_workbook(template)
    for name, value in values.items():
        for sheet, ref in wb.defined_names[name].destinations:
            wb[sheet][ref.replace("$", "")].value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


@pytest.fixture
def filled(template_cache: Callable[[str, str], Path], tmp_path: Path) -> Callable[..., Path]:
    """filled(unit, period, values, name=None, folder=None) -> path of a filled workbook."""

    def make(unit: str, period: str, values: dict[str, Any], name: str | None = None,
             folder: Path | None = None) -> Path:
        target = (folder or tmp_path) / (name or f"{period}_{unit}.xlsx")
        return fill(template_cache(unit, period), values, target)

    return make


ADDED_NAME = "Antal nya familjer som tar del av föräldraskapsstöd"


def with_added_indicator(text: str, units: list[str], before: str = "\n[[tabell]]") -> str:
    """A catalog text with the indicator a controller adds for the 2026 plan (id nya_familjer, from
    2026-T1, reported by `units`), written in just before the first `before`."""
    block = f'''
[[indikator]]
id = "nya_familjer"
fran = "2026-T1"
avsnitt = "Omställning av socialtjänsten"
malomrade = "Fler tar del av förebyggande insatser"
namn = "{ADDED_NAME}"
typ = "antal"
enheter = {json.dumps(units)}
sammanvagning = "summa"
nulage = 80
nulage_datum = 2025-12-31
borlage = 120
borlage_ar = 2026
uppfoljning = "tertial"
riktning = "ökning"
rimligt = [0, 5000]
'''
    assert before in text, before
    return text.replace(before, block + before, 1)


def in_plan(item: Any, period: Period) -> bool:
    """Whether a catalog entry (unit, indicator, table) is valid in a period, read from its
    fran/till here rather than asked of the code under test."""
    start, end = item.span.start, item.span.end
    return (start is None or start <= period) and (end is None or period <= end)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def invoke() -> Callable[..., Result]:
    runner = CliRunner()

    def call(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return call


@pytest.fixture
def unchanged() -> Iterator[Callable[[Path], None]]:
    """Register input files; the test fails if any of them changed (inputs are read-only)."""
    watched: dict[Path, str] = {}

    def watch(path: Path) -> None:
        for p in ([path] if path.is_file() else sorted(x for x in path.rglob("*") if x.is_file())):
            watched[p] = sha256(p)

    yield watch
    for path, digest in watched.items():
        assert path.exists() and sha256(path) == digest, f"input file changed: {path}"


PERIOD = Period(2025, 2)
