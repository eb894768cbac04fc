"""Result types shared by every stage: severities and states, findings, submissions, the
register."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    pass


class Severity(StrEnum):
    """How bad a finding is: `fel` rejects the submission, `varning` does not."""

    ERROR = "fel"
    WARNING = "varning"


class FileState(StrEnum):
    """What became of one file that was read."""

    ACCEPTED = "godkänd"
    REJECTED = "underkänd"


class UnitState(StrEnum):
    """A row of the submission register: per expected unit, or per file that is no unit's."""

    DELIVERED = "levererad"
    MISSING = "saknas"
    REJECTED = "underkänd"
    DUPLICATE = "dubblett"
    STRAY = "ej knuten"  # a file that is no unit's submission (not a template, unreadable, a CSV …)


def flat_dict(item: Any) -> dict[str, Any]:
    """A dataclass of plain fields as a dict; dataclasses.asdict deep-copies, at 40 µs an item."""
    return {f.name: getattr(item, f.name) for f in fields(item)}

# The JSON report's keys, Swedish like the rest of what users read (ASCII, as the catalog's keys).
FILE_KEYS = {"file": "fil", "unit": "enhet", "period": "period", "state": "status", "errors": "fel",
             "warnings": "varningar", "sha256": "sha256", "modified": "andrad",
             "note": "anmarkning"}
FINDING_KEYS = {"code": "kod", "severity": "allvarlighet", "title": "regel", "file": "fil",
                "unit": "enhet", "period": "period", "sheet": "flik", "cell": "cell", "scope": "id",
                "value": "varde", "expected": "forvantat", "message": "meddelande"}
REGISTER_KEYS = {"unit": "enhet", "unit_name": "enhetsnamn", "state": "status", "file": "fil",
                 "modified": "andrad", "sha256": "sha256", "errors": "fel", "warnings": "varningar",
                 "note": "anmarkning"}


def json_keys(item: Any, keys: dict[str, str]) -> dict[str, Any]:
    """A result dataclass as the JSON report writes it: its fields under their Swedish keys."""
    return {swedish: getattr(item, name) for name, swedish in keys.items()}


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
        """The report for `--json`: Swedish keys throughout (schemas/rapport.schema.json)."""
        return {
            "giltig": self.valid,
            "fel": self.errors,
            "varningar": self.warnings,
            "filer": [json_keys(f, FILE_KEYS) for f in self.files],
            "fynd": [json_keys(f, FINDING_KEYS) for f in self.findings],
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
    compared: list[str] = field(default_factory=list)  # earlier files beside them, compared with

    def of(self, sub: Submission) -> list[Finding]:
        return self.findings.get(sub.file, [])

    def errors(self, sub: Submission) -> int:
        return sum(1 for f in self.of(sub) if f.severity == Severity.ERROR)

    def warnings(self, sub: Submission) -> int:
        return sum(1 for f in self.of(sub) if f.severity == Severity.WARNING)

    def file_results(self) -> tuple[FileResult, ...]:
        return tuple(
            FileResult(s.file, s.unit, s.period,
                       FileState.ACCEPTED if self.errors(s) == 0 else FileState.REJECTED,
                       self.errors(s), self.warnings(s), s.sha256, s.modified_text)
            for s in self.submissions
        )

    def used(self) -> dict[tuple[str, str], Submission]:
        """Per unit and period the file a run uses: the newest without fel (by time, then name)."""
        used: dict[tuple[str, str], Submission] = {}
        for sub in self.submissions:
            if sub.unit and sub.period and self.errors(sub) == 0:
                best = used.get((sub.unit, sub.period))
                if best is None or (sub.modified, sub.file) > (best.modified, best.file):
                    used[(sub.unit, sub.period)] = sub
        return used

    def report(self) -> Report:
        """The library's report of a check; `consolidate check --json` prints exactly this."""
        return Report(self.file_results(), tuple(self.all_findings()))

    def all_findings(self) -> list[Finding]:
        return sorted((f for sub in self.submissions for f in self.of(sub)), key=sort_key)
