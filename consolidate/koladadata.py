"""What a comparison file holds: Kolada's values per key figure, municipality and year."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .findings import finding
from .model import Finding

KPI = re.compile(r"\b([A-Z]\d{5})\b")
PLACE = re.compile(r"^(\d{4}|G\d{1,9})$")
_YEAR = re.compile(r"^(19|20)\d\d$")
API_FORMAT = "Koladas API-svar (JSON)"
CSV_FORMAT = "CSV-export från Koladas webbverktyg"


@dataclass
class KoladaData:
    """What a comparison file holds: values of gender T per (kpi, municipality, year)."""

    source: str                                   # the file's name, as findings name it
    format: str = API_FORMAT
    values: dict[tuple[str, str, int], float] = field(default_factory=dict)
    counts: dict[tuple[str, str, int], int] = field(default_factory=dict)  # a group's members
    seen: set[tuple[str, str]] = field(default_factory=set)  # (kpi, municipality) with any row
    example: bool = False                         # constructed example data, not Kolada's
    note: str = ""
    fetched: str = ""                             # when consolidate fetched it (its cache)
    findings: list[Finding] = field(default_factory=list)

    @property
    def kpis(self) -> set[str]:
        return {kpi for kpi, _ in self.seen}

    @property
    def places(self) -> set[str]:
        return {place for _, place in self.seen}

    def add(self, kpi: str, place: str, year: int, value: float | None, count: int = 1) -> None:
        self.seen.add((kpi, place))
        if value is not None:
            self.values[(kpi, place, year)] = value
            self.counts[(kpi, place, year)] = count


def unusable(source: str, why: str) -> Finding:
    return finding("jamforelse_fil", source, file_name=source, why=why)


def year_of(period: Any) -> int | None:
    text = str(period).strip() if isinstance(period, int | str) else ""
    return int(text) if _YEAR.match(text) else None


def bad_rows(data: KoladaData, bad: list[str], total: int, what: tuple[str, str]) -> None:
    """Say what could not be read: the whole file, or how many of its rows (`what`: the word for
    one and for several, e.g. ("rad", "rader"))."""
    if not bad:
        if not data.seen and not any(f.code == "jamforelse_fil" for f in data.findings):
            data.findings.append(unusable(data.source, "den innehåller inga värden"))
        return
    if len(bad) == total:
        data.findings.append(unusable(data.source, f"ingen av dess {what[1]} kan läsas ({bad[0]})"))
        return
    data.findings.append(finding("jamforelse_rader", data.source, file_name=data.source,
                                 count=len(bad), what=what[len(bad) > 1],
                                 example=bad[0]))
