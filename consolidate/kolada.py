"""Reading Kolada's key figures from a file: the API's JSON answer (v2 or v3) or the web tool's CSV.

Kolada's data are values per key figure (kpi), municipality (or municipality group) and year,
each split by gender (T = total, K = women, M = men); only T is read. The JSON answer is
{"values": [{"kpi", "municipality", "period", "values": [{"gender", "value", "count", "status"}]}],
"count", "next_page" | "next_url"}, as Kolada documents for v2 and serves in v3, which adds
"isdeleted" to a value. A file of another kind, a partial answer or bad rows become findings; a
run never stops for them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .compare_spec import COUNTRY
from .errors import os_reason
from .koladadata import CSV_FORMAT, KPI, PLACE, KoladaData, bad_rows, unusable, year_of

COUNTRY_NAMES = ("riket", "hela riket", "sverige", "riket totalt")
MAX_BYTES = 50 * 1024 * 1024  # an answer for a board's key figures is a few hundred kB


def place_names(catalog: Catalog) -> dict[str, str]:
    """Names a CSV may give instead of ids: Riket, and the board's municipality."""
    names = {name: COUNTRY for name in COUNTRY_NAMES}
    own = catalog.comparison.municipality
    if own is not None:
        name = catalog.board.municipality.casefold().removesuffix(" kommun")
        names |= {name: own, f"{name} kommun": own}
    return names


def read_kolada(path: Path, names: Mapping[str, str] | None = None) -> KoladaData:
    """Read a comparison file; `names` maps municipality names (lower case) to Kolada ids for a CSV
    that names municipalities instead of giving their ids. Problems are the result's findings."""
    source = path.name
    data = KoladaData(source)
    try:
        if path.stat().st_size > MAX_BYTES:
            data.findings.append(unusable(source, f"filen är större än {MAX_BYTES // 2**20} MB, "
                                                  "långt mer än en nämnds nyckeltal"))
            return data
        raw = path.read_bytes()
    except OSError as exc:
        data.findings.append(unusable(source, f"filen kan inte läsas ({os_reason(exc)})"))
        return data
    kind = _sniff(raw)
    if kind is not None:
        data.findings.append(unusable(source, kind))
        return data
    text = _decode(raw)
    if text.lstrip()[:1] in ("{", "["):
        read_json(text, data)
    else:
        from .koladacsv import read_csv

        data.format = CSV_FORMAT
        read_csv(text, data, names or {})
    return data


def _sniff(raw: bytes) -> str | None:
    """What a file that is no text is, said the way a controller knows it."""
    if not raw.strip():
        return "filen är tom"
    if raw.startswith(b"PK\x03\x04"):
        return ("det är en Excel-arbetsbok eller annan zip-fil; spara Koladas export som CSV, "
                "eller hämta med --hamta")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return "det är en arbetsbok i det gamla Excel-formatet (.xls); spara den som CSV"
    if raw.startswith(b"%PDF"):
        return "det är en PDF; spara Koladas data som CSV eller hämta med --hamta"
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "det är ingen textfil"
    return None


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 as older exports are."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_json(text: str, data: KoladaData) -> None:
    source = data.source
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        data.findings.append(unusable(source, f"det är ingen giltig JSON (rad {exc.lineno}, "
                                              f"tecken {exc.colno})"))
        return
    # Several saved pages in a list, one answer, or the records alone in a list.
    pages = doc if isinstance(doc, list) and doc and all(
        isinstance(p, dict) and "values" in p and "kpi" not in p for p in doc) else [doc]
    records: list[Any] = []
    for page in pages:
        if isinstance(page, list):  # a bare list of data records
            records.extend(page)
            continue
        if not isinstance(page, dict) or not isinstance(page.get("values"), list):
            data.findings.append(unusable(source, "det är inte Koladas svar: värdena ska ligga i "
                                                  "en lista under \"values\""))
            return
        records.extend(page["values"])
        _page_notes(page, data)
    if records and all(isinstance(r, dict) and "kpi" not in r and "title" in r for r in records):
        data.findings.append(unusable(source, "det är Koladas beskrivning av nyckeltal, kommuner "
                                              "eller grupper (metadata), inte värden; hämta "
                                              "värdena från /data/kpi/…"))
        return
    if records and all(isinstance(r, dict) and "ou" in r and "municipality" not in r
                       for r in records):
        data.findings.append(unusable(source, "det är värden för organisatoriska enheter "
                                              "(oudata), inte för kommuner"))
        return
    bad: list[str] = []
    for number, record in enumerate(records, start=1):
        problem = _record(record, data)
        if problem:
            bad.append(f"post {number}: {problem}")
    bad_rows(data, bad, len(records), ("post", "poster"))


def _page_notes(page: dict[str, Any], data: KoladaData) -> None:
    if page.get("next_page") or page.get("next_url"):
        data.findings.append(unusable(data.source, "filen är bara en sida av Koladas svar (den "
                                                   "hänvisar till nästa sida); spara alla sidor, "
                                                   "eller hämta med --hamta"))
    if page.get("exempeldata") is True:
        data.example = True
    if isinstance(page.get("anmarkning"), str):
        data.note = page["anmarkning"].strip()
    if isinstance(page.get("hamtad"), str):
        data.fetched = page["hamtad"].strip()


def _record(record: Any, data: KoladaData) -> str:
    """Take one data record; returns what is wrong with it, or ""."""
    if not isinstance(record, dict):
        return "ingen post med kpi, municipality, period och values"
    kpi, place, period = record.get("kpi"), record.get("municipality"), record.get("period")
    if not isinstance(kpi, str) or not KPI.fullmatch(kpi.strip()):
        return f"nyckeltalet {kpi!r} är inget Kolada-id"
    if not isinstance(place, str) or not PLACE.match(place.strip()):
        return f"kommunen {place!r} är inget Kolada-id"
    year = year_of(period)
    if year is None:
        return f"perioden {period!r} är inget årtal"
    values = record.get("values")
    if not isinstance(values, list):
        return "värdena (values) saknas"
    total = [v for v in values if isinstance(v, dict) and v.get("gender", "T") == "T"
             and not v.get("isdeleted")]
    value: Any = total[0].get("value") if total else None
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"värdet {value!r} är inget tal"
    count = total[0].get("count", 1) if total else 1
    data.add(kpi.strip(), place.strip(), year, None if value is None else float(value),
             count if isinstance(count, int) and not isinstance(count, bool) else 1)
    return ""
