"""A bug in the reader is a finding of its own, "internt_fel", never a traceback that stops a run,
and never a finding that blames the file. In the test suite it raises instead (conftest sets
CONSOLIDATE_RAISE_BUGS), so that no test passes over one; here the switch is turned off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from consolidate.catalog import Catalog
from consolidate.periods import Period
from consolidate.read import RAISE_BUGS, read_submission
from test_validate import base_values

T2 = Period(2025, 2)


class NoCatalog:
    """Passed where a catalog belongs: the reader's first question to it fails, as a bug would."""


@pytest.fixture
def valid(filled: Callable[..., Path], catalog: Catalog) -> Path:
    return filled("vuxen", str(T2), base_values(catalog, "vuxen", T2))


def test_the_test_suite_runs_with_bugs_raising() -> None:
    import os

    assert os.environ.get(RAISE_BUGS) == "1"


def test_a_bug_in_the_reader_becomes_internt_fel(valid: Path, catalog: Catalog,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RAISE_BUGS)
    sub = read_submission(valid, NoCatalog(), valid.parent)  # type: ignore[arg-type]
    assert ([(f.code, f.severity, f.value) for f in sub.findings]
            == [("internt_fel", "fel", "AttributeError")])
    found = sub.findings[0]
    assert found.file == valid.name and not sub.readable and sub.cells == ()
    assert "AttributeError" in found.message and "inte i filen" in found.message
    # The same file reads cleanly with a real catalog: the finding was about the reader.
    assert read_submission(valid, catalog, valid.parent).findings == ()


def test_with_the_switch_on_the_bug_raises(valid: Path) -> None:
    with pytest.raises(AttributeError):
        read_submission(valid, NoCatalog(), valid.parent)  # type: ignore[arg-type]
