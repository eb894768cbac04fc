"""Where every input cell of a unit template sits: one cell map derived from the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, Indicator, Table
from .periods import MONTHS, Period

TEMPLATE_ID = "consolidate-enhetsmall"
TEMPLATE_VERSION = 1
META_SHEET = "_meta"
INSTRUCTION_SHEET = "Instruktioner"
INDICATOR_SHEET = "Indikatorer"
FEEDBACK_SHEET = "Återkoppling"
HEADER_ROW = 4  # 0-based row of column headings; inputs start on the next row
FIRST_ROW = HEADER_ROW + 1

# Indicator sheet columns (0-based).
COL_GOAL, COL_NAME, COL_MEASURE, COL_VALUE, COL_DENOM, COL_SHARE = 0, 1, 2, 3, 4, 5
COL_BASELINE, COL_TARGET, COL_COMMENT, COL_CHECK = 6, 7, 8, 9

# Parse kind of a value field, by indicator kind (shares are entered as numerator/denominator).
_VALUE_KIND = {"antal": "antal", "årsarbetare": "arsarbetare", "mnkr": "mnkr", "dygn": "dygn",
               "procent": "procent"}


@dataclass(frozen=True, slots=True)
class InputCell:
    """One cell a unit head fills in, with the defined name that finds it after rows move."""

    name: str
    sheet: str
    row: int
    col: int
    scope: str
    item: str
    field: str
    kind: str
    required: bool
    label: str

    @property
    def ref(self) -> str:
        return f"{col_letter(self.col)}{self.row + 1}"

    @property
    def address(self) -> str:
        return f"{self.sheet}!{self.ref}"


@dataclass(frozen=True, slots=True)
class TableBlock:
    table: Table
    first_row: int
    cells: tuple[InputCell, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    unit_id: str
    period: Period
    indicators: tuple[Indicator, ...]
    indicator_cells: tuple[InputCell, ...]
    tables: tuple[TableBlock, ...]

    @property
    def cells(self) -> tuple[InputCell, ...]:
        return self.indicator_cells + tuple(c for block in self.tables for c in block.cells)

    @property
    def sheets(self) -> tuple[str, ...]:
        return (INDICATOR_SHEET,) + tuple(b.table.sheet for b in self.tables)


def col_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def month_required(period: Period, month: int) -> bool:
    """Monthly series are filled from January up to the period's last month."""
    return month <= period.last_month


def build_layout(catalog: Catalog, unit_id: str, period: Period) -> Layout:
    """The cell map of one unit's template for a period, by the catalog as it stood then; units
    reporting the same things share one map."""
    key = (catalog, catalog.signature(unit_id, period), period)
    shared = _SHARED.get(key)
    if shared is None:
        if len(_SHARED) > 1024:
            _SHARED.clear()
        shared = _SHARED[key] = _build_layout(catalog, unit_id, period)
    if shared.unit_id == unit_id:
        return shared
    return Layout(unit_id, period, shared.indicators, shared.indicator_cells, shared.tables)


_SHARED: dict[tuple[Catalog, tuple[tuple[str, ...], tuple[str, ...]], Period], Layout] = {}


def _build_layout(catalog: Catalog, unit_id: str, period: Period) -> Layout:
    # As the indicators stood in the period: the name, nuläge and börläge the template shows.
    indicators = tuple(ind.as_of(period) for ind in catalog.indicators_for(unit_id, period))
    indicator_cells: list[InputCell] = []
    for offset, ind in enumerate(indicators):
        row = FIRST_ROW + offset
        if ind.is_share:
            indicator_cells.append(_cell(ind.id, "", "taljare", row, COL_VALUE, "antal", True,
                                         f"{ind.name}: täljare ({ind.numerator_label})"))
            indicator_cells.append(_cell(ind.id, "", "namnare", row, COL_DENOM, "antal", True,
                                         f"{ind.name}: nämnare ({ind.denominator_label})"))
        else:
            indicator_cells.append(_cell(ind.id, "", "varde", row, COL_VALUE, _VALUE_KIND[ind.kind],
                                         True, ind.name))
        indicator_cells.append(_cell(ind.id, "", "kommentar", row, COL_COMMENT, "text", False,
                                     f"{ind.name}: kommentar"))
    blocks = tuple(_table_block(t, period) for t in catalog.tables_for(unit_id, period))
    return Layout(unit_id, period, indicators, tuple(indicator_cells), blocks)


def _cell(scope: str, item: str, field: str, row: int, col: int, kind: str, required: bool,
          label: str, sheet: str = INDICATOR_SHEET, prefix: str = "ind") -> InputCell:
    parts = [prefix, scope] + ([item] if item else []) + [field]
    return InputCell("_".join(parts), sheet, row, col, scope, item, field, kind, required, label)


def _table_block(table: Table, period: Period) -> TableBlock:
    cells: list[InputCell] = []
    row = FIRST_ROW

    def add(item: str, field: str, r: int, c: int, kind: str, required: bool, label: str) -> None:
        cells.append(_cell(table.id, item, field, r, c, kind, required, label, table.sheet, "tab"))

    if table.kind == "fordelning":
        for offset, trow in enumerate(table.rows):
            add(trow.id, "antal", row + offset, 1, "antal", True,
                f"{trow.label}: {table.count_label.lower()}")
            if table.with_share:
                add(trow.id, "andel", row + offset, 2, "andel", True, f"{trow.label}: andel")
        summa = row + len(table.rows)
        add("summa", "antal", summa, 1, "antal", True, f"SUMMA: {table.count_label.lower()}")
        if table.with_share:
            add("summa", "andel", summa, 2, "andel", False, "SUMMA: andel")
    elif table.kind == "enkat":
        for offset, trow in enumerate(table.rows):
            add(trow.id, "andel", row + offset, 1, "andel", False, f"{trow.label}")
        add("svar", "antal", row + len(table.rows), 1, "antal", True, "Antal inkomna enkäter")
    elif table.kind == "manad":
        for offset, trow in enumerate(table.rows):
            for month_index, month in enumerate(MONTHS, start=1):
                add(trow.id, month, row + offset, month_index, "antal",
                    month_required(period, month_index), f"{trow.label}, {month}")
    elif table.kind == "varav":
        add("total", "antal", row, 1, "antal", True, table.total_label or "Totalt")
        for offset, trow in enumerate(table.rows, start=1):
            add(trow.id, "antal", row + offset, 1, "antal", True, f"varav {trow.label.lower()}")
    return TableBlock(table, FIRST_ROW, tuple(cells))
