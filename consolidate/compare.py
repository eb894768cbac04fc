"""Kolada's figures beside the board's: per indicator with a Kolada id the latest value (up to the
board's year) of the municipality, the country and the similar municipalities.

Figures of a comparison are public statistics, not the units' counts, so they are not masked; they
are added to the board after masking. What is wrong with the file or missing from it becomes a
warning in the board's report, and the board goes on without it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from .boardmodel import Board
from .catalog import Catalog, Indicator
from .compare_spec import COUNTRY
from .comparemodel import Compared, Comparison, Place, RowComparison
from .findings import finding
from .koladadata import KoladaData
from .model import Finding, Report

LAG = 2  # Kolada publishes a year's figures during the next; older than two years is stale


def with_comparison(board: Board, folder: Path, path: Path | None, fetch: bool) -> Board:
    """The board with the comparison from a file (--jamforelse) or fetched from Kolada (--hamta,
    cached in the folder); a failed fetch or an unusable file leaves the board without one."""
    if path is None and not fetch:
        return board
    if fetch:
        from .koladafetch import fetch_kolada

        data, failed = fetch_kolada(board.catalog, board.period, folder)
        if data is None:
            return add_findings(board, failed)
        return add_findings(compare(board, data), failed)
    from .kolada import place_names, read_kolada

    assert path is not None
    return compare(board, read_kolada(path, place_names(board.catalog)))


def add_findings(board: Board, findings: list[Finding]) -> Board:
    report = board.report
    return replace(board, report=Report(report.files, report.findings + tuple(findings),
                                        report.extra))


def columns(catalog: Catalog) -> tuple[tuple[Place, str], ...]:
    spec = catalog.comparison
    return ((((Place.OWN, f"{catalog.board.municipality} i Kolada"),) if spec.municipality else ())
            + ((Place.COUNTRY, "Riket"),)
            + (((Place.SIMILAR, spec.similar_label),) if spec.has_similar else ()))


def compare(board: Board, data: KoladaData) -> Board:
    findings = list(data.findings)
    if any(f.code == "jamforelse_fil" for f in findings):
        return add_findings(board, findings)
    catalog, year = board.catalog, board.period.year
    series: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for (kpi, place, y), value in data.values.items():
        series[(kpi, place)][y] = value
    work = _Work(catalog, data, series, year, findings)
    work.masked = board.masked
    rows = {}
    linked = [r.indicator for r in board.rows if r.indicator.kolada]
    if not linked:
        findings.append(finding("jamforelse_utan_kolada", data.source, file_name=data.source))
    work.absent_places()
    for ind in linked:
        rows[ind.id] = work.row(ind)
    known = {i.kolada for i in catalog.indicators if i.kolada}
    unknown = sorted(data.kpis - known)
    if unknown and linked:
        findings.append(finding("jamforelse_okant_nyckeltal", data.source, file_name=data.source,
                                kpis=", ".join(unknown[:12]) + (" …" if len(unknown) > 12 else "")))
    spec = catalog.comparison
    comparison = Comparison(
        columns=columns(catalog), rows=rows, source=data.source, format=data.format,
        fetched=data.fetched, example=data.example, note=data.note,
        similar_ids=spec.similar, group=spec.group, findings=tuple(findings))
    return add_findings(replace(board, comparison=comparison), findings)


class _Work:
    """One comparison being made: the file's series, the catalog's places, the findings so far."""

    def __init__(self, catalog: Catalog, data: KoladaData,
                 series: dict[tuple[str, str], dict[int, float]], year: int,
                 findings: list[Finding]) -> None:
        self.c, self.data, self.series, self.year = catalog, data, series, year
        self.findings = findings
        spec = catalog.comparison
        self.spec = spec
        self.absent: set[Place] = set()
        self.masked = False

    def _places(self) -> list[tuple[Place, str, tuple[str, ...]]]:
        """(column, its name in messages, the Kolada ids it is made of)."""
        spec = self.spec
        out: list[tuple[Place, str, tuple[str, ...]]] = []
        if spec.municipality:
            out.append((Place.OWN, self.c.board.municipality, (spec.municipality,)))
        out.append((Place.COUNTRY, "Riket", (COUNTRY,)))
        if spec.group:
            out.append((Place.SIMILAR, f"kommungruppen {spec.group}", (spec.group,)))
        elif spec.similar:
            out.append((Place.SIMILAR, spec.similar_label.lower(), spec.similar))
        return out

    def absent_places(self) -> None:
        present = self.data.places
        heads = dict(columns(self.c))
        hints = {Place.OWN: "Kontrollera kommun under [jamforelse] i katalogen, och att filen "
                            "tagits fram för kommunen.",
                 Place.COUNTRY: "Ta med Riket (0000) när filen tas fram.",
                 Place.SIMILAR: "Kontrollera liknande under [jamforelse] i katalogen, och att "
                                "filen tagits fram för dem."}
        for place, name, ids in self._places():
            if not present & set(ids):
                self.absent.add(place)
                self.findings.append(finding(
                    "jamforelse_kommun_saknas", self.data.source, file_name=self.data.source,
                    place=name[:1].upper() + name[1:], place_id=", ".join(ids),
                    column=heads[place], hint=hints[place]))

    def row(self, ind: Indicator) -> RowComparison:
        assert ind.kolada is not None
        link = self.spec.link(ind.id)
        if not link.comparable:
            return RowComparison(ind.id, ind.kolada, link, ())
        if ind.kolada not in self.data.kpis:
            source = self.data.source
            self.findings.append(finding("jamforelse_nyckeltal_saknas", source, kpi=ind.kolada,
                                         label=ind.name, file_name=source))
            return RowComparison(ind.id, ind.kolada, link, ())
        scale = 0.01 if link.unit is None and ind.in_percent else 1.0
        figures = []
        for place, name, ids in self._places():
            if place in self.absent:
                figures.append((place, Compared(None)))
                continue
            found = (self._mean(ind.kolada, ids) if place == Place.SIMILAR and not self.spec.group
                     else self._latest(ind.kolada, ids[0], place == Place.SIMILAR))
            self._check(ind, name, found)
            if found.value is not None:
                found = replace(found, value=found.value * scale)
            figures.append((place, found))
        values = [c.value for _, c in figures if c.value is not None]
        decimals = 0 if all(float(v).is_integer() for v in values) else 1
        return RowComparison(ind.id, ind.kolada, link, tuple(figures), decimals)

    def _latest(self, kpi: str, place: str, group: bool) -> Compared:
        years = [y for y in self.series.get((kpi, place), {}) if y <= self.year]
        if not years:
            return Compared(None)
        year = max(years)
        note = ""
        if group:
            count = self.data.counts.get((kpi, place, year), 0)
            note = f"Koladas ovägda medel för kommungruppen {place}" + (
                f" ({count} kommuner med värde)" if count > 1 and not self.masked else "")
        return Compared(self.series[(kpi, place)][year], year, note)

    def _mean(self, kpi: str, ids: tuple[str, ...]) -> Compared:
        """The unweighted mean of the similar municipalities, for the latest year at least half of
        them have a value for (a mean of one or two of many would say little)."""
        need = (len(ids) + 1) // 2
        years = sorted({y for i in ids for y in self.series.get((kpi, i), {}) if y <= self.year},
                       reverse=True)
        for year in years:
            have = [found[year] for i in ids if year in (found := self.series.get((kpi, i), {}))]
            if len(have) >= need:
                # A masked file shows no small number in a comment, of whatever it counts.
                of = ("de liknande kommuner som har värde" if self.masked
                      else f"{len(have)} av {len(ids)} kommuner")
                return Compared(sum(have) / len(have), year,
                                f"ovägt medel av {of}, räknat av consolidate ur Koladas värden")
        return Compared(None)

    def _check(self, ind: Indicator, name: str, found: Compared) -> None:
        source = self.data.source
        if found.year is None:
            self.findings.append(finding("jamforelse_varde_saknas", source, file_name=source,
                                         kpi=ind.kolada, label=ind.name, place=name,
                                         year=self.year))
        elif found.year < self.year - LAG:
            first, last = found.year + 1, self.year - 1
            missing = f"{first}" if first == last else f"{first}–{last}"
            self.findings.append(finding("jamforelse_gammalt_ar", source, file_name=source,
                                         kpi=ind.kolada, label=ind.name, place=name,
                                         year=found.year, missing=missing))


def summary_lines(board: Board) -> list[str]:
    """What the run says about the comparison: which file, and each problem on its own line."""
    lines = []
    comparison = board.comparison
    if comparison is not None:
        shown = [r for r in comparison.rows.values()
                 if r.shown and any(c.value is not None for _, c in r.figures)]
        what = "indikator" if len(shown) == 1 else "indikatorer"
        lines.append(f"Jämförelse med Kolada: {len(shown)} {what} ur {comparison.source}"
                     + (f" (hämtad {comparison.fetched[:10]})" if comparison.fetched else "")
                     + (" – EXEMPELDATA, inte Koladas värden" if comparison.example else "") + ".")
    lines += [f"Jämförelse: {f.message}" for f in board.report.findings
              if f.code.startswith("jamforelse_")]
    return lines
