"""The board's catalog (schemas/katalog.toml): load, check and expose it as frozen dataclasses."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from .errors import CatalogError, PeriodError
from .periods import parse_period

# The example board, shipped as package data (mapped from the repository's schemas/, see pyproject.toml).
DEFAULT_CATALOG: Traversable = files("consolidate.schemas").joinpath("katalog.toml")

KINDS = ("antal", "andel", "beläggningsgrad", "årsarbetare", "mnkr", "dygn", "procent")
SHARE_KINDS = ("andel", "beläggningsgrad")
PERCENT_KINDS = SHARE_KINDS + ("procent",)  # written in percent in the catalog, held as fractions
COMBINE = ("summa", "kvot", "medel")
FREQUENCIES = ("tertial", "månatligen", "årsbasis")
DIRECTIONS = ("ökning", "minskning")
TABLE_KINDS = ("fordelning", "enkat", "manad", "varav")
KIND_UNIT = {
    "antal": "st",
    "andel": "%",
    "beläggningsgrad": "%",
    "årsarbetare": "åa",
    "mnkr": "mnkr",
    "dygn": "dygn",
    "procent": "%",
}
# Sheets every unit template (and its feedback copy) already has; a table cannot take their names.
RESERVED_SHEETS = ("Instruktioner", "Indikatorer", "Återkoppling")
# Row ids a table kind uses for its own extra row (SUMMA, number of answers, the total).
RESERVED_ROWS = {"fordelning": "summa", "enkat": "svar", "varav": "total"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KOLADA = re.compile(r"^[A-Z]\d{5}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BAD_SHEET_CHARS = set("[]:*?/\\")


@dataclass(frozen=True, slots=True)
class Board:
    id: str
    name: str
    municipality: str
    administration: str
    contact: str


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """One row of the board's table. Shares and percentages are held as fractions (0.045 = 4,5 %)."""

    id: str
    section: str
    goal_area: str
    name: str
    kind: str
    units: tuple[str, ...]
    combine: str
    baseline: float
    baseline_date: dt.date
    target: float | None
    target_text: str | None
    target_year: int
    frequency: str
    direction: str
    plausible: tuple[float, float]
    tolerance: float
    decimals: int
    numerator_label: str | None = None
    denominator_label: str | None = None
    outcomes: tuple[tuple[str, float], ...] = ()
    note: str | None = None
    kolada: str | None = None

    @property
    def is_share(self) -> bool:
        return self.kind in SHARE_KINDS

    @property
    def in_percent(self) -> bool:
        return self.kind in PERCENT_KINDS

    @property
    def is_whole(self) -> bool:
        return self.kind in ("antal", "dygn")

    def asked_in(self, tertial: int) -> bool:
        """Annual indicators are asked only in the last tertial of the year."""
        return self.frequency != "årsbasis" or tertial == 3


@dataclass(frozen=True, slots=True)
class TableRow:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Table:
    """A unit-level table: a distribution with SUMMA, a survey, a monthly series or a varav."""

    id: str
    kind: str
    sheet: str
    title: str
    description: str
    units: tuple[str, ...]
    rows: tuple[TableRow, ...]
    count_label: str = "Antal"
    with_share: bool = False
    total_label: str | None = None
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Settings:
    example_period: str
    suppression_limit: int
    jump_warning: float
    mask_mail: bool = False  # everything mailed to the board must be masked


_Reported = TypeVar("_Reported", Indicator, Table)


class Origin(StrEnum):
    """How a command came to use its catalog (the order is in consolidate.locate)."""

    OPTION = "--katalog"
    ENVIRONMENT = "CONSOLIDATE_KATALOG"
    FOLDER = "mappen"
    BUNDLED = "exempel"


@dataclass(frozen=True)
class Catalog:
    board: Board
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    tables: tuple[Table, ...]
    fingerprint: str
    path: str = field(default="", compare=False)  # as the user gave it, or where it was found
    origin: Origin = field(default=Origin.OPTION, compare=False)

    # Hashing all units and indicators on every cached call is quadratic for a region's
    # thousands of units; the content is fixed once loaded, so hash what identifies it.
    def __hash__(self) -> int:
        return hash((self.fingerprint, len(self.units), self.board.id))

    @property
    def bundled(self) -> bool:
        """The example catalog that ships with consolidate, not a board's own."""
        return self.origin is Origin.BUNDLED

    @property
    def label(self) -> str:
        """Which catalog, in Swedish, for the "Katalog: …" line of every output."""
        if self.bundled:
            return f"exempelkatalogen som följer med consolidate ({self.path})"
        if self.origin is Origin.ENVIRONMENT:
            return f"{self.path} (från {Origin.ENVIRONMENT.value})"
        return self.path

    @cached_property
    def _units_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def _unit_ids(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.units)

    @cached_property
    def _indicators_by_unit(self) -> dict[str, tuple[Indicator, ...]]:
        return _by_unit(self.units, self.indicators)

    @cached_property
    def _tables_by_unit(self) -> dict[str, tuple[Table, ...]]:
        return _by_unit(self.units, self.tables)

    def unit(self, unit_id: str) -> Unit:
        return self._units_by_id[unit_id]

    def has_unit(self, unit_id: str) -> bool:
        return unit_id in self._units_by_id

    def unit_ids(self) -> tuple[str, ...]:
        return self._unit_ids

    def indicators_for(self, unit_id: str, tertial: int) -> tuple[Indicator, ...]:
        return tuple(i for i in self._indicators_by_unit.get(unit_id, ()) if i.asked_in(tertial))

    def tables_for(self, unit_id: str) -> tuple[Table, ...]:
        return self._tables_by_unit.get(unit_id, ())

    def signature(self, unit_id: str, tertial: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What decides a unit's template cells: its indicators and tables in that tertial."""
        return (tuple(i.id for i in self.indicators_for(unit_id, tertial)),
                tuple(t.id for t in self.tables_for(unit_id)))


def _by_unit(units: tuple[Unit, ...], items: tuple[_Reported, ...]) -> dict[str, tuple[_Reported, ...]]:
    """Catalog entries per unit that reports them, in catalog order."""
    grouped: dict[str, list[_Reported]] = {u.id: [] for u in units}
    for item in items:
        for unit in item.units:
            grouped.setdefault(unit, []).append(item)
    return {u: tuple(found) for u, found in grouped.items()}


def slug(text: str) -> str:
    """An identifier from a Swedish label: 'Anhöriga/bekanta' -> 'anhoriga_bekanta'."""
    folded = text.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:40] or "rad"


_KEYS = {
    "": ("version", "namnd", "installningar", "enhet", "indikator", "tabell"),
    "namnd": ("id", "namn", "kommun", "forvaltning", "kontakt"),
    "installningar": ("exempelperiod", "roj_grans", "hopp_varning", "maskera_utskick"),
    "enhet": ("id", "namn", "epost"),
    "indikator": (
        "id", "avsnitt", "malomrade", "namn", "typ", "taljare", "namnare", "enheter", "sammanvagning",
        "nulage", "nulage_datum", "utfall", "borlage", "borlage_text", "borlage_ar", "uppfoljning",
        "riktning", "rimligt", "tolerans", "decimaler", "anmarkning", "kolada",
    ),
    "tabell": (
        "id", "typ", "flik", "rubrik", "beskrivning", "enheter", "rader", "antal_rubrik", "andel",
        "total", "fullstandig",
    ),
}
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_]+)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_]+)\s*\]\s*(#.*)?$")


class _Lines:
    """Line numbers of entries and keys in the catalog text, for messages (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts: dict[tuple[str, int], int] = {("", 0): -1}
        self.headers: list[int] = []
        self.counts: dict[str, int] = {}
        for number, line in enumerate(self.lines):
            if match := _ARRAY_HEADER.match(line):
                name = match.group(1)
                self.starts[(name, self.counts.get(name, 0))] = number
                self.counts[name] = self.counts.get(name, 0) + 1
                self.headers.append(number)
            elif match := _TABLE_HEADER.match(line):
                self.starts[(match.group(1), 0)] = number
                self.headers.append(number)

    def entry(self, section: str, index: int) -> int | None:
        """1-based line of the entry's header, or None."""
        start = self.starts.get((section, index))
        return None if start is None or start < 0 else start + 1

    def key(self, section: str, index: int, key: str) -> int | None:
        """1-based line where the entry sets the key, or None."""
        start = self.starts.get((section, index))
        if start is None:
            return None
        end = next((h for h in self.headers if h > start), len(self.lines))
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number]):
                return number + 1
        return None


class _Entry:
    """Reads keys of one TOML table and names the entry (and its line) in every error."""

    def __init__(self, where: str, data: Any, lines: _Lines | None = None, section: str = "",
                 index: int = 0) -> None:
        self.where = where
        self.lines = lines
        self.section = section
        self.index = index
        if not isinstance(data, dict):
            raise CatalogError(f"Katalogen, {where}{self._at()}: ska vara en tabell med nycklar.")
        self.data: dict[str, Any] = data

    @property
    def line(self) -> int | None:
        return self.lines.entry(self.section, self.index) if self.lines else None

    def _at(self) -> str:
        line = self.line
        return f" (rad {line})" if line else ""

    def fail(self, key: str, problem: str) -> CatalogError:
        line = self.lines.key(self.section, self.index, key.split(".")[0]) if self.lines else None
        if line is not None:
            return CatalogError(f"Katalogen, rad {line}: {self.where}, nyckeln '{key}': {problem}")
        start = self.line
        at = f" (som börjar på rad {start})" if start else ""
        return CatalogError(f"Katalogen, {self.where}{at}, nyckeln '{key}': {problem}")

    def only(self, allowed: tuple[str, ...]) -> None:
        """Refuse keys the program does not read: a misspelt optional key would be ignored silently."""
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" Menade du '{close[0]}'?" if close else f" Tillåtna nycklar: {', '.join(allowed)}."
                raise self.fail(key, f"okänd nyckel.{hint}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "saknas.")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "ska vara en text inom citattecken.")
        return value.strip()

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if key in self.data else None

    def number(self, key: str, default: float | None = None) -> float:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "saknas.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"ska vara ett tal (decimaler med punkt), inte {value!r}.")
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "saknas.")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"ska vara ett heltal, inte {value!r}.")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, f"ska vara true eller false (utan citattecken), inte {value!r}.")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, f"saknas; tillåtna värden: {', '.join(allowed)}.")
        if value not in allowed:
            raise self.fail(key, f"okänt värde {value!r}; tillåtna: {', '.join(allowed)}.")
        return str(value)

    def ident(self, key: str = "id") -> str:
        value = self.text(key)
        if not _ID.match(value):
            raise self.fail(
                key, f"{value!r} ska bestå av små bokstäver a–z, siffror och _ (högst 40 tecken)."
            )
        return value

    def email(self, key: str) -> str:
        value = self.text(key)
        if not _EMAIL.match(value):
            raise self.fail(key, f"{value!r} är ingen e-postadress.")
        return value

    def text_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "saknas.")
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.fail(key, "ska vara en lista med texter, t.ex. [\"a\", \"b\"].")
        return [v.strip() for v in value]


def load_catalog(path: Path | str | None = None, origin: Origin | None = None) -> Catalog:
    """Load and check the catalog (without a path: the bundled example); raise CatalogError with a
    Swedish message naming the entry."""
    source: Path | Traversable = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"Katalogen {source} kan inte läsas: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogError(f"Katalogen {source} är inte sparad som UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(_syntax_message(source, str(exc))) from None
    catalog = _build(data, _Lines(text))
    return Catalog(
        board=catalog.board,
        settings=catalog.settings,
        units=catalog.units,
        indicators=catalog.indicators,
        tables=catalog.tables,
        fingerprint=catalog.fingerprint,
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
            "citattecken eller en hakparentes som saknas, decimalkomma i stället för punkt, eller å, ä, ö i "
            "ett nyckelnamn.")


def _build(data: dict[str, Any], lines: _Lines | None = None) -> Catalog:
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
    settings = _settings(_Entry("[installningar]", data.get("installningar", {}), lines, "installningar"))

    units, unit_entries = _entries(data, "enhet", lines, _unit)
    if not units:
        raise CatalogError("Katalogen har inga enheter ([[enhet]]).")
    _unique([u.id for u in units], unit_entries, "id")
    known = {u.id for u in units}
    indicators, ind_entries = _entries(data, "indikator", lines, lambda e: _indicator(e, known))
    _unique([i.id for i in indicators], ind_entries, "id")
    tables, table_entries = _entries(data, "tabell", lines, lambda e: _table(e, known))
    _unique([t.id for t in tables], table_entries, "id")
    _unique([t.sheet.casefold() for t in tables], table_entries, "flik")
    fingerprint = _fingerprint(indicators, tables)
    return Catalog(board, settings, units, indicators, tables, fingerprint)


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
                                  f"{'ett id' if key == 'id' else 'en flik'} får bara förekomma en gång.")
        seen[value] = entry


def _unit(entry: _Entry) -> Unit:
    return Unit(entry.ident(), entry.text("namn"), entry.email("epost"))


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
    kind = entry.choice("typ", KINDS)
    share = kind in SHARE_KINDS
    scale = 0.01 if kind in PERCENT_KINDS else 1.0
    if not share:
        for key in ("taljare", "namnare"):
            if key in entry.data:
                raise entry.fail(key, f"gäller bara andelar (typ andel eller beläggningsgrad), inte typ '{kind}'.")
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
    low, high = _range(entry, kind in PERCENT_KINDS)
    baseline = entry.number("nulage")
    target = entry.number("borlage") if "borlage" in entry.data else None
    target_text = entry.opt_text("borlage_text")
    if target is None and target_text is None:
        raise entry.fail("borlage", "saknas (ange borlage, eller borlage_text om målet är en text).")
    for key, value in (("nulage", baseline), ("borlage", target)):
        if value is not None and not low <= value <= high:
            raise entry.fail(key, f"{_sv(value)} ligger utanför rimligt intervall [{_sv(low)}, {_sv(high)}] "
                                  "(nyckeln rimligt).")
    outcomes_raw = entry.data.get("utfall", {})
    if not isinstance(outcomes_raw, dict):
        raise entry.fail("utfall", "ska skrivas som { \"2023\" = 1931 }.")
    outcomes: list[tuple[str, float]] = []
    for year, value in sorted(outcomes_raw.items()):
        if not re.fullmatch(r"\d{4}", str(year)):
            raise entry.fail(f"utfall.{year}", "ska vara ett årtal med fyra siffror, t.ex. \"2023\".")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise entry.fail(f"utfall.{year}", "ska vara ett tal.")
        outcomes.append((str(year), float(value) * scale))
    baseline_date = entry.data.get("nulage_datum")
    if baseline_date is None:
        raise entry.fail("nulage_datum", "saknas (ett datum, t.ex. 2023-08-31).")
    if not isinstance(baseline_date, dt.date) or isinstance(baseline_date, dt.datetime):
        raise entry.fail("nulage_datum", "ska vara ett datum, t.ex. 2023-08-31 (utan citattecken).")
    target_year = entry.integer("borlage_ar")
    if not 2000 <= target_year <= 2100:
        raise entry.fail("borlage_ar", f"{target_year} är inget rimligt årtal.")
    kolada = entry.opt_text("kolada")
    if kolada is not None and not _KOLADA.match(kolada):
        raise entry.fail("kolada", f"{kolada!r}: ett Kolada-id är en bokstav och fem siffror, t.ex. N33100.")
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
        baseline=baseline * scale,
        baseline_date=baseline_date,
        target=None if target is None else target * scale,
        target_text=target_text,
        target_year=target_year,
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
    )


def _range(entry: _Entry, percent: bool) -> tuple[float, float]:
    value = entry.data.get("rimligt")
    if value is None:
        raise entry.fail("rimligt", "saknas; skriv [lägst, högst], t.ex. [0, 100].")
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise entry.fail("rimligt", "ska vara [lägst, högst], t.ex. [0, 100].")
    if percent and not (0 <= value[0] and value[1] <= 100):
        raise entry.fail("rimligt", "ska ligga inom [0, 100] för en andel eller ett procenttal "
                                    "(anges i procent).")
    return float(value[0]), float(value[1])


def _table(entry: _Entry, known: set[str]) -> Table:
    table_id = entry.ident()
    kind = entry.choice("typ", TABLE_KINDS)
    sheet = entry.text("flik")
    if len(sheet) > 31 or set(sheet) & _BAD_SHEET_CHARS or sheet.startswith(("_", "'")) or sheet.endswith("'"):
        raise entry.fail("flik", "ett fliknamn får ha högst 31 tecken, inte innehålla [ ] : * ? / \\ "
                                 "och inte börja med _ eller '.")
    if sheet.casefold() in {s.casefold() for s in RESERVED_SHEETS}:
        raise entry.fail("flik", f"'{sheet}' är upptaget av mallen; välj ett annat namn än "
                                 f"{', '.join(RESERVED_SHEETS)}.")
    for key, kinds in (("andel", ("fordelning",)), ("total", ("varav",)), ("fullstandig", ("varav",))):
        if key in entry.data and kind not in kinds:
            raise entry.fail(key, f"gäller bara tabeller av typ {' eller '.join(kinds)}, inte '{kind}'.")
    labels = entry.text_list("rader")
    rows = tuple(TableRow(slug(label), label) for label in labels)
    reserved = RESERVED_ROWS.get(kind)
    seen: dict[str, str] = {}
    for row in rows:
        if row.id == reserved:
            raise entry.fail("rader", f"raden '{row.label}' krockar med tabellens egen rad "
                                      f"({reserved.upper() if reserved == 'summa' else reserved}); byt namn på den.")
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
    )


def _fingerprint(indicators: tuple[Indicator, ...], tables: tuple[Table, ...]) -> str:
    """What decides a template's cells; edits of texts or targets keep old templates valid."""
    shape = {
        "indikatorer": [[i.id, i.kind, list(i.units), i.frequency] for i in indicators],
        "tabeller": [
            [t.id, t.kind, t.sheet, list(t.units), [r.id for r in t.rows], t.with_share]
            for t in tables
        ],
    }
    blob = json.dumps(shape, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _sv(value: float) -> str:
    return f"{value:g}".replace(".", ",")
