"""The attacker's audit of a masked master workbook and its export.

An attacker holds what leaves the office: the masked master (.xlsx) and the long export (Parquet,
CSV), and the board's catalog, which is public. This module does what such an attacker would do,
and nothing else: it reads every cell of every sheet back with openpyxl and polars, keys each
published figure by what it means (so the same quantity on two sheets is one unknown), writes down
every linear relation that the layout and the catalog's rules imply between those figures, and asks
linear programming (HiGHS) how far each hidden small count can be narrowed.

Nothing here comes from the product's masking, board or suppression code: the layout is the one an
attacker reads off an unmasked master and the catalog, and every relation below is one a reader of
the files could write down.

Keys (one unknown per quantity, wherever it is shown):
  ("cell", period, unit, scope, item, field)  what a unit typed: Data/export rows, Per enhet (its
                                               non-share indicators), the unit columns of the unit
                                               tables (current period)
  ("ushare", period, unit, indicator)          a unit's share on Per enhet (täljare / nämnare)
  ("board", indicator, period)                 the board's figure: Sammanställning, Per enhet's
                                               Nämnden column, _diagramdata
  ("ttotal", period, table, item)              a unit table's Totalt column (and a survey's answers)
  ("tshare", period, table, item)              a distribution's Andel column
  ("msum", period, table, unit)                a monthly table's Summa for one unit
  ("mtot", period, table, month | "summa")     a monthly table's Totalt row
  ("sshare", period, table, question)          a survey's weighted share (Samtliga)
"""

from __future__ import annotations

import json
import re
import time
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import polars as pl
from scipy.optimize import linprog

from consolidate.catalog import Catalog, Indicator, Table

Key = tuple[str, ...]
SMALL, COVER = "small", "cover"
MONTHS = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
EXACT = 1e-9  # relative slack on a share published at full precision (a float from a division)
TOL = 1e-6  # how close an LP bound must come to 1 and limit − 1
# a column heading as the board writes a period: "T3 2023"
_PERIOD = re.compile(r"^T([123]) (\d{4})$")


def _heading_periods(heads: Mapping[int, Any]) -> dict[int, str]:
    """Column -> period ("2023-T3") for the headings that name a period."""
    out = {}
    for col, text in heads.items():
        match = _PERIOD.match(text) if isinstance(text, str) else None
        if match:
            out[col] = f"{match.group(2)}-T{match.group(1)}"
    return out
_TITLE_PERIOD = re.compile(r"tertial ([123]) (\d{4})")
_KOLADA = re.compile(r" \(Kolada [A-Z]\d{5}\)$")
_MARK = re.compile(r"^<\s*(\d+)$")
_NUMBER_TEXT = re.compile(r"^[-−]?\d[\d \u00a0\u202f]*(?:[.,]\d+)?\s*%?$")
_COUNT_KINDS = ("antal", "dygn")
_SHARE_KINDS = ("andel", "beläggningsgrad")
SUMMARY, PER_UNIT, DIAGRAM_DATA, DATA, LOG, ABOUT, META = (
    "Sammanställning", "Per enhet", "_diagramdata", "Data", "Valideringslogg",
    "Om sammanställningen", "_meta")


# ---- what was seen -------------------------------------------------------------------------------
@dataclass
class Sight:
    """One place a key is published: a number, or a mark ("<5" with its bound, "..")."""

    where: str
    value: float | None = None
    mark: str | None = None
    below: int | None = None  # for "<N": the value is at most N − 1


@dataclass
class Publication:
    """Everything the attacker read from the files, keyed by meaning."""

    catalog: Catalog
    limit: int
    sights: dict[Key, list[Sight]] = field(default_factory=lambda: defaultdict(list))
    table_periods: set[tuple[str, str]] = field(default_factory=set)  # (table, period) sheets shown
    # (kind, where, text): free text
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    status: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    chart_numbers: list[tuple[str, float]] = field(default_factory=list)
    diagram_numbers: list[float] = field(default_factory=list)
    # per sheet: the texts of its first rows
    heads: dict[str, list[str]] = field(default_factory=dict)
    about: list[str] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    export_columns: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what the audit could not read or link

    def add(self, key: Key, where: str, raw: Any) -> bool:
        """Record what a keyed position shows; False when it shows nothing (empty, "–")."""
        kind, value, below = classify(raw, self.limit)
        if kind == "none":
            return False
        if kind == "num":
            self.sights[key].append(Sight(where, value=value))
        elif kind == "mark":
            self.sights[key].append(Sight(where, mark=SMALL if below is not None else COVER,
                                          below=below))
        else:
            self.problems.append(f"{where}: text {raw!r} where a figure of {key} was expected")
            return False
        return True

    def present(self, key: Key) -> bool:
        return bool(self.sights.get(key))

    def known(self, key: Key) -> float | None:
        """The value of a key that is shown as a number anywhere in the files."""
        for sight in self.sights.get(key, ()):
            if sight.value is not None:
                return sight.value
        return None

    def marks(self, key: Key) -> list[Sight]:
        return [s for s in self.sights.get(key, ()) if s.mark is not None]

    def small_bound(self, key: Key) -> int | None:
        bounds = [s.below for s in self.sights.get(key, ())
                  if s.mark == SMALL and s.below is not None]
        return min(bounds) if bounds else None

    def is_count(self, key: Key) -> bool:
        return is_count(self.catalog, key)

    @property
    def data_periods(self) -> set[str]:
        return {k[1] for k in self.sights if k[0] == "cell"}

    @property
    def board_periods(self) -> set[str]:
        return {k[2] for k in self.sights if k[0] == "board"}


def classify(raw: Any, limit: int) -> tuple[str, float | None, int | None]:
    if raw is None or isinstance(raw, bool):
        return "none", None, None
    if isinstance(raw, int | float):
        return "num", float(raw), None
    if not isinstance(raw, str):
        return "text", None, None
    text = raw.strip()
    if text in ("", "–", "-", "ej rapporterad", "ej aktuell", "underkänd"):
        return "none", None, None
    if text == "..":
        return "mark", None, None
    match = _MARK.match(text)
    if match:
        return "mark", None, int(match.group(1)) - 1
    if _NUMBER_TEXT.match(text):  # a number written as text is still a number to a reader
        plain = re.sub(r"[ \u00a0\u202f%]", "", text).replace(",", ".").replace("−", "-")
        value = float(plain)
        return "num", value / 100 if text.endswith("%") else value, None
    return "text", None, None


def _indicator(catalog: Catalog, ind_id: str) -> Indicator | None:
    return next((i for i in catalog.indicators if i.id == ind_id), None)


def is_count(catalog: Catalog, key: Key) -> bool:
    """Whether a key holds a count of people or cases (what small-number masking is about)."""
    kind = key[0]
    if kind in ("ttotal", "msum", "mtot"):
        return True
    if kind == "board":
        ind = _indicator(catalog, key[1])
        return ind is not None and ind.kind in _COUNT_KINDS
    if kind == "cell":
        fld = key[5]
        if fld in ("antal", "taljare", "namnare") or fld in MONTHS:
            return True
        if fld == "varde":
            ind = _indicator(catalog, key[3])
            return ind is not None and ind.kind in _COUNT_KINDS
    return False


def is_share(catalog: Catalog, key: Key) -> bool:
    if key[0] in ("ushare", "tshare", "sshare"):
        return True
    if key[0] == "board":
        ind = _indicator(catalog, key[1])
        return ind is not None and ind.kind in _SHARE_KINDS
    return key[0] == "cell" and key[5] == "andel"


# ---- reading the files ---------------------------------------------------------------------------
def read_files(master: Path, catalog: Catalog, export: Path | None = None) -> Publication:
    """What an attacker holding the master (and the export folder, if given) can read."""
    pub = Publication(catalog, catalog.settings.suppression_limit)
    read_master(master, pub)
    if export is not None:
        read_export(export, pub)
    return pub


def _period_of(title: Any) -> str | None:
    match = _TITLE_PERIOD.search(str(title or ""))
    return f"{match.group(2)}-T{match.group(1)}" if match else None


def read_master(path: Path, pub: Publication) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path)
    src = f"{path.parent.name}/{path.name}"
    pub.sheets += [name for name in wb.sheetnames if name not in pub.sheets]
    used: dict[str, set[str]] = defaultdict(set)  # cells the keyed reading took
    if META in wb.sheetnames:
        for row in wb[META].iter_rows(values_only=True):
            if row and row[0] is not None:
                pub.meta[str(row[0])] = "" if len(row) < 2 or row[1] is None else str(row[1])
    current = pub.meta.get("period")
    tables = {t.sheet: t for t in pub.catalog.tables}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows()]
        pub.heads[ws.title] = [str(c.value) for r in rows[:4] for c in r
                               if isinstance(c.value, str)]
        where = f"{src}:{ws.title}!"
        period = _period_of(rows[0][0].value if rows and rows[0] else None) or current
        if ws.title == SUMMARY:
            _summary(rows, pub, where, used[ws.title])
        elif ws.title == PER_UNIT and period:
            _per_unit(rows, pub, where, period, used[ws.title])
        elif ws.title in tables and period:
            _unit_table(rows, pub, where, period, tables[ws.title], used[ws.title])
        elif ws.title == DIAGRAM_DATA:
            _diagram_data(rows, pub, where, used[ws.title])
        elif ws.title == DATA:
            _data_sheet(rows, pub, where, used[ws.title])
        elif ws.title == LOG:
            _log(rows, pub, where)
        elif ws.title == ABOUT:
            pub.about = [str(c.value) for r in rows for c in r if c.value is not None]
        for r in rows:
            for c in r:
                if c.comment is not None:
                    pub.comments.append((where + c.coordinate, c.comment.text))
                # Every cell of every sheet: a mark the keyed reading did not take is one the
                # attacker cannot place, and so cannot audit.
                if c.coordinate not in used[ws.title] and classify(c.value, pub.limit)[0] == "mark":
                    pub.problems.append(f"{where}{c.coordinate}: {c.value!r} at a place the audit "
                                        "cannot key")
    _charts(path, pub)


def _find_row(rows: list[list[Any]], test: Any, limit: int = 12) -> int | None:
    for index, row in enumerate(rows[:limit]):
        if test([c.value for c in row]):
            return index
    return None


def _board_values(pub: Publication, used: set[str], where: str, row: Any, ind: Indicator,
                  periods: dict[int, str]) -> None:
    """The board values of one indicator's row, one per period column."""
    for col, period in periods.items():
        if col < len(row):
            used.add(row[col].coordinate)
            pub.add(("board", ind.id, period), where + row[col].coordinate, row[col].value)


def _ind_by_name(catalog: Catalog, text: Any) -> Indicator | None:
    if not isinstance(text, str):
        return None
    name = _KOLADA.sub("", text.removesuffix(" **").strip())
    return next((i for i in catalog.indicators if i.name == name), None)


def _summary(rows: list[list[Any]], pub: Publication, where: str, used: set[str]) -> None:
    head = _find_row(rows, lambda vals: "Målområde" in vals)
    if head is None:
        pub.problems.append(f"{where}: no header row with 'Målområde'")
        return
    heads = {i: c.value for i, c in enumerate(rows[head])}
    periods = _heading_periods(heads)
    status_col = next((i for i, v in heads.items() if v == "Status"), None)
    trend_col = next((i for i, v in heads.items() if v == "Trend"), None)
    text_col = next((i for i, v in heads.items() if v == "Kommentarer från enheterna"), None)
    for row in rows[head + 1:]:
        if len(row) < 2:
            continue
        ind = _ind_by_name(pub.catalog, row[1].value)
        if ind is None:
            continue
        _board_values(pub, used, where, row, ind, periods)
        if status_col is not None and trend_col is not None and periods:
            last = max(periods.values())
            pub.status[(ind.id, last)] = (where + row[status_col].coordinate,
                                          str(row[status_col].value or ""),
                                          str(row[trend_col].value or ""))
        if text_col is not None and text_col < len(row) and row[text_col].value:
            pub.texts.append(("kommentar", where + row[text_col].coordinate,
                              str(row[text_col].value)))


def _unit_columns(pub: Publication, heads: dict[int, Any]) -> dict[int, str]:
    names = {u.name: u.id for u in pub.catalog.units}
    return {i: names[v] for i, v in heads.items() if isinstance(v, str) and v in names}


def _per_unit(rows: list[list[Any]], pub: Publication, where: str, period: str,
              used: set[str]) -> None:
    head = _find_row(rows, lambda vals: "Nämnden" in vals)
    if head is None:
        pub.problems.append(f"{where}: no header row with 'Nämnden'")
        return
    heads = {i: c.value for i, c in enumerate(rows[head])}
    units = _unit_columns(pub, heads)
    board_col = next(i for i, v in heads.items() if v == "Nämnden")
    for row in rows[head + 1:]:
        ind = _ind_by_name(pub.catalog, row[0].value if row else None)
        if ind is None:
            continue
        for col, unit in units.items():
            if col >= len(row):
                continue
            key: Key = (("ushare", period, unit, ind.id) if ind.kind in _SHARE_KINDS
                        else ("cell", period, unit, ind.id, "", "varde"))
            used.add(row[col].coordinate)
            pub.add(key, where + row[col].coordinate, row[col].value)
        if board_col < len(row):
            used.add(row[board_col].coordinate)
            pub.add(("board", ind.id, period), where + row[board_col].coordinate,
                    row[board_col].value)


def _unit_table(rows: list[list[Any]], pub: Publication, where: str, period: str, table: Table,
                used: set[str]) -> None:
    units_named = {u.name for u in pub.catalog.units if u.id in table.units}
    if table.kind == "manad":
        head = _find_row(rows, lambda vals: "Jan" in vals and "Summa" in vals)
    else:
        head = _find_row(rows, lambda vals: any(v in units_named for v in vals))
    if head is None:
        pub.problems.append(f"{where}: no header row for table {table.id}")
        return
    pub.table_periods.add((table.id, period))
    heads = {i: c.value for i, c in enumerate(rows[head])}
    units = _unit_columns(pub, heads)
    body = [r for r in rows[head + 1:] if r and r[0].value not in (None, "")]

    def put(key: Key, cell: Any) -> None:
        used.add(cell.coordinate)
        pub.add(key, where + cell.coordinate, cell.value)

    if table.kind == "manad":
        series = table.rows[0].id
        months = {i: MONTHS[[m.capitalize() for m in MONTHS].index(v)] for i, v in heads.items()
                  if isinstance(v, str) and v in [m.capitalize() for m in MONTHS]}
        sum_col = next(i for i, v in heads.items() if v == "Summa")
        names = {u.name: u.id for u in pub.catalog.units}
        for row in body:
            label = str(row[0].value).strip()
            if label == "Totalt":
                for col, month in months.items():
                    put(("mtot", period, table.id, month), row[col])
                put(("mtot", period, table.id, "summa"), row[sum_col])
            elif label in names:
                unit = names[label]
                for col, month in months.items():
                    put(("cell", period, unit, table.id, series, month), row[col])
                put(("msum", period, table.id, unit), row[sum_col])
            else:
                _unknown_row(pub, where, row, label)
        return
    if table.kind == "enkat":
        items = [(r.id, r.label) for r in table.rows] + [("svar", "Antal inkomna enkäter")]
        total_col = next((i for i, v in heads.items()
                          if isinstance(v, str) and v.startswith("Samtliga")), None)
    elif table.kind == "fordelning":
        items = [(r.id, r.label) for r in table.rows] + [("summa", "SUMMA")]
        total_col = next((i for i, v in heads.items() if v == "Totalt"), None)
    else:
        items = [("total", table.total_label or "Totalt")] + [(r.id, f"varav {r.label.lower()}")
                                                              for r in table.rows]
        total_col = next((i for i, v in heads.items() if v == "Totalt"), None)
    share_col = next((i for i, v in heads.items() if v == "Andel"), None)
    labels = {label: item for item, label in items}
    for row in body:
        label = str(row[0].value).strip()
        item = labels.get(label)
        if item is None:
            _unknown_row(pub, where, row, label)
            continue
        fld = "andel" if table.kind == "enkat" and item != "svar" else "antal"
        for col, unit in units.items():
            if col < len(row):
                put(("cell", period, unit, table.id, item, fld), row[col])
        if total_col is not None and total_col < len(row):
            key: Key = (("sshare", period, table.id, item) if fld == "andel"
                        else ("ttotal", period, table.id, item))
            put(key, row[total_col])
        if share_col is not None and share_col < len(row):
            put(("tshare", period, table.id, item), row[share_col])


def _unknown_row(pub: Publication, where: str, row: list[Any], label: str) -> None:
    """A row the layout does not have: a note is fine, figures the audit cannot key are not."""
    if any(classify(c.value, pub.limit)[0] in ("num", "mark") for c in row[1:]):
        pub.problems.append(f"{where}A{row[0].row}: figures in a row the audit cannot key "
                            f"({label!r})")


def _diagram_data(rows: list[list[Any]], pub: Publication, where: str, used: set[str]) -> None:
    if not rows:
        return
    heads = {i: c.value for i, c in enumerate(rows[0])}
    periods = _heading_periods(heads)
    for row in rows[1:]:
        for c in row:
            if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                pub.diagram_numbers.append(float(c.value))
        ind = _ind_by_name(pub.catalog, row[0].value if row else None)
        if ind is None:
            continue
        _board_values(pub, used, where, row, ind, periods)


_DATA_COLUMNS = {"Period": "period", "Enhets-id": "unit", "Id": "scope", "Rad-id": "item",
                 "Fält-id": "field", "Värde": "value", "Text": "text", "Maskering": "mask"}


def _data_sheet(rows: list[list[Any]], pub: Publication, where: str, used: set[str]) -> None:
    if not rows:
        return
    cols = {_DATA_COLUMNS[c.value]: i for i, c in enumerate(rows[0]) if c.value in _DATA_COLUMNS}
    for row in rows[1:]:
        record = {name: row[i].value if i < len(row) else None for name, i in cols.items()}
        cells = {name: row[i] for name, i in cols.items() if i < len(row)}
        _data_record(record, pub,
                     lambda name: where + cells[name].coordinate if name in cells else where)
        for name in ("value", "mask"):
            if name in cells:
                used.add(cells[name].coordinate)


def _data_record(record: Mapping[str, Any], pub: Publication, at: Any) -> None:
    period, unit, scope, fld = (record.get(k) for k in ("period", "unit", "scope", "field"))
    if not (period and unit and scope and fld):
        return
    key: Key = ("cell", str(period), str(unit), str(scope), str(record.get("item") or ""), str(fld))
    value, mask, text = record.get("value"), record.get("mask"), record.get("text")
    if isinstance(value, str) and not value.strip():  # the CSV: everything is text, nothing is ""
        value = None
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value.strip()):
        value = float(value)
    if value is not None:
        pub.add(key, at("value"), value)
    if mask not in (None, ""):
        if classify(mask, pub.limit)[0] != "mark":
            pub.problems.append(f"{at('mask')}: unknown mark {mask!r}")
        else:
            pub.add(key, at("mask"), mask)
    if text not in (None, ""):
        pub.texts.append(("text", at("text"), str(text)))


def _log(rows: list[list[Any]], pub: Publication, where: str) -> None:
    head = _find_row(rows, lambda vals: "Allvarlighet" in vals)
    if head is None:
        return
    names = {c.value: i for i, c in enumerate(rows[head])}
    for row in rows[head + 1:]:
        entry = {name: (row[i].value if i < len(row) else None) for name, i in names.items()}
        entry["where"] = where + (row[0].coordinate if row else "")
        pub.log.append(entry)


def _charts(path: Path, pub: Publication) -> None:
    """Numbers cached in the chart parts: what a chart shows without its data sheet."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/charts/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                for cache in re.findall(r"<c:numCache>(.*?)</c:numCache>", xml, re.S):
                    for value in re.findall(r"<c:v>([^<]*)</c:v>", cache):
                        pub.chart_numbers.append((f"{path.parent.name}/{path.name}:{name}",
                                                  float(value)))


def read_export(folder: Path, pub: Publication) -> None:
    """The long export: every Parquet and CSV file in the folder, row by row."""
    for path in sorted(folder.glob("*.parquet")):
        _export_frame(pl.read_parquet(path), f"{folder.name}/{path.name}", pub)
    for path in sorted(folder.glob("*.csv")):
        frame = pl.read_csv(path, separator=";", infer_schema_length=0, encoding="utf8")
        _export_frame(frame, f"{folder.name}/{path.name}", pub)
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".parquet", ".csv"):
            pub.problems.append(f"{path.name}: an export file the audit does not read")


def _export_frame(frame: pl.DataFrame, name: str, pub: Publication) -> None:
    pub.export_columns[name] = list(frame.columns)
    for index, record in enumerate(frame.iter_rows(named=True), start=1):
        _data_record(record, pub, lambda col, i=index: f"{name}:row {i}.{col}")


# ---- relations -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Relation:
    """lo ≤ Σ coef · key ≤ hi, and why an attacker may write it down."""

    terms: tuple[tuple[float, Key], ...]
    lo: float
    hi: float
    why: str


def _eq(terms: Iterable[tuple[float, Key]], why: str, slack: float = 0.0) -> Relation:
    return Relation(tuple(terms), -slack, slack, why)


def _le(terms: Iterable[tuple[float, Key]], why: str, hi: float = 0.0) -> Relation:
    return Relation(tuple(terms), -np.inf, hi, why)


def share_tolerance(share: float) -> float:
    """Half a unit of the rounding a typed share shows, as the catalog's rules accept it (a share
    is within half a unit of its rounding of count/SUMMA: 24 % ± 0,5 %, 24,3 % ± 0,05 %)."""
    pct = share * 100
    for digits in range(5):
        scaled = pct * 10**digits
        if abs(scaled - round(scaled)) < 1e-6:
            return 0.5 * 10**-digits / 100
    return 0.5e-6


def published_tolerance(share: float) -> float:
    """How exactly a published share pins its ratio: half a unit of its rounding when it is visibly
    rounded (at most four decimals in percent), else a float from a division, exact but for
    EXACT."""
    pct = share * 100
    for digits in range(5):
        scaled = pct * 10**digits
        if abs(scaled - round(scaled)) < 1e-7:
            return 0.5 * 10**-digits / 100
    return EXACT


def _ratio(nums: list[tuple[float, Key]], dens: list[tuple[float, Key]], share: float,
           why: str) -> list[Relation]:
    """Σ nums / Σ dens = share, rounding included, as two linear inequalities (the dens are ≥ 0):
    (share − tol)·Σ dens ≤ Σ nums ≤ (share + tol)·Σ dens."""
    tol = published_tolerance(share)
    return [_le([*nums, *((-(share + tol) * c, k) for c, k in dens)], why),
            _le([*((-c, k) for c, k in nums), *(((share - tol) * c, k) for c, k in dens)], why)]


def build_relations(pub: Publication) -> list[Relation]:
    """Every linear relation a reader of the files and the catalog can write down."""
    c = pub.catalog
    rels: list[Relation] = []
    present, known = pub.present, pub.known
    periods = sorted(pub.data_periods | pub.board_periods | {p for _, p in pub.table_periods})

    def cell(period: str, unit: str, scope: str, item: str, fld: str) -> Key:
        return ("cell", period, unit, scope, item, fld)

    # Indicators: the board's figure from the units' parts, in every period the file shows.
    for ind in c.indicators:
        share = ind.kind in _SHARE_KINDS
        for period in periods:
            first = "taljare" if share else "varde"
            units = [u for u in ind.units if present(cell(period, u, ind.id, "", first))]
            board: Key = ("board", ind.id, period)
            if share:
                for u in units:
                    num, den = (cell(period, u, ind.id, "", "taljare"),
                                cell(period, u, ind.id, "", "namnare"))
                    if present(den):
                        rels.append(_le([(1, num), (-1, den)],
                                        f"{ind.id} {period} {u}: täljare ≤ nämnare"))
                        s = known(("ushare", period, u, ind.id))
                        if s is not None:
                            rels += _ratio([(1, num)], [(1, den)], s,
                                           f"Per enhet {ind.id} {period} {u}: andel {s:.6g} = "
                                           "täljare / nämnare")
                s = known(board)
                if s is not None and units and all(present(cell(period, u, ind.id, "", "namnare"))
                                                   for u in units):
                    rels += _ratio([(1.0, cell(period, u, ind.id, "", "taljare")) for u in units],
                                   [(1.0, cell(period, u, ind.id, "", "namnare")) for u in units],
                                   s, f"{ind.id} {period}: nämndens andel {s:.6g} = "
                                   "Σ täljare / Σ nämnare")
            elif present(board) and units:
                parts = [(-1.0, cell(period, u, ind.id, "", "varde")) for u in units]
                if ind.combine == "summa":
                    rels.append(_eq([(1.0, board), *parts],
                                    f"{ind.id} {period}: nämnden = Σ enheterna "
                                    f"({', '.join(units)})"))
                elif ind.combine == "medel":
                    rels.append(_eq([(float(len(units)), board), *parts],
                                    f"{ind.id} {period}: nämnden = medel"))

    # Unit tables: each unit's own cells (every period on Data), then the sheets' sums (their
    # period).
    for table in c.tables:
        for period in sorted(pub.data_periods):
            for u in table.units:
                _unit_rules(pub, rels, table, period, u)
        for table_id, period in sorted(pub.table_periods):
            if table_id == table.id:
                _table_sums(pub, rels, table, period)

    # Across periods: a later tertial's file repeats the year's earlier months; the same month of
    # the same unit typed in two files of one year is taken to be one number.
    months: dict[tuple[str, ...], list[Key]] = defaultdict(list)
    for key in pub.sights:
        if key[0] == "cell" and key[5] in MONTHS:
            months[(key[1][:4], key[2], key[3], key[4], key[5])].append(key)
    for group in months.values():
        group.sort()
        for a, b in zip(group, group[1:]):
            va, vb = known(a), known(b)
            if va is not None and vb is not None and abs(va - vb) > 1e-9:
                continue  # the unit revised the month: no longer one number
            rels.append(_eq([(1, a), (-1, b)],
                            f"{a[2]} {a[3]} {a[5]}: samma månad i {a[1]} och {b[1]}"))
    return rels


def _unit_rules(pub: Publication, rels: list[Relation], table: Table, period: str, u: str) -> None:
    present, known = pub.present, pub.known

    def k(item: str, fld: str) -> Key:
        return ("cell", period, u, table.id, item, fld)

    where = f"{table.id} {period} {u}"
    if table.kind == "fordelning":
        rows = [k(r.id, "antal") for r in table.rows]
        summa = k("summa", "antal")
        if present(summa) and all(present(r) for r in rows):
            rels.append(_eq([(1, summa)] + [(-1, r) for r in rows], f"{where}: delarna = SUMMA"))
        if present(summa):
            for r in table.rows:
                a = known(k(r.id, "andel"))
                if a is not None and present(k(r.id, "antal")):
                    tol = share_tolerance(a) + 1e-9
                    count = k(r.id, "antal")
                    rels.append(_le([(1, count), (-(a + tol), summa)],
                                    f"{where} {r.id}: inskriven andel {a:g}"))
                    rels.append(_le([(-1, count), (a - tol, summa)],
                                    f"{where} {r.id}: inskriven andel {a:g}"))
    elif table.kind == "varav":
        total = k("total", "antal")
        parts = [k(r.id, "antal") for r in table.rows]
        if present(total):
            for p in parts:
                if present(p):
                    rels.append(_le([(1, p), (-1, total)], f"{where} {p[4]}: varav ≤ total"))
            if table.complete and all(present(p) for p in parts):
                rels.append(_eq([(1, total)] + [(-1, p) for p in parts],
                                f"{where}: varav-raderna = total"))
    elif table.kind == "enkat":
        answers = k("svar", "antal")
        if present(answers) and any(present(k(r.id, "andel")) for r in table.rows):
            rels.append(Relation(((1.0, answers),), 1.0, np.inf,
                                 f"{where}: andelar kräver minst ett svar"))


def _table_sums(pub: Publication, rels: list[Relation], table: Table, period: str) -> None:
    present, known = pub.present, pub.known

    def k(u: str, item: str, fld: str) -> Key:
        return ("cell", period, u, table.id, item, fld)

    where = f"{table.sheet} {period}"
    if table.kind in ("fordelning", "varav"):
        items = [r.id for r in table.rows] + (["summa"] if table.kind == "fordelning"
                                              else ["total"])
        for item in items:
            total: Key = ("ttotal", period, table.id, item)
            units = [u for u in table.units if present(k(u, item, "antal"))]
            if present(total) and units:
                rels.append(_eq([(1, total)] + [(-1, k(u, item, "antal")) for u in units],
                                f"{where} {item}: Totalt = Σ enheterna"))
        grand: Key = ("ttotal", period, table.id, "summa")
        if table.kind == "fordelning" and present(grand):
            rows = [("ttotal", period, table.id, r.id) for r in table.rows]
            if all(present(r) for r in rows):
                rels.append(_eq([(1, grand)] + [(-1, r) for r in rows],
                                f"{where}: Totalt delarna = SUMMA"))
            for item in [r.id for r in table.rows]:
                s = known(("tshare", period, table.id, item))
                part: Key = ("ttotal", period, table.id, item)
                if s is not None and present(part):
                    rels += _ratio([(1, part)], [(1, grand)], s,
                                   f"{where} {item}: Andel {s:.6g} = Totalt / SUMMA")
        if table.kind == "varav":
            total = ("ttotal", period, table.id, "total")
            for r in table.rows:
                part = ("ttotal", period, table.id, r.id)
                if present(total) and present(part):
                    rels.append(_le([(1, part), (-1, total)],
                                    f"{where} {r.id}: varav ≤ total (Totalt)"))
            parts = [("ttotal", period, table.id, r.id) for r in table.rows]
            if table.complete and present(total) and all(present(p) for p in parts):
                rels.append(_eq([(1, total)] + [(-1, p) for p in parts],
                                f"{where}: varav = total (Totalt)"))
    elif table.kind == "manad":
        series = table.rows[0].id
        unit_sums = []
        for u in table.units:
            months = [("cell", period, u, table.id, series, m) for m in MONTHS]
            months = [m for m in months if present(m)]
            usum: Key = ("msum", period, table.id, u)
            if present(usum) and months:
                rels.append(_eq([(1, usum)] + [(-1, m) for m in months],
                                f"{where} {u}: Summa = Σ månaderna"))
                unit_sums.append(usum)
        for month in MONTHS:
            tot: Key = ("mtot", period, table.id, month)
            units = [u for u in table.units
                     if present(("cell", period, u, table.id, series, month))]
            if present(tot) and units:
                rels.append(_eq([(1, tot)] + [(-1, ("cell", period, u, table.id, series, month))
                                              for u in units],
                                f"{where} {month}: Totalt = Σ enheterna"))
        grand = ("mtot", period, table.id, "summa")
        if present(grand) and unit_sums:
            rels.append(_eq([(1, grand)] + [(-1, s) for s in unit_sums],
                            f"{where}: Totalt Summa = Σ enheternas Summa"))
        totals = [("mtot", period, table.id, m) for m in MONTHS
                  if present(("mtot", period, table.id, m))]
        if present(grand) and totals:
            rels.append(_eq([(1, grand)] + [(-1, t) for t in totals],
                            f"{where}: Totalt Summa = Σ månaderna"))
    elif table.kind == "enkat":
        answers = [u for u in table.units if present(k(u, "svar", "antal"))]
        total = ("ttotal", period, table.id, "svar")
        if present(total) and answers:
            rels.append(_eq([(1, total)] + [(-1, k(u, "svar", "antal")) for u in answers],
                            f"{where}: antal svar = Σ enheterna"))
        for r in table.rows:
            s = known(("sshare", period, table.id, r.id))
            units = [u for u in answers if present(k(u, r.id, "andel"))]
            shares = [known(k(u, r.id, "andel")) for u in units]
            if s is None or not units or any(a is None for a in shares):
                # a hidden unit share makes the relation non-linear: left out (the attacker knows
                # less)
                continue
            rels += _ratio([(a, k(u, "svar", "antal")) for a, u in zip(shares, units, strict=True)],
                           [(1.0, k(u, "svar", "antal")) for u in units], s,
                           f"{where} {r.id}: Samtliga {s:.6g} = Σ andel·svar / Σ svar")


# ---- the linear programs -------------------------------------------------------------------------
@dataclass
class Narrowed:
    key: Key
    where: list[str]
    low: float | None
    high: float | None
    why: list[str]

    def __str__(self) -> str:
        span = "infeasible" if self.low is None else f"[{self.low:.4g}, {self.high:.4g}]"
        return (f"{describe(self.key)} at {', '.join(self.where[:4])}"
                f"{' …' if len(self.where) > 4 else ''}: "
                f"narrowed to {span}; via: " + "; ".join(self.why[:6]))


@dataclass
class AuditResult:
    small_cells: int = 0
    cover_cells: int = 0
    small_keys: int = 0
    cover_keys: int = 0
    relations: int = 0
    variables: int = 0
    programs: int = 0
    shown: list[str] = field(default_factory=list)        # a "<5" key shown as a number elsewhere
    narrowed: list[Narrowed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.shown or self.narrowed or self.problems)

    def report(self, limit: int = 40) -> str:
        lines = [f"audit: {self.small_cells} '<' cells ({self.small_keys} quantities), "
                 f"{self.cover_cells} '..' cells ({self.cover_keys} quantities), "
                 f"{self.relations} relations, {self.variables} unknowns, "
                 f"{self.programs} linear programs, {self.seconds:.2f} s"]
        lines += [f"SHOWN: {s}" for s in self.shown[:limit]]
        lines += [f"NARROWED: {n}" for n in self.narrowed[:limit]]
        lines += [f"PROBLEM: {p}" for p in self.problems[:limit]]
        more = len(self.shown) + len(self.narrowed) + len(self.problems) - 3 * limit
        if more > 0:
            lines.append(f"… and up to {more} more")
        return "\n".join(lines)


def describe(key: Key) -> str:
    return "[" + " ".join(str(part) for part in key) + "]"


def _bounds(pub: Publication, key: Key) -> tuple[float, float | None]:
    below = pub.small_bound(key)
    if below is not None:
        return 1.0, float(below)
    return 0.0, (1.0 if is_share(pub.catalog, key) else None)


def audit(pub: Publication, relations: list[Relation] | None = None,
          integer: bool = False) -> AuditResult:
    """For every "<N" quantity: the least and greatest value the published files allow (with
    `integer`, counts are whole numbers: a mixed-integer program, a stronger attacker)."""
    started = time.perf_counter()
    rels = build_relations(pub) if relations is None else relations
    result = AuditResult(relations=len(rels), problems=list(pub.problems))
    for key, sights in pub.sights.items():
        small = [s for s in sights if s.mark == SMALL]
        cover = [s for s in sights if s.mark == COVER]
        result.small_cells += len(small)
        result.cover_cells += len(cover)
        result.small_keys += bool(small)
        result.cover_keys += bool(cover) and not small
        shown = [s for s in sights if s.value is not None]
        if small and shown:
            result.shown.append(f"{describe(key)} is '<{pub.limit}' at {small[0].where} but "
                                f"{shown[0].value:g} at {shown[0].where}")
    unknown: dict[Key, int] = {}
    rows: list[tuple[list[tuple[float, int]], float, float, Relation]] = []
    for rel in rels:
        const, terms = 0.0, []
        for coef, key in rel.terms:
            value = pub.known(key)
            if value is not None:
                const += coef * value
            else:
                terms.append((coef, unknown.setdefault(key, len(unknown))))
        lo, hi = rel.lo - const, rel.hi - const
        if not terms:
            if lo > 1e-6 * max(1.0, abs(const)) or hi < -1e-6 * max(1.0, abs(const)):
                result.problems.append(f"published figures break a relation: {rel.why} "
                                       f"(off by {-const if hi < 0 else lo:g})")
            continue
        rows.append((terms, lo, hi, rel))
    result.variables = len(unknown)
    # Components of unknowns that share a relation: each is a program of its own.
    parent = list(range(len(unknown)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for terms, _, _, _ in rows:
        first = find(terms[0][1])
        for _, j in terms[1:]:
            parent[find(j)] = first
    keys = list(unknown)
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        members[find(i)].append(i)
    by_root: dict[int, list[tuple[list[tuple[float, int]], float, float, Relation]]] = (
        defaultdict(list))
    for row in rows:
        by_root[find(row[0][0][1])].append(row)
    targets = [k for k in pub.sights if pub.small_bound(k) is not None and pub.known(k) is None]
    for key in targets:
        if key not in unknown:  # in no relation: only its label bounds it
            if pub.small_bound(key) != pub.limit - 1:
                result.narrowed.append(Narrowed(key, [s.where for s in pub.marks(key)], 1.0,
                                                float(pub.small_bound(key) or 0), ["its label"]))
            continue
        root = find(unknown[key])
        index = {j: n for n, j in enumerate(members[root])}
        low, high, status = _solve(pub, keys, index, by_root[root], index[unknown[key]], integer)
        result.programs += 2
        want_high = float(pub.small_bound(key) or 0)
        limit_high = float(pub.limit - 1)
        exact = (status == "ok" and low is not None and high is not None and abs(low - 1) <= TOL
                 and abs(high - limit_high) <= TOL and want_high == limit_high)
        if not exact:
            why = [r[3].why for r in by_root[root] if any(j == unknown[key] for _, j in r[0])]
            result.narrowed.append(Narrowed(key, [s.where for s in pub.marks(key)], low, high,
                                            why or [status]))
    result.seconds = time.perf_counter() - started
    return result


def _solve(pub: Publication, keys: list[Key], index: dict[int, int],
           rows: list[tuple[list[tuple[float, int]], float, float, Relation]],
           target: int, integer: bool = False) -> tuple[float | None, float | None, str]:
    n = len(index)
    a_ub: list[np.ndarray] = []
    b_ub: list[float] = []
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    for terms, lo, hi, _ in rows:
        vec = np.zeros(n)
        for coef, j in terms:
            vec[index[j]] += coef
        if lo == hi:
            a_eq.append(vec)
            b_eq.append(lo)
            continue
        if np.isfinite(hi):
            a_ub.append(vec)
            b_ub.append(hi)
        if np.isfinite(lo):
            a_ub.append(-vec)
            b_ub.append(-lo)
    order = sorted(index, key=lambda j: index[j])
    bounds = [_bounds(pub, keys[j]) for j in order]
    whole = np.array([1 if integer and pub.is_count(keys[j]) else 0 for j in order])
    found: list[float | None] = []
    for sign in (1.0, -1.0):
        cost = np.zeros(n)
        cost[target] = sign
        res = linprog(cost, A_ub=np.array(a_ub) if a_ub else None,
                      b_ub=np.array(b_ub) if b_ub else None,
                      A_eq=np.array(a_eq) if a_eq else None, b_eq=np.array(b_eq) if b_eq else None,
                      bounds=bounds, method="highs", integrality=whole if integer else None)
        if res.status != 0:
            return None, None, f"linear program status {res.status}: {res.message}"
        found.append(sign * res.fun)
    return found[0], found[1], "ok"


def violated(relations: list[Relation], pub: Publication, truth: Mapping[Key, float]) -> list[str]:
    """Relations the true figures break (the audit's model of the files would then be wrong)."""
    broken = []
    for rel in relations:
        total = 0.0
        missing = False
        for coef, key in rel.terms:
            value = pub.known(key)
            if value is None:
                value = truth.get(key)
            if value is None:
                missing = True
                break
            total += coef * value
        if missing:
            continue
        if (total < rel.lo - 1e-6 * max(1.0, abs(total))
                or total > rel.hi + 1e-6 * max(1.0, abs(total))):
            broken.append(f"{rel.why}: {total:g} not in [{rel.lo:g}, {rel.hi:g}]")
    return broken


def truth_of(pub: Publication) -> dict[Key, float]:
    """Every figure an unmasked publication shows."""
    return {k: v for k in pub.sights if (v := pub.known(k)) is not None}


def audit_files(master: Path, catalog: Catalog,
                export: Path | None = None) -> tuple[Publication, AuditResult]:
    pub = read_files(master, catalog, export)
    return pub, audit(pub)


# ---- what must never show in clear ---------------------------------------------------------------
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.,\-−])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)"
                             r"([.,]\d+)?(?!\w)")
_STRUCTURAL = re.compile(r"\d{4}-T[123]|\b[A-Z]{1,3}\d+\b|\b\d{4}-\d{2}-\d{2}\b")


def small_tokens(text: str, limit: int) -> list[str]:
    """Whole numbers 1 … limit − 1 standing alone in a text: not part of a period, a cell reference,
    a date, a word, a decimal number or a number with Swedish thousands separators ("1 931")."""
    plain = _STRUCTURAL.sub(" ", text)
    found = []
    for whole, decimals in _NUMBER_IN_TEXT.findall(plain):
        value = int(re.sub(r"\D", "", whole))
        if not decimals and 1 <= value <= limit - 1:
            found.append(whole)
    return found


def clear_leaks(masked: Publication, truth: Mapping[Key, float]) -> list[str]:
    """Every count 1 … limit − 1 that the unmasked files show must be hidden wherever the masked
    files show its quantity, and be labelled "<limit"; free texts must carry no figures."""
    limit = masked.limit
    leaks: list[str] = []
    for key, value in truth.items():
        if not masked.is_count(key) or not (1 <= value <= limit - 1):
            continue
        for sight in masked.sights.get(key, ()):
            if sight.value is not None:
                leaks.append(f"{describe(key)} = {value:g} shown at {sight.where}")
    for key, sights in masked.sights.items():
        for sight in sights:
            if (sight.value is not None and masked.is_count(key) and 1 <= sight.value <= limit - 1
                    and key not in truth):
                leaks.append(f"{describe(key)}: the count {sight.value:g} is shown at "
                             f"{sight.where}")
            if sight.mark == SMALL and key in truth and not (1 <= truth[key] <= (sight.below or 0)):
                leaks.append(f"{describe(key)} is {truth[key]:g} but labelled '<{limit}' at "
                             f"{sight.where}")
    leaks += free_text_leaks(masked)
    return leaks


def free_text_leaks(masked: Publication) -> list[str]:
    limit = masked.limit
    leaks = []
    for kind, where, text in masked.texts:
        if re.search(r"\d", text):  # what units wrote can hold a count: no digit may pass
            leaks.append(f"{kind} with digits at {where}: {text!r}")
    for where, text in masked.comments:
        if small_tokens(text, limit):
            leaks.append(f"comment with a small number at {where}: {text!r}")
    for entry in masked.log:
        rule = str(entry.get("Regel") or "")
        for col in ("Värde", "Förväntat"):
            if re.search(r"\d", str(entry.get(col) or "")):
                leaks.append(f"Valideringslogg {col} shows a value at {entry['where']}: "
                             f"{entry.get(col)!r}")
        message = str(entry.get("Meddelande") or "").replace(rule, "")
        if small_tokens(message, limit):
            leaks.append(f"Valideringslogg message quotes a small number at {entry['where']}: "
                         f"{message!r}")
    for line in json.loads(masked.meta.get("kontrollera") or "[]"):  # the mail's values to check
        if small_tokens(line, limit):
            leaks.append(f"_meta kontrollera quotes a small number: {line!r}")
    moves = masked.meta.get("forandringar")
    if moves:
        for move in json.loads(moves):
            ind = move.get("indicator_id", "")
            for period in re.findall(r"\((\d{4}-T[123])\)", str(move.get("text"))):
                if masked.marks(("board", ind, period)):
                    leaks.append(f"_meta forandringar describes {ind} {period}, which the sheets "
                                 f"hide: {move.get('text')!r}")
            indicator = _indicator(masked.catalog, ind)
            if (indicator is not None and indicator.kind in _COUNT_KINDS
                    and small_tokens(str(move.get("text")), limit)):
                leaks.append(f"_meta forandringar quotes a small count: {move.get('text')!r}")
    for (ind, period), (where, status, trend) in masked.status.items():
        if masked.marks(("board", ind, period)) and ("Grå" not in status
                                                     or not trend.startswith("–")):
            leaks.append(f"status/trend judged on a hidden figure at {where}: {status!r} {trend!r}")
    shown = {round(v, 9) for v in masked.diagram_numbers}
    for where, value in masked.chart_numbers:
        if round(value, 9) not in shown:
            leaks.append(f"chart cache {where} holds {value:g}, which _diagramdata does not show")
    return leaks
