"""Build the catalog's dataclasses from its TOML entries; every problem names the entry, key and
line."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import replace
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .catalog import (
    _BAD_SHEET_CHARS,
    _KOLADA,
    COMBINE,
    DIRECTIONS,
    FREQUENCIES,
    KINDS,
    PERCENT_KINDS,
    RESERVED_ROWS,
    RESERVED_SHEETS,
    SHARE_KINDS,
    TABLE_KINDS,
    Board,
    Catalog,
    Indicator,
    Origin,
    Settings,
    Table,
    TableRow,
    Unit,
    slug,
)
from .catalog_compare import comparison_spec
from .catalog_entry import (
    _KEYS,
    _Entry,
    _Lines,
    baselines_of,
    check_merges,
    check_reporting,
    check_years,
    former_names,
    range_of,
    span_of,
    targets_of,
)
from .deadlines import DeadlineError, Deadlines, parse_deadlines
from .errors import CatalogError, PeriodError, os_reason
from .periods import parse_period

# The example catalog that ships with consolidate (schemas/ in the repository, package data when
# installed).
DEFAULT_CATALOG: Traversable = files("consolidate.schemas").joinpath("katalog.toml")


def build(data: dict[str, Any], lines: _Lines | None = None) -> Catalog:
    top = _Entry("filens början", data, lines)
    top.only(_KEYS[""])
    if top.integer("version", 1) != 1:
        raise top.fail("version", "den här versionen av programmet läser katalogversion 1.")
    board_entry = _Entry("[namnd]", data.get("namnd"), lines, "namnd")
    board_entry.only(_KEYS["namnd"])
    board = Board(
        id=board_entry.ident(),
        name=board_entry.text("namn"),
        municipality=board_entry.text("kommun"),
        administration=board_entry.text("forvaltning", "Socialförvaltningen"),
        contact=board_entry.email("kontakt"),
    )
    settings = _settings(_Entry("[installningar]", data.get("installningar", {}), lines,
                                "installningar"))
    settings = replace(settings, deadlines=_deadlines(data, lines))

    units, unit_entries = _entries(data, "enhet", lines, _unit)
    if not units:
        raise CatalogError("Katalogen har inga enheter ([[enhet]]).")
    _unique([u.id for u in units], unit_entries, "id")
    check_merges(units, unit_entries)
    known = {u.id for u in units}
    indicators, ind_entries = _entries(data, "indikator", lines, lambda e: _indicator(e, known))
    _unique([i.id for i in indicators], ind_entries, "id")
    tables, table_entries = _entries(data, "tabell", lines, lambda e: _table(e, known))
    _unique([t.id for t in tables], table_entries, "id")
    _unique_sheets(tables, table_entries)
    check_reporting(units, indicators, ind_entries, "indikatorn")
    check_reporting(units, tables, table_entries, "tabellen")
    fingerprint = _fingerprint(units, indicators, tables)
    return Catalog(board, settings, units, indicators, tables, fingerprint,
                   comparison=comparison_spec(data, lines, indicators, ind_entries))


def _settings(entry: _Entry) -> Settings:
    entry.only(_KEYS["installningar"])
    text = entry.text("exempelperiod", "2025-T2")
    try:
        example = str(parse_period(text))
    except PeriodError as exc:
        raise entry.fail("exempelperiod", str(exc)) from None
    limit = entry.integer("roj_grans", 5)
    if limit < 2:
        raise entry.fail("roj_grans", "ska vara minst 2.")
    jump = entry.number("hopp_varning", 0.5)
    if jump <= 0:
        raise entry.fail("hopp_varning", "ska vara större än 0, t.ex. 0.5 (= 50 %).")
    return Settings(example_period=example, suppression_limit=limit, jump_warning=jump,
                    mask_mail=entry.flag("maskera_utskick"))


def _deadlines(data: dict[str, Any], lines: _Lines | None) -> Deadlines:
    try:
        return parse_deadlines(data.get("inlamning"))
    except DeadlineError as exc:
        entry = _Entry("[inlamning]", {}, lines, "inlamning")
        raise entry.fail(exc.key, exc.problem) from None


def _entries(data: dict[str, Any], section: str, lines: _Lines | None,
             make: Any) -> tuple[tuple[Any, ...], list[_Entry]]:
    value = data.get(section, [])
    if not isinstance(value, list):
        raise CatalogError(f"Katalogen: '{section}' ska skrivas som [[{section}]]-block.")
    # Line numbers only when every entry has its own [[section]] header (not an inline array).
    usable = lines if lines is not None and lines.counts.get(section, 0) == len(value) else None
    items: list[Any] = []
    entries: list[_Entry] = []
    for index, raw in enumerate(value):
        entry = _Entry(f"[[{section}]] nr {index + 1}", raw, usable, section, index)
        ident = entry.ident()
        entry.where = f"[[{section}]] '{ident}'"
        entry.only(_KEYS[section])
        items.append(make(entry))
        entries.append(entry)
    return tuple(items), entries


def _unique(values: list[str], entries: list[_Entry], key: str) -> None:
    seen: dict[str, _Entry] = {}
    for value, entry in zip(values, entries, strict=True):
        first = seen.get(value)
        if first is not None:
            line = first.line
            at = f" (rad {line})" if line else ""
            raise entry.fail(key, f"samma {key} som {first.where}{at}; "
                                  f"{'ett id' if key == 'id' else 'en flik'} får bara "
                                  f"förekomma en gång.")
        seen[value] = entry


def _unique_sheets(tables: tuple[Table, ...], entries: list[_Entry]) -> None:
    """One sheet per name in a template: two tables may share a sheet name only when their spans
    do not overlap (a table whose rows change is ended and followed by a new one, on the same
    sheet)."""
    for index, (table, entry) in enumerate(zip(tables, entries, strict=True)):
        for other, first in zip(tables[:index], entries[:index], strict=True):
            if other.sheet.casefold() == table.sheet.casefold() and other.span.overlaps(table.span):
                line = first.line
                at = f" (rad {line})" if line else ""
                raise entry.fail("flik", f"samma flik som {first.where}{at} under samma perioder; "
                                         "en flik får bara förekomma en gång per period (ge den "
                                         "ena tabellen till och den andra fran).")


def _unit(entry: _Entry) -> Unit:
    successor = entry.ident("ersatts_av") if "ersatts_av" in entry.data else None
    return Unit(entry.ident(), entry.text("namn"), entry.email("epost"), span_of(entry), successor)


def _units_of(entry: _Entry, known: set[str]) -> tuple[str, ...]:
    units = entry.text_list("enheter")
    for unit in units:
        if unit not in known:
            raise entry.fail("enheter", f"okänd enhet '{unit}' (finns inte bland [[enhet]]: "
                                        f"{', '.join(sorted(known))}).")
    if len(set(units)) != len(units):
        raise entry.fail("enheter", "samma enhet står två gånger.")
    return tuple(units)


def _indicator(entry: _Entry, known: set[str]) -> Indicator:
    ind_id = entry.ident()
    span = span_of(entry)
    kind = entry.choice("typ", KINDS)
    share = kind in SHARE_KINDS
    scale = 0.01 if kind in PERCENT_KINDS else 1.0
    if not share:
        for key in ("taljare", "namnare"):
            if key in entry.data:
                raise entry.fail(key, f"gäller bara andelar (typ andel eller beläggningsgrad), "
                                      f"inte typ '{kind}'.")
    combine = entry.choice("sammanvagning", COMBINE)
    if share and combine != "kvot":
        raise entry.fail(
            "sammanvagning",
            "en andel vägs samman som kvot (täljare och nämnare summeras), aldrig som medel "
            "av procenttal; skriv sammanvagning = \"kvot\".",
        )
    if not share and combine == "kvot":
        raise entry.fail("sammanvagning", f"kvot gäller bara andelar, inte typ '{kind}'.")
    if kind == "procent" and combine == "summa":
        raise entry.fail("sammanvagning", "procenttal kan inte summeras; använd medel, eller typ "
                                          "andel med täljare och nämnare.")
    low, high = range_of(entry, kind in PERCENT_KINDS)
    targets, target_year = targets_of(entry, span)
    baselines = baselines_of(entry, span)
    for key, pairs in (("nulage", [(y, v) for y, v, _ in baselines]), ("borlage", targets)):
        for year, value in pairs:
            if not low <= value <= high:
                at = f"{key}.{year}" if isinstance(entry.data.get(key), dict) else key
                raise entry.fail(at, f"{_sv(value)} ligger utanför rimligt intervall "
                                     f"[{_sv(low)}, {_sv(high)}] (nyckeln rimligt).")
    target_text = entry.opt_text("borlage_text")
    if not targets and target_text is None:
        raise entry.fail("borlage",
                         "saknas (ange borlage, eller borlage_text om målet är en text).")
    outcomes_raw = entry.data.get("utfall", {})
    if not isinstance(outcomes_raw, dict):
        raise entry.fail("utfall", "ska skrivas som { \"2023\" = 1931 }.")
    outcomes: list[tuple[str, float]] = []
    for year, value in sorted(outcomes_raw.items()):
        if not re.fullmatch(r"\d{4}", str(year)):
            raise entry.fail(f"utfall.{year}",
                             "ska vara ett årtal med fyra siffror, t.ex. \"2023\".")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise entry.fail(f"utfall.{year}", "ska vara ett tal.")
        outcomes.append((str(year), float(value) * scale))
    check_years(entry, span, "utfall", [int(y) for y, _ in outcomes], "utfallet")
    kolada = entry.opt_text("kolada")
    if kolada is not None and not _KOLADA.match(kolada):
        raise entry.fail("kolada", f"{kolada!r}: ett Kolada-id är en bokstav och fem siffror, "
                                   f"t.ex. N33100.")
    default_decimals = {"antal": 0, "dygn": 0, "årsarbetare": 1, "mnkr": 1}.get(kind, 0)
    decimals = entry.integer("decimaler", default_decimals)
    if not 0 <= decimals <= 4:
        raise entry.fail("decimaler", "ska vara 0–4.")
    tolerance = entry.number("tolerans", 0)
    if tolerance < 0:
        raise entry.fail("tolerans", "får inte vara negativ.")
    return Indicator(
        id=ind_id,
        section=entry.text("avsnitt"),
        goal_area=entry.text("malomrade"),
        name=entry.text("namn"),
        kind=kind,
        units=_units_of(entry, known),
        combine=combine,
        baseline=baselines[0][1] * scale,
        baseline_date=baselines[0][2],
        target=targets[0][1] * scale if targets else None,
        target_text=target_text,
        target_year=targets[0][0] if targets else target_year,
        frequency=entry.choice("uppfoljning", FREQUENCIES),
        direction=entry.choice("riktning", DIRECTIONS),
        plausible=(low * scale, high * scale),
        tolerance=tolerance * scale,
        decimals=decimals,
        numerator_label=entry.text("taljare") if share else None,
        denominator_label=entry.text("namnare") if share else None,
        outcomes=tuple(outcomes),
        note=entry.opt_text("anmarkning"),
        kolada=kolada,
        span=span,
        targets=tuple((y, v * scale) for y, v in targets),
        baselines=tuple((y, v * scale, d) for y, v, d in baselines) if len(baselines) > 1 else (),
        former_names=former_names(entry, span),
    )


def _table(entry: _Entry, known: set[str]) -> Table:
    table_id = entry.ident()
    kind = entry.choice("typ", TABLE_KINDS)
    sheet = entry.text("flik")
    if (len(sheet) > 31 or set(sheet) & _BAD_SHEET_CHARS or sheet.startswith(("_", "'"))
            or sheet.endswith("'")):
        raise entry.fail("flik", "ett fliknamn får ha högst 31 tecken, inte innehålla "
                                 "[ ] : * ? / \\ och inte börja med _ eller '.")
    if sheet.casefold() in {s.casefold() for s in RESERVED_SHEETS}:
        raise entry.fail("flik", f"'{sheet}' är upptaget av mallen; välj ett annat namn än "
                                 f"{', '.join(RESERVED_SHEETS)}.")
    for key, kinds in (("andel", ("fordelning",)), ("total", ("varav",)),
                       ("fullstandig", ("varav",))):
        if key in entry.data and kind not in kinds:
            raise entry.fail(key, f"gäller bara tabeller av typ {' eller '.join(kinds)}, "
                                  f"inte '{kind}'.")
    labels = entry.text_list("rader")
    rows = tuple(TableRow(slug(label), label) for label in labels)
    reserved = RESERVED_ROWS.get(kind)
    seen: dict[str, str] = {}
    for row in rows:
        if row.id == reserved:
            raise entry.fail("rader", f"raden '{row.label}' krockar med tabellens egen rad "
                                      f"({reserved.upper() if reserved == 'summa' else reserved}); "
                                      f"byt namn på den.")
        if row.id in seen:
            raise entry.fail("rader", f"raderna '{seen[row.id]}' och '{row.label}' blir samma rad "
                                      f"('{row.id}'); skriv dem olika.")
        seen[row.id] = row.label
    return Table(
        id=table_id,
        kind=kind,
        sheet=sheet,
        title=entry.text("rubrik"),
        description=entry.text("beskrivning", "-"),
        units=_units_of(entry, known),
        rows=rows,
        count_label=entry.text("antal_rubrik", "Antal"),
        with_share=entry.flag("andel"),
        total_label=entry.text("total") if kind == "varav" else None,
        complete=entry.flag("fullstandig"),
        span=span_of(entry),
    )


def _fingerprint(units: tuple[Unit, ...], indicators: tuple[Indicator, ...],
                 tables: tuple[Table, ...]) -> str:
    """The shape of the whole catalog over time; edits of texts or targets leave it alone. A
    returned template is compared with `Catalog.template_fingerprint` of its own unit and period
    instead."""
    shape: dict[str, Any] = {
        "indikatorer": [[i.id, i.kind, list(i.units), i.frequency] for i in indicators],
        "tabeller": [
            [t.id, t.kind, t.sheet, list(t.units), [r.id for r in t.rows], t.with_share]
            for t in tables
        ],
    }
    spans = [[kind, e.id, str(e.span.start or ""), str(e.span.end or "")]
             for kind, items in (("e", units), ("i", indicators), ("t", tables)) for e in items
             if not e.span.always]
    spans += [["ersatts", u.id, u.successor] for u in units if u.successor]
    if spans:  # a catalog without a time axis keeps the fingerprint it always had
        shape["tid"] = spans
    blob = json.dumps(shape, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _sv(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def load_catalog(path: Path | str | None = None, origin: Origin | None = None) -> Catalog:
    """Load and check the catalog (without a path: the bundled example); raise CatalogError with a
    Swedish message naming the entry."""
    source: Path | Traversable = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"Katalogen {source} kan inte läsas: {os_reason(exc)}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogError(f"Katalogen {source} är inte sparad som UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(_syntax_message(source, str(exc))) from None
    catalog = build(data, _Lines(text))
    return Catalog(
        board=catalog.board,
        settings=catalog.settings,
        units=catalog.units,
        indicators=catalog.indicators,
        tables=catalog.tables,
        fingerprint=catalog.fingerprint,
        comparison=catalog.comparison,
        path=str(source),
        origin=origin or (Origin.OPTION if path is not None else Origin.BUNDLED),
    )


def _syntax_message(source: Path | Traversable, detail: str) -> str:
    """tomllib's message is English; say where in Swedish and keep its detail for the curious."""
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)", detail)
    if match:
        where = f"på rad {match.group(1)}, tecken {match.group(2)}"
        detail = detail[: match.start()] + detail[match.end():]
    elif "(at end of document)" in detail:
        where = "i slutet av filen"
        detail = detail.replace(" (at end of document)", "")
    else:
        where = "någonstans"
    return (f"Katalogen {source} har ett skrivfel {where} (TOML: {detail}). Vanliga orsaker: ett "
            "citattecken eller en hakparentes som saknas, decimalkomma i stället för punkt, eller "
            "å, ä, ö i ett nyckelnamn.")
