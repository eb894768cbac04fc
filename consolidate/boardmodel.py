"""The board model: every figure of a period and its history, and the run that produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from .catalog import Catalog, Indicator, Table, Unit
from .comparemodel import Comparison
from .model import Checked, RegisterEntry, Report, Submission, UnitState
from .periods import Period

if TYPE_CHECKING:
    import polars as pl


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


def cell_key(period: str, unit: str, name: str) -> Key:
    """The address of what a unit typed: the same on every sheet that shows it."""
    return ("cell", period, unit, name)


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
class Doubt:
    """A value the board must not see unchecked (consolidate.doubt): outside the indicator's
    plausible range, or a power of ten away from the unit's previous tertial. The unit's comment on
    the indicator explains it; an explained one is listed but not marked."""

    indicator: str
    indicator_name: str
    period: str
    unit: str
    unit_name: str
    code: str                   # the rule: orimligt, storleksordning or tkr_mnkr
    message: str                # the rule's sentence for the unit, quoting the values
    short: str                  # why, without figures, for a status: "utanför …"
    detail: str                 # why, with them: "är ungefär 10 gånger större än … (86,4 i …)"
    file: str
    sheet: str
    cell: str
    value: str
    previous: str = ""          # the previous tertial's value, for a jump
    explanation: str = ""       # what the unit wrote in the indicator's comment cell
    keys: tuple[Key, ...] = ()  # the figures it speaks of: the unit's cells, then and before

    @property
    def explained(self) -> bool:
        return bool(self.explanation)


DOUBT_KEYS = {"indicator": "indikator", "indicator_name": "indikatornamn", "period": "period",
              "unit": "enhet", "unit_name": "enhetsnamn", "code": "kod", "message": "meddelande",
              "file": "fil", "sheet": "flik", "cell": "cell", "value": "varde",
              "previous": "foregaende", "explanation": "forklaring"}


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
    doubts: tuple[Doubt, ...] = ()   # values in it to check that no unit has explained

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
        """The board's figure when every reporting unit is in it and none of its values is to be
        checked; a partial sum is not one, nor one with a likely slip in it."""
        return None if self.incomplete or self.doubts else self.value


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
    comparison: Comparison | None = None  # Kolada's figures beside the board's (public, unmasked)
    doubts: tuple[Doubt, ...] = ()   # values to check in every column, explained ones too
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


@dataclass
class RunResult:
    """What a run read and decided: the period, the register, every finding and the accepted
    values."""

    period: Period
    periods: list[Period]
    register: list[RegisterEntry]
    checked: Checked
    accepted: list[Submission]   # the used submission per unit and period, all periods
    values: pl.DataFrame         # long values of the accepted submissions
    report: Report
    board: Board | None = None
    master: Path | None = None
    doubts: tuple[Doubt, ...] = ()   # of the unmasked board: what the controller must look at
    found: list[Period] = field(default_factory=list)  # periods that files in the folder are for

    @property
    def complete(self) -> bool:
        """Every expected unit has a valid workbook for the period (older duplicates do not
        count)."""
        return not any(r.state in (UnitState.MISSING, UnitState.REJECTED) for r in self.register
                       if r.unit)
