"""The board's catalog (schemas/katalog.toml): load, check and expose it as frozen dataclasses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CatalogError

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "schemas" / "katalog.toml"

KINDS = ("antal", "andel", "beläggningsgrad", "årsarbetare", "mnkr", "dygn", "procent")
SHARE_KINDS = ("andel", "beläggningsgrad")
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
    """One row of the board's table. Shares (andel) are held as fractions (0.045 = 4,5 %)."""

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


@dataclass(frozen=True, slots=True)
class Catalog:
    board: Board
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    tables: tuple[Table, ...]
    fingerprint: str
    path: str = field(default="", compare=False)

    def unit(self, unit_id: str) -> Unit:
        for unit in self.units:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    def unit_ids(self) -> tuple[str, ...]:
        return tuple(u.id for u in self.units)

    def indicators_for(self, unit_id: str, tertial: int) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if unit_id in i.units and i.asked_in(tertial))

    def tables_for(self, unit_id: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if unit_id in t.units)


def slug(text: str) -> str:
    """An identifier from a Swedish label: 'Anhöriga/bekanta' -> 'anhoriga_bekanta'."""
    folded = text.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:40] or "rad"


class _Entry:
    """Reads keys of one TOML table and names the entry in every error."""

    def __init__(self, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise CatalogError(f"{where}: ska vara en tabell med nycklar.")
        self.where = where
        self.data: dict[str, Any] = data

    def fail(self, key: str, problem: str) -> CatalogError:
        return CatalogError(f"Katalogen, {self.where}, nyckeln '{key}': {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "saknas.")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "ska vara en text inom citattecken.")
        return value.strip()

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if key in self.data else None

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "saknas.")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"ska vara ett tal (decimaler med punkt), inte {value!r}.")
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"ska vara ett heltal, inte {value!r}.")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
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

    def text_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise self.fail(key, "ska vara en lista med texter, t.ex. [\"a\", \"b\"].")
        return [v.strip() for v in value]


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Load and check the catalog; raise CatalogError with a Swedish message naming the entry."""
    source = Path(path) if path is not None else DEFAULT_CATALOG
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"Katalogen {source} kan inte läsas: {exc.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(f"Katalogen {source} är inte sparad som UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"Katalogen {source} har ett skrivfel: {exc}.") from None
    catalog = _build(data)
    return Catalog(
        board=catalog.board,
        settings=catalog.settings,
        units=catalog.units,
        indicators=catalog.indicators,
        tables=catalog.tables,
        fingerprint=catalog.fingerprint,
        path=str(source),
    )


def _build(data: dict[str, Any]) -> Catalog:
    top = _Entry("filens början", data)
    board_entry = _Entry("[namnd]", data.get("namnd"))
    board = Board(
        id=board_entry.ident(),
        name=board_entry.text("namn"),
        municipality=board_entry.text("kommun"),
        administration=board_entry.text("forvaltning", "Socialförvaltningen"),
        contact=board_entry.text("kontakt"),
    )
    settings_entry = _Entry("[installningar]", data.get("installningar", {}))
    settings = Settings(
        example_period=settings_entry.text("exempelperiod", "2025-T2"),
        suppression_limit=settings_entry.integer("roj_grans", 5),
        jump_warning=float(settings_entry.data.get("hopp_varning", 0.5)),
    )
    if settings.suppression_limit < 2:
        raise settings_entry.fail("roj_grans", "ska vara minst 2.")
    top.integer("version", 1)

    units = tuple(_unit(i, raw) for i, raw in enumerate(_list(data, "enhet"), start=1))
    _unique("enhet", [u.id for u in units])
    if not units:
        raise CatalogError("Katalogen har inga enheter ([[enhet]]).")
    known = {u.id for u in units}
    indicators = tuple(
        _indicator(i, raw, known) for i, raw in enumerate(_list(data, "indikator"), start=1)
    )
    _unique("indikator", [i.id for i in indicators])
    tables = tuple(_table(i, raw, known) for i, raw in enumerate(_list(data, "tabell"), start=1))
    _unique("tabell", [t.id for t in tables])
    _unique("tabell (flik)", [t.sheet.lower() for t in tables])
    fingerprint = _fingerprint(indicators, tables)
    return Catalog(board, settings, units, indicators, tables, fingerprint)


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise CatalogError(f"Katalogen: '{key}' ska skrivas som [[{key}]]-block.")
    return value


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise CatalogError(f"Katalogen: id '{ident}' förekommer två gånger bland [[{what}]].")
        seen.add(ident)


def _unit(index: int, raw: Any) -> Unit:
    entry = _Entry(f"[[enhet]] nr {index}", raw)
    unit_id = entry.ident()
    entry.where = f"[[enhet]] '{unit_id}'"
    email = entry.text("epost")
    if not _EMAIL.match(email):
        raise entry.fail("epost", f"{email!r} är ingen e-postadress.")
    return Unit(unit_id, entry.text("namn"), email)


def _units_of(entry: _Entry, known: set[str]) -> tuple[str, ...]:
    units = entry.text_list("enheter")
    for unit in units:
        if unit not in known:
            raise entry.fail("enheter", f"okänd enhet '{unit}' (finns inte bland [[enhet]]).")
    if len(set(units)) != len(units):
        raise entry.fail("enheter", "samma enhet står två gånger.")
    return tuple(units)


def _indicator(index: int, raw: Any, known: set[str]) -> Indicator:
    entry = _Entry(f"[[indikator]] nr {index}", raw)
    ind_id = entry.ident()
    entry.where = f"[[indikator]] '{ind_id}'"
    kind = entry.choice("typ", KINDS)
    share = kind in SHARE_KINDS
    scale = 0.01 if share else 1.0
    combine = entry.choice("sammanvagning", COMBINE)
    if share and combine != "kvot":
        raise entry.fail(
            "sammanvagning",
            "en andel vägs samman som kvot (täljare och nämnare summeras), aldrig som medel "
            "av procenttal; skriv sammanvagning = \"kvot\".",
        )
    if not share and combine == "kvot":
        raise entry.fail("sammanvagning", f"kvot gäller bara andelar, inte typ '{kind}'.")
    low, high = _range(entry)
    baseline = entry.number("nulage")
    target = entry.number("borlage") if "borlage" in entry.data else None
    target_text = entry.opt_text("borlage_text")
    if target is None and target_text is None:
        raise entry.fail("borlage", "saknas (ange borlage, eller borlage_text om målet är en text).")
    for key, value in (("nulage", baseline), ("borlage", target)):
        if value is not None and not low <= value <= high:
            raise entry.fail(key, f"{_sv(value)} ligger utanför rimligt intervall [{_sv(low)}, {_sv(high)}].")
    outcomes_raw = entry.data.get("utfall", {})
    if not isinstance(outcomes_raw, dict):
        raise entry.fail("utfall", "ska skrivas som { \"2023\" = 1931 }.")
    outcomes: list[tuple[str, float]] = []
    for year, value in sorted(outcomes_raw.items()):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise entry.fail(f"utfall.{year}", "ska vara ett tal.")
        outcomes.append((str(year), float(value) * scale))
    baseline_date = entry.data.get("nulage_datum")
    if not isinstance(baseline_date, dt.date):
        raise entry.fail("nulage_datum", "ska vara ett datum, t.ex. 2023-08-31 (utan citattecken).")
    kolada = entry.opt_text("kolada")
    if kolada is not None and not _KOLADA.match(kolada):
        raise entry.fail("kolada", f"{kolada!r}: ett Kolada-id är en bokstav och fem siffror, t.ex. N33100.")
    default_decimals = {"antal": 0, "dygn": 0, "årsarbetare": 1, "mnkr": 1}.get(kind, 0)
    decimals = entry.integer("decimaler", default_decimals)
    if not 0 <= decimals <= 4:
        raise entry.fail("decimaler", "ska vara 0–4.")
    tolerance = float(entry.data.get("tolerans", 0))
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
        target_year=entry.integer("borlage_ar"),
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


def _range(entry: _Entry) -> tuple[float, float]:
    value = entry.data.get("rimligt")
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or value[0] > value[1]
    ):
        raise entry.fail("rimligt", "ska vara [lägst, högst], t.ex. [0, 100].")
    return float(value[0]), float(value[1])


def _table(index: int, raw: Any, known: set[str]) -> Table:
    entry = _Entry(f"[[tabell]] nr {index}", raw)
    table_id = entry.ident()
    entry.where = f"[[tabell]] '{table_id}'"
    kind = entry.choice("typ", TABLE_KINDS)
    sheet = entry.text("flik")
    if len(sheet) > 31 or set(sheet) & _BAD_SHEET_CHARS or sheet.startswith("_"):
        raise entry.fail("flik", "ett fliknamn får ha högst 31 tecken och inte [ ] : * ? / \\.")
    labels = entry.text_list("rader")
    rows = tuple(TableRow(slug(label), label) for label in labels)
    _unique(f"tabell] '{table_id}' [rader", [r.id for r in rows] + (["summa"] if kind == "fordelning" else []))
    return Table(
        id=table_id,
        kind=kind,
        sheet=sheet,
        title=entry.text("rubrik"),
        description=entry.text("beskrivning", "-"),
        units=_units_of(entry, known),
        rows=rows,
        count_label=entry.text("antal_rubrik", "Antal"),
        with_share=bool(entry.data.get("andel", False)) if kind == "fordelning" else False,
        total_label=entry.text("total") if kind == "varav" else None,
        complete=bool(entry.data.get("fullstandig", False)),
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
