"""Entry slips injected into the demo's valid workbooks: how many does consolidate catch?

The demo's shared folder (`consolidate demo`: five tertials, the seed figures) is built once. Then,
one at a time, one number in one valid workbook is retyped the way people slip (tkr typed for mnkr,
the decimal comma one step off, two digits swapped, a digit doubled, lost or mistyped, a share
typed without its % sign), the folder is run as `consolidate run --period P` does (P the file's
tertial, nothing written), and the file put back. Each slip ends as one of:

  fel        the file is rejected: the unit must correct it before it counts
  markerad   the file is accepted, but the value is marked in the master and its indicator is
             grå "kontrollera värdet" (consolidate.doubt)
  förklarad  as markerad, but the unit's comment on the indicator (the demo has a few) lets it
             pass unmarked
  varning    accepted and unmarked; a warning in the validation log names the file
  missad     nothing at all

Correct files must raise nothing: the unchanged folder is run for every tertial first, and any
warning or mark there is reported (and fails the test that uses this module).

    python bench/slips.py [--periods 2026-T1,...] [--out bench/results/slips.md]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.demo import build_demo_folder
from consolidate.model import Severity
from consolidate.periods import parse_period
from consolidate.plausible import compared_in
from consolidate.read import read_submission
from consolidate.run import run

OUTCOMES = ("fel", "markerad", "förklarad", "varning", "missad")
NUMBER_FIELDS = ("varde", "taljare", "namnare")


@dataclass(frozen=True)
class Target:
    """One typed number of one valid file."""

    path: Path       # the file in the working copy
    label: str       # its name relative to the folder, as the run reports it
    period: str
    unit: str
    sheet: str
    cell: str
    name: str        # the defined name
    scope: str       # indicator or table id
    field: str
    kind: str        # the cell's number kind (antal, mnkr, arsarbetare, andel …)
    value: float

    compared: bool = False  # an indicator the unit also reported in the period it is compared with

    @property
    def area(self) -> str:
        if not self.name.startswith("ind_"):
            return "tabell"
        return "indikator, " + ("med" if self.compared else "utan") + " jämförelsevärde"


@dataclass(frozen=True)
class Slip:
    target: Target
    kind: str
    typed: float
    outcome: str = ""


def _digits(value: float, kind: str) -> str:
    """The number as typed: one decimal for amounts and years of work, whole numbers else."""
    return f"{value:.1f}" if kind in ("mnkr", "arsarbetare") else str(round(value))


def _number(text: str) -> float:
    return float(text) if text not in ("", ".") else 0.0


def slips_of(value: float, kind: str) -> Iterator[tuple[str, float]]:
    """The slips one number can get, each with what is then typed (changed values only)."""
    if kind == "andel":  # a share typed as a percentage in a cell formatted as %
        yield "utan procenttecken", round(value * 100, 6)
        text = str(round(value * 100))
        if len(text) >= 2 and text[-1] != text[-2]:
            yield "två siffror bytta", int(text[:-2] + text[-1] + text[-2]) / 100
        return
    text = _digits(value, kind)
    whole, _, decimals = text.partition(".")
    digits = whole + decimals
    point = len(whole)  # where the decimal comma stands among the digits

    def typed(new: str, at: int = point) -> float:
        return _number(new[:at] + ("." + new[at:] if at < len(new) else ""))

    found: dict[str, float] = {}
    if kind == "mnkr":
        found["tkr för mnkr (×1 000)"] = value * 1000
    found["decimal ett steg höger / extra nolla (×10)"] = (
        typed(digits, point + 1) if decimals else value * 10)
    if decimals or len(whole) >= 2:
        found["decimal ett steg vänster / sista siffran tappad (÷10)"] = (
            typed(digits, point - 1) if decimals else _number(whole[:-1]))
    pairs = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
    if pairs:
        i = pairs[-1]
        found["två siffror bytta"] = typed(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    found["en siffra dubbel"] = typed(digits[0] + digits, point + 1)
    if len(digits) >= 3:
        found["en siffra tappad"] = typed(digits[0] + digits[2:], point - 1)
    last = str((int(digits[-1]) + 1) % 10)
    found["fel sista siffra"] = typed(digits[:-1] + last)
    for name, new in found.items():
        if abs(new - value) > 1e-9:
            yield name, round(new, 6)


def targets(folder: Path, catalog: Catalog, periods: set[str] | None = None) -> list[Target]:
    """Every typed number of every valid (fel-free) file in the folder."""
    result = run(folder, catalog, write=False)
    valid = [s for s in result.checked.submissions if s.readable and s.unit
             and result.checked.errors(s) == 0 and (periods is None or s.period in periods)]
    annual = {i.id for i in catalog.indicators if i.frequency == "årsbasis"}
    reported = set()  # (unit, indicator, the period whose values are compared with these)
    for unit, scope, period in (result.values.filter(pl.col("value").is_not_null())
                                .select("unit", "scope", "period").unique().iter_rows()):
        later = compared_in(parse_period(period), scope in annual)
        reported.add((catalog.reporter(unit, later) or unit, scope, str(later)))
    found = []
    for sub in sorted(valid, key=lambda s: s.file):
        for cell in read_submission(Path(sub.path), catalog, folder).cells:
            if cell.value is None or cell.kind == "text":
                continue
            found.append(Target(Path(sub.path), sub.file, sub.period, sub.unit, cell.sheet,
                                cell.cell, cell.name, cell.scope, cell.field, cell.kind,
                                cell.value, (sub.unit, cell.scope, sub.period) in reported))
    return found


def baseline(folder: Path, catalog: Catalog, periods: list[str]) -> list[str]:
    """What the unchanged folder raises for valid files, per tertial: must be nothing."""
    raised = []
    for period in periods:
        result = run(folder, catalog, period=period, write=False)
        bad = {s.file for s in result.checked.submissions if result.checked.errors(s)}
        raised += [f"{period}: {f.code} {f.file} {f.address}" for f in result.report.findings
                   if f.file not in bad]
        raised += [f"{period}: kontrollera {d.file} {d.sheet}!{d.cell}" for d in result.doubts]
    return sorted(set(raised))


def outcome(folder: Path, catalog: Catalog, target: Target, typed: float) -> str:
    """Type one slip into its file (openpyxl, as a person would), run, put the file back."""
    original = target.path.read_bytes()
    try:
        wb = openpyxl.load_workbook(target.path)
        wb[target.sheet][target.cell].value = typed
        wb.save(target.path)
        result = run(folder, catalog, period=target.period, write=False)
    finally:
        target.path.write_bytes(original)
    sub = next(s for s in result.checked.submissions if s.file == target.label)
    if result.checked.errors(sub):
        return "fel"
    marks = [d for d in result.doubts if (d.period, d.unit, d.indicator)
             == (target.period, target.unit, target.scope)]
    if marks:
        return "förklarad" if all(d.explained for d in marks) else "markerad"
    if any(f.severity == Severity.WARNING for f in result.checked.of(sub)):
        return "varning"
    return "missad"


def measure(folder: Path, catalog: Catalog, chosen: list[Target]) -> list[Slip]:
    return [Slip(t, kind, typed, outcome(folder, catalog, t, typed))
            for t in chosen for kind, typed in slips_of(t.value, t.kind)]


def demo_copy(catalog: Catalog, where: Path) -> Path:
    folder = where / "delad"
    build_demo_folder(catalog, folder)
    return folder


def table(slips: list[Slip], key: str) -> list[str]:
    """A markdown table: per slip kind (or area), how many ended how."""
    groups: dict[str, Counter[str]] = {}
    for s in slips:
        name = s.kind if key == "kind" else f"{s.target.area}: {s.target.kind}"
        groups.setdefault(name, Counter())[s.outcome] += 1
    total: Counter[str] = Counter(s.outcome for s in slips)
    lines = ["| " + ("slip" if key == "kind" else "cell") + " | " + " | ".join(OUTCOMES)
             + " | all |", "|---" + "|---:" * (len(OUTCOMES) + 1) + "|"]
    for name, counts in sorted(groups.items()):
        lines.append(f"| {name} | " + " | ".join(str(counts[o]) for o in OUTCOMES)
                     + f" | {sum(counts.values())} |")
    lines.append("| **all** | " + " | ".join(f"**{total[o]}**" for o in OUTCOMES)
                 + f" | **{len(slips)}** |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--periods", help="only these tertials' files (comma-separated)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "slips.md")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = demo_copy(catalog, Path(tmp))
        periods = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name[:2] == "20")
        chosen_periods = set(args.periods.split(",")) if args.periods else None
        raised = baseline(folder, catalog, periods)
        slips = measure(folder, catalog, targets(folder, catalog, chosen_periods))
        shutil.rmtree(folder)
    seconds = time.perf_counter() - started
    indicators = [s for s in slips if s.target.area.startswith("indikator")]
    missed = [s for s in indicators if s.outcome == "missad"]
    lines = [
        "# Entry slips injected into the demo's valid files",
        "",
        f"`python bench/slips.py` ({len(slips)} slips, {seconds:.0f} s). Correct files raise: "
        + (", ".join(raised) if raised else "nothing (no warning, no mark, in any tertial)") + ".",
        "",
        *table(slips, "kind"),
        "",
        *table(slips, "area"),
        "",
        "Indicator values with a value to compare with (the unit's previous tertial), by slip:",
        "",
        *table([s for s in indicators if s.target.compared], "kind"),
        "",
        "Indicator slips missed (value typed instead, in the file):",
        "",
        *[f"- {s.target.label} {s.target.sheet}!{s.target.cell} ({s.target.name}): "
          f"{s.target.value:g} typed as {s.typed:g} ({s.kind})"
          + ("" if s.target.compared else "; nothing to compare with") for s in missed],
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:-len(missed) - 2]))
    print(f"Written to {args.out}")
    return 1 if raised else 0


if __name__ == "__main__":
    sys.exit(main())
