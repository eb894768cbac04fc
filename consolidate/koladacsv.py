"""Kolada's values from a CSV table, as the web tool exports them or as a controller saves them.

Kolada documents no fixed CSV layout, so the columns are found by their headings, not by their
place: a long table (Nyckeltal; Kommun; År; Kön; Värde) or a wide one with a column per year
(Nyckeltal; Kommun; 2022; 2023). Semicolon, tab or comma; decimal comma or point; UTF-8 or
Windows-1252. A key figure is found by its id (N33100), also inside a title ("Kostnad … (N33100)");
a municipality by its four-digit id, a group by its G-id, or by a name the caller knows (Riket,
the board's own municipality)."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping

from .koladadata import KPI, PLACE, KoladaData, bad_rows, unusable, year_of

_COLUMNS = {
    "kpi": {"kpi", "kpi_id", "kpi-id", "nyckeltal", "nyckeltals-id", "nyckeltalsid", "nyckeltal id",
            "id"},
    "place": {"municipality", "municipality_id", "kommun", "kommun-id", "kommunid", "kommun id",
              "kommunkod", "kommun/landsting", "kommun/region", "region", "område", "omrade",
              "organisation", "kommun/grupp"},
    "year": {"period", "år", "ar", "year"},
    "gender": {"gender", "kön", "kon"},
    "value": {"value", "värde", "varde", "visat värde", "visat varde"},
}
_TOTAL = {"", "t", "totalt", "total", "alla", "båda könen", "kvinnor och män"}
_MISSING = {"", "..", ".", "-", "–", "x"}
_EMBEDDEDPLACE = re.compile(r"\((\d{4}|G\d{1,9})\)|^(\d{4})\s")


def read_csv(text: str, data: KoladaData, names: Mapping[str, str]) -> None:
    lines = text.splitlines()
    delimiter = _delimiter(lines[:10])
    rows = list(csv.reader(lines, delimiter=delimiter))
    head_at, cols, years = _header(rows)
    if head_at is None or "kpi" not in cols or "place" not in cols:
        data.findings.append(unusable(data.source, "ingen rubrikrad med kolumner för nyckeltal och "
                                                   "kommun (t.ex. Nyckeltal;Kommun;År;Värde) "
                                                   "hittades, så det är inte Koladas data"))
        return
    if not years and not ("year" in cols and "value" in cols):
        data.findings.append(unusable(data.source, "rubrikraden har varken kolumnerna År och Värde "
                                                   "eller en kolumn per år"))
        return
    bad: list[str] = []
    titles: list[str] = []
    used = 0
    for number, row in enumerate(rows[head_at + 1:], start=head_at + 2):
        if not any(cell.strip() for cell in row):
            continue
        used += 1
        problem = _row(row, cols, years, data, names, titles)
        if problem:
            bad.append(f"rad {number}: {problem}")
    if titles and not data.seen:
        data.findings.append(unusable(data.source, "nyckeltalen anges med namn utan Kolada-id "
                                                   f"(t.ex. \"{titles[0]}\"); exportera med "
                                                   "nyckeltalens id, eller hämta med --hamta"))
        return
    bad_rows(data, bad, used, ("rad", "rader"))


def _delimiter(lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in lines) for d in (";", "\t", ",")}
    return max(counts, key=lambda d: (counts[d], d == ";"))


def _header(rows: list[list[str]]) -> tuple[int | None, dict[str, list[int]], dict[int, int]]:
    """The first row naming a key figure column and a municipality column, within the first ten
    (an export can start with a title line); its columns by meaning, and its year columns."""
    for index, row in enumerate(rows[:10]):
        cols: dict[str, list[int]] = {}
        years: dict[int, int] = {}
        for col, cell in enumerate(row):
            heading = cell.strip().strip('"').casefold()
            year = year_of(heading)
            if year is not None:
                years[col] = year
                continue
            for meaning, names in _COLUMNS.items():
                if heading in names:
                    cols.setdefault(meaning, []).append(col)
        if "kpi" in cols and "place" in cols:
            return index, cols, years
    return None, {}, {}


def _row(row: list[str], cols: dict[str, list[int]], years: dict[int, int], data: KoladaData,
         names: Mapping[str, str], titles: list[str]) -> str:
    def cell(col: int) -> str:
        return row[col].strip() if col < len(row) else ""

    kpi = next((m.group(1) for c in cols["kpi"] if (m := KPI.search(cell(c)))), None)
    if kpi is None:
        title = next((cell(c) for c in cols["kpi"] if cell(c)), "")
        if title:
            titles.append(title)
            return f"nyckeltalet \"{title}\" har inget Kolada-id"
        return "nyckeltalet saknas"
    place = next((p for c in cols["place"] if (p := _place(cell(c), names))), None)
    if place is None:
        return ""  # a municipality the board does not compare with (or a name it cannot place)
    if "gender" in cols and cell(cols["gender"][0]).casefold() not in _TOTAL:
        return ""  # women or men: only the total is read
    if years:
        pairs = [(year, cell(col)) for col, year in years.items()]
    else:
        year = year_of(cell(cols["year"][0]))
        if year is None:
            return f"året \"{cell(cols['year'][0])}\" är inget årtal"
        pairs = [(year, cell(cols["value"][0]))]
    for year, text in pairs:
        value, ok = number(text)
        if not ok:
            return f"värdet \"{text}\" är inget tal"
        data.add(kpi, place, year, value)
    return ""


def _place(text: str, names: Mapping[str, str]) -> str | None:
    if PLACE.match(text):
        return text
    match = _EMBEDDEDPLACE.search(text)
    if match:
        return match.group(1) or match.group(2)
    return names.get(text.casefold())


def number(text: str) -> tuple[float | None, bool]:
    """A value as Kolada's exports write it: "4 210,5", "4210.5", ".." or empty for none."""
    plain = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if plain.casefold() in _MISSING:
        return None, True
    if "," in plain and "." in plain:  # the last of the two is the decimal sign: 4.790,5 or 4,790.5
        comma_last = plain.rfind(",") > plain.rfind(".")
        plain = plain.replace(".", "").replace(",", ".") if comma_last else plain.replace(",", "")
    elif "," in plain:
        plain = plain.replace(",", ".")
    try:
        return float(plain), True
    except ValueError:
        return None, False
