"""The slip injection of bench/slips.py, bounded: the demo's correct files raise nothing in any
tertial, and slips typed into one 2026-T1 workbook end as the rules say (the whole measurement:
`python bench/slips.py`, bench/results/slips.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from consolidate.catalog import Catalog

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import slips as S  # noqa: E402

BARN = "2026-T1/2026-T1_barn_unga.xlsx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    return S.demo_copy(catalog, tmp_path_factory.mktemp("slips"))


def test_the_demos_correct_files_raise_nothing(demo: Path, catalog: Catalog) -> None:
    periods = sorted(p.name for p in demo.iterdir() if p.is_dir() and p.name.startswith("20"))
    assert periods == ["2023-T3", "2025-T1", "2025-T2", "2025-T3", "2026-T1"]
    assert S.baseline(demo, catalog, periods) == []


@pytest.mark.parametrize(("name", "expected"), [
    # 109,4 mnkr; 109,7 the tertial before.
    ("ind_kostnad_externa_placeringar_varde", {
        "tkr för mnkr (×1 000)": "markerad",
        "decimal ett steg höger / extra nolla (×10)": "markerad",     # 1 094,0
        "decimal ett steg vänster / sista siffran tappad (÷10)": "markerad",  # 10,94
        "en siffra dubbel": "markerad",                              # 1 109,4
        "en siffra tappad": "varning",                               # 19,4: a fifth, a jump
        "två siffror bytta": "missad",                               # 104,9
        "fel sista siffra": "missad",                                # 109,5
    }),
    # 84,9 årsarbetare; 86,4 the tertial before.
    ("ind_medarbetare_utredning_varde", {
        "decimal ett steg höger / extra nolla (×10)": "markerad",     # 849
        "decimal ett steg vänster / sista siffran tappad (÷10)": "markerad",  # 8,49
        "två siffror bytta": "missad",                               # 89,4
    }),
    # Myren's nights, reported by Barn och unga since the merge: compared with Myren's 2025-T3,
    # but the section's comment on the indicator (about the merge) lets them pass.
    ("ind_belaggning_myren_taljare", {
        "decimal ett steg vänster / sista siffran tappad (÷10)": "förklarad",
        "decimal ett steg höger / extra nolla (×10)": "fel",         # more nights than there are
    }),
    # The SUMMA of a unit table: the parts no longer add up.
    ("tab_personalomsattning_total_antal", {"en siffra dubbel": "fel"}),
])
def test_slips_in_one_workbook(demo: Path, catalog: Catalog, name: str,
                               expected: dict[str, str]) -> None:
    [target] = [t for t in S.targets(demo, catalog, {"2026-T1"})
                if t.label == BARN and t.name == name]
    found = {kind: S.outcome(demo, catalog, target, typed)
             for kind, typed in S.slips_of(target.value, target.kind) if kind in expected}
    assert found == expected
