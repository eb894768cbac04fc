"""`check --json` and `run --json`: one language for keys, and the output valid against the
schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder

SCHEMA = json.loads(files("consolidate.schemas").joinpath("rapport.schema.json")
                    .read_text(encoding="utf-8"))
ENGLISH_KEYS = {"file", "unit", "state", "severity", "code", "message", "errors", "warnings",
                "sheet", "value", "expected", "note", "modified", "unit_name", "scope", "title"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    folder = tmp_path_factory.mktemp("json") / "exempel"
    build_demo_folder(catalog, folder)
    period = sorted(p.name for p in folder.iterdir()
                    if p.is_dir() and not p.name.startswith("."))[-1]
    # a file that is no unit's
    (folder / period / "lista.csv").write_text("enhet;antal\n", encoding="utf-8")
    return folder


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_the_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("command", ["check", "run"])
def test_json_output_is_valid_against_the_schema(demo: Path, tmp_path: Path, command: str,
                                                 invoke: Callable[..., Result]) -> None:
    args = [command, demo, "--json"] + (["--out", tmp_path / "m.xlsx"] if command == "run" else [])
    result = invoke(*args)
    assert result.exit_code == 1  # the demo has a missing unit and a rejected file
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert not keys(report) & ENGLISH_KEYS
    assert report["fynd"] and report["filer"]
    if command == "run":
        states = {e["status"] for e in report["inlamning"]}
        assert {"levererad", "saknas", "underkänd", "ej knuten"} <= states
        assert report["huvudarbetsbok"].endswith("m.xlsx")


def test_a_report_that_breaks_the_schema_is_caught(demo: Path,
                                                   invoke: Callable[..., Result]) -> None:
    report = json.loads(invoke("check", demo, "--json").stdout)
    report["fynd"][0]["file"] = report["fynd"][0].pop("fil")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, SCHEMA)
