"""Result types shared by every stage: severities and states, findings, submissions, the register."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .catalog import Catalog, Indicator, Table, Unit
from .periods import Period

if TYPE_CHECKING:
    import polars as pl


class Severity(StrEnum):
    """How bad a finding is: `fel` rejects the submission, `varning` does not."""

    ERROR = "fel"
    WARNING = "varning"


class FileState(StrEnum):
    """What became of one file."""

    ACCEPTED = "godkänd"
    REJECTED = "underkänd"
    SKIPPED = "överhoppad"


class UnitState(StrEnum):
    """A row of the submission register: per expected unit, or per file that is no unit's."""

    DELIVERED = "levererad"
    MISSING = "saknas"
    REJECTED = "underkänd"
    DUPLICATE = "dubblett"
    SKIPPED = "överhoppad"
    STRAY = "ej knuten"  # a file that is no unit's submission (not a template, unreadable, a CSV …)


def flat_dict(item: Any) -> dict[str, Any]:
    """A dataclass of plain fields as a dict; dataclasses.asdict deep-copies, at 40 µs an item."""
    return {f.name: getattr(item, f.name) for f in fields(item)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, pointing at file, sheet and cell, with a Swedish message."""

    code: str
    severity: Severity
    file: str
    message: str
    title: str = ""
    unit: str = ""
    period: str = ""
    sheet: str = ""
    cell: str = ""
    scope: str = ""
    value: str = ""
    expected: str = ""

    @property
    def address(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet


def sort_key(f: Finding) -> tuple[str, str, int, int, str, str]:
    """Findings in reading order: file, sheet, then row and column of the cell."""
    digits = "".join(ch for ch in f.cell if ch.isdigit())
    letters = "".join(ch for ch in f.cell if ch.isalpha())
    return (f.file, f.sheet, int(digits or 0), len(letters), letters, f.code)


@dataclass(frozen=True, slots=True)
class FileResult:
    """What became of one file: read, skipped or refused."""

    file: str
    unit: str
    period: str
    state: FileState
    errors: int
    warnings: int
    sha256: str = ""
    modified: str = ""
    note: str = ""


@dataclass(frozen=True)
class Report:
    files: tuple[FileResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == Severity.WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "giltig": self.valid,
            "fel": self.errors,
            "varningar": self.warnings,
            "filer": [flat_dict(f) for f in self.files],
            "fynd": [{**{k: v for k, v in flat_dict(f).items() if k != "title"}, "regel": f.title}
                     for f in self.findings],
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)


class CellValue(NamedTuple):
    """One input cell of one file as read: where it is, what it means, and what it holds."""

    file: str
    unit: str
    period: str
    sheet: str
    cell: str
    name: str       # the defined name that found the cell, e.g. ind_forebyggande_insatser_varde
    scope: str      # indicator or table id
    item: str       # table row id ("" for indicators)
    field: str      # varde | taljare | namnare | kommentar | antal | andel | jan … dec
    kind: str       # number kind for parsing (numbers.KINDS)
    required: bool
    value: float | None
    text: str | None
    raw: str        # what the cell held, as text; a marker when it could not be read


CELL_COLUMNS: tuple[str, ...] = CellValue._fields


@dataclass(frozen=True)
class Submission:
    """One file as read: its identity, its values (one per input cell) and its findings."""

    path: str
    file: str
    size: int
    modified: float
    sha256: str
    unit: str = ""
    period: str = ""
    tool_output: str = ""  # set for the tool's own outputs, which are skipped
    unchanged_copy: bool = False  # a feedback copy with the values it was written with
    cells: tuple[CellValue, ...] = ()
    findings: tuple[Finding, ...] = ()
    readable: bool = False
    n_values: int = 0  # len(cells) when read; cells may be handed over as a frame instead
    digest: str = ""   # values_digest(cells): what was typed, for feedback copies
    template_catalog: str = ""  # the catalog fingerprint the template was made from

    @property
    def modified_text(self) -> str:
        return dt.datetime.fromtimestamp(self.modified).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One row of the submission register: per expected unit, or per extra file."""

    unit: str
    unit_name: str
    state: UnitState
    file: str = ""
    modified: str = ""
    sha256: str = ""
    errors: int = 0
    warnings: int = 0
    note: str = ""


@dataclass
class Checked:
    """Submissions with all their findings, read and validated together."""

    submissions: list[Submission]
    findings: dict[str, list[Finding]] = field(default_factory=dict)

    def of(self, sub: Submission) -> list[Finding]:
        return self.findings.get(sub.file, [])

    def errors(self, sub: Submission) -> int:
        return sum(1 for f in self.of(sub) if f.severity == Severity.ERROR)

    def warnings(self, sub: Submission) -> int:
        return sum(1 for f in self.of(sub) if f.severity == Severity.WARNING)

    def file_results(self) -> tuple[FileResult, ...]:
        return tuple(
            FileResult(s.file, s.unit, s.period, FileState.ACCEPTED if self.errors(s) == 0 else FileState.REJECTED,
                       self.errors(s), self.warnings(s), s.sha256, s.modified_text)
            for s in self.submissions
        )

    def report(self) -> Report:
        """The library's report of a check; `consolidate check --json` prints exactly this."""
        return Report(self.file_results(), tuple(self.all_findings()))

    def all_findings(self) -> list[Finding]:
        return sorted((f for sub in self.submissions for f in self.of(sub)), key=sort_key)


@dataclass
class RunResult:
    """What a run read and decided: the period, the register, every finding and the accepted values."""

    period: Period
    periods: list[Period]
    register: list[RegisterEntry]
    checked: Checked
    accepted: list[Submission]   # the used submission per unit and period, all periods
    values: pl.DataFrame         # long values of the accepted submissions
    report: Report
    board: Board | None = None
    master: Path | None = None
    found: list[Period] = field(default_factory=list)  # periods that files in the folder are for

    @property
    def complete(self) -> bool:
        """Every expected unit has a valid workbook for the period (older duplicates do not count)."""
        return not any(r.state in (UnitState.MISSING, UnitState.REJECTED) for r in self.register if r.unit)


class Status(StrEnum):
    """Target status of an indicator in a period."""

    GREEN = "grön"
    YELLOW = "gul"
    RED = "röd"
    GREY = "grå"


class Trend(StrEnum):
    """The change since the previous period with a value, judged by the wanted direction."""

    BETTER = "bättre"
    WORSE = "sämre"
    SAME = "oförändrad"
    NONE = "bedömning saknas"


class Mark(StrEnum):
    """Why a figure is not shown in a masked output."""

    SMALL = "primär"      # a count from 1 to the limit − 1: shown as "<5"
    COVER = "sekundär"    # hidden so that no small count can be worked out: shown as ".."


# A figure's address in the board: ("cell", period, unit, defined name) for what a unit typed,
# and ("board", …), ("table", …) etc. for what the board computes. One address, one figure: the
# same unit value on Per enhet, in Sammanställning's sum and on the Data sheet is one thing.
Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """One published number, and the mark that hides it in a masked output."""

    key: Key
    value: float | None
    count: bool = False          # a count of people or cases: small ones are masked
    mark: Mark | None = None

    @property
    def shown(self) -> float | None:
        """The value an output may show: None when there is none or it is masked."""
        return None if self.mark is not None else self.value


@dataclass(frozen=True, slots=True)
class UnitPart:
    """One reporting unit's part of a board figure: its value, and for shares its numerator
    and denominator."""

    unit: str
    value: Figure
    num: Figure | None = None
    den: Figure | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the board's history: an outcome year from the catalog, or a period."""

    key: str
    header: str
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class BoardCell:
    """One indicator in one column: the board's value, the units' parts, and who is lacking."""

    column: Column
    value: Figure
    parts: tuple[UnitPart, ...] = ()
    lacking: tuple[str, ...] = ()    # reporting units without an accepted value, in catalog order
    rejected: tuple[str, ...] = ()   # those of them whose file was rejected
    asked: bool = True               # the indicator is asked this period
    in_plan: bool = True             # the indicator existed then (False: "ej aktuell")
    target: float | None = None      # the börläge that applies in the column's year
    reporting: tuple[str, ...] = ()  # the units that report it in the column's period

    @property
    def missing(self) -> tuple[str, ...]:
        """Reporting units with no file for the period (or none with the value)."""
        return tuple(u for u in self.lacking if u not in self.rejected)

    @property
    def incomplete(self) -> bool:
        """A unit that reports the indicator has no accepted value this period."""
        return self.asked and bool(self.lacking)

    @property
    def partial(self) -> bool:
        """Ofullständigt underlag: a board value exists but some reporting unit is not in it."""
        return self.incomplete and bool(self.parts)

    @property
    def complete_value(self) -> Figure | None:
        """The board's figure when every reporting unit is in it; a partial sum is not one."""
        return None if self.incomplete else self.value


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Status
    reason: str
    trend: Trend
    arrow: str
    previous: Figure | None = None
    previous_column: Column | None = None


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    indicator: Indicator             # as it stands in the board's period (name, nuläge, börläge)
    cells: tuple[BoardCell, ...]     # one per board column
    judgement: Judgement
    comments: tuple[tuple[str, str], ...] = ()  # (unit id, text) for the current period
    notes: tuple[str, ...] = ()      # changes of the plan the reader should know (börläge, name, …)

    @property
    def current(self) -> BoardCell:
        return self.cells[-1]


@dataclass(frozen=True, slots=True)
class TableLine:
    label: str
    cells: tuple[Figure | None, ...]  # None: the unit does not report this line
    total: bool = False


@dataclass(frozen=True, slots=True)
class TableView:
    """A unit table of the period, summed over units: heads, lines of figures, which columns
    hold shares."""

    table: Table
    heads: tuple[str, ...]
    lines: tuple[TableLine, ...]
    share_columns: frozenset[int] = frozenset()  # indexes into TableLine.cells


@dataclass(frozen=True)
class Board:
    """THE board model: every figure any output shows, computed once, judged by the catalog."""

    catalog: Catalog
    period: Period
    periods: tuple[Period, ...]
    columns: tuple[Column, ...]
    rows: tuple[IndicatorRow, ...]
    tables: tuple[TableView, ...]
    register: tuple[RegisterEntry, ...]
    report: Report
    data: pl.DataFrame               # every filled cell of the accepted files, long, with a mark
    masked: bool = False
    units: tuple[Unit, ...] = ()     # the units in the period's plan: those expected to hand in
    source: RunResult | None = field(default=None, compare=False, repr=False)

    @property
    def current(self) -> Column:
        return self.columns[-1]

    def unit_states(self) -> dict[str, UnitState]:
        """Per unit its state this period; a rejected unit is underkänd, not missing."""
        states: dict[str, UnitState] = {}
        for entry in self.register:
            if entry.unit and entry.state != UnitState.DUPLICATE:
                states.setdefault(entry.unit, entry.state)
        return states
