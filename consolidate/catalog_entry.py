"""Reading one entry of the catalog's TOML: its keys, checked, and the line each mistake is on."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .catalog import _EMAIL, _ID, Indicator, Table, Unit, boundaries, reporters
from .errors import CatalogError, PeriodError
from .periods import Period, parse_period
from .span import FIRST, Span

_YEAR = re.compile(r"^\d{4}$")

_KEYS = {
    "": ("version", "namnd", "installningar", "inlamning", "jamforelse", "enhet", "indikator",
         "tabell"),
    "namnd": ("id", "namn", "kommun", "forvaltning", "kontakt"),
    "installningar": ("exempelperiod", "roj_grans", "hopp_varning", "maskera_utskick"),
    "jamforelse": ("kommun", "liknande", "liknande_grupp", "liknande_namn"),
    "enhet": ("id", "namn", "epost", "fran", "till", "ersatts_av"),
    "indikator": (
        "id", "avsnitt", "malomrade", "namn", "typ", "taljare", "namnare", "enheter",
        "sammanvagning", "nulage", "nulage_datum", "utfall", "borlage", "borlage_text",
        "borlage_ar", "uppfoljning", "riktning", "rimligt", "tolerans", "decimaler", "anmarkning",
        "kolada", "kolada_jamforbar", "kolada_skillnad", "kolada_enhet", "fran", "till",
        "tidigare_namn",
    ),
    "tabell": (
        "id", "typ", "flik", "rubrik", "beskrivning", "enheter", "rader", "antal_rubrik", "andel",
        "total", "fullstandig", "fran", "till",
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
        """Refuse keys the program does not read: a misspelt optional key would be ignored
        silently."""
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = (f" Menade du '{close[0]}'?" if close
                        else f" Tillåtna nycklar: {', '.join(allowed)}.")
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
                key, f"{value!r} ska bestå av små bokstäver a–z, siffror och _ "
                     f"(högst 40 tecken)."
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


# ---- reading the time keys of one catalog entry ---------------------------------------------

def span_of(entry: _Entry) -> Span:
    """fran / till of an entry; till before fran is refused at till."""
    ends: list[Period | None] = []
    for key in ("fran", "till"):
        value = entry.data.get(key)
        if value is None:
            ends.append(None)
            continue
        if not isinstance(value, str):
            raise entry.fail(key, f"ska vara en period inom citattecken, t.ex. "
                                  f"{key} = \"2026-T1\".")
        try:
            ends.append(parse_period(value))
        except PeriodError as exc:
            raise entry.fail(key, str(exc)) from None
    span = Span(ends[0], ends[1])
    if span.start and span.end and span.end < span.start:
        raise entry.fail("till", f"{span.end} ligger före fran ({span.start}); till är den sista "
                                 "perioden som ingår och kan inte komma före den första.")
    return span


def per_year(entry: _Entry, key: str, kind: str) -> list[tuple[int, Any]] | None:
    """A key given per year, { "2025" = 1600, "2026" = 1700 }, sorted by year; None when it is one
    value.

    `kind` is "tal" (numbers) or "datum" (dates)."""
    value = entry.data.get(key)
    if not isinstance(value, dict):
        return None
    if not value:
        raise entry.fail(key, f"är tom; skriv t.ex. {key} = {{ \"2025\" = … }} "
                              f"eller ett enda värde.")
    out: list[tuple[int, Any]] = []
    for year, item in value.items():
        if not _YEAR.match(str(year)) or not 2000 <= int(year) <= 2100:
            raise entry.fail(f"{key}.{year}", "ska vara ett årtal med fyra siffror inom "
                                              "citattecken, t.ex. \"2026\".")
        if kind == "tal" and (isinstance(item, bool) or not isinstance(item, int | float)):
            raise entry.fail(f"{key}.{year}",
                             f"ska vara ett tal (decimaler med punkt), inte {item!r}.")
        if kind == "datum" and (not isinstance(item, dt.date) or isinstance(item, dt.datetime)):
            raise entry.fail(f"{key}.{year}",
                             "ska vara ett datum, t.ex. 2025-12-31 (utan citattecken).")
        out.append((int(year), float(item) if kind == "tal" else item))
    return sorted(out)


def former_names(entry: _Entry, span: Span) -> tuple[tuple[Period, str], ...]:
    """tidigare_namn = { "2025-T3" = "…" }: the name used up to and including that period."""
    value = entry.data.get("tidigare_namn", {})
    if not isinstance(value, dict):
        raise entry.fail("tidigare_namn", "ska skrivas som { \"2025-T3\" = \"namnet till och med "
                                          "den perioden\" }.")
    out: list[tuple[Period, str]] = []
    for key, name in value.items():
        try:
            period = parse_period(str(key))
        except PeriodError as exc:
            raise entry.fail(f"tidigare_namn.{key}", str(exc)) from None
        if not isinstance(name, str) or not name.strip():
            raise entry.fail(f"tidigare_namn.{key}", "ska vara en text inom citattecken.")
        if period not in span:
            raise entry.fail(f"tidigare_namn.{key}", f"{period} ligger utanför indikatorns "
                                                     f"giltighetstid ({span.text()}).")
        out.append((period, name.strip()))
    return tuple(sorted(out))


def check_years(entry: _Entry, span: Span, key: str, years: Iterable[int], what: str) -> None:
    """Every year a value is given for must fall within the entry's span."""
    if span.always:
        return
    for year in years:
        if not span.overlaps_year(year):
            raise entry.fail(key, f"{what} för {year} ligger utanför indikatorns giltighetstid "
                                  f"({span.text()}); ta bort året eller ändra fran/till.")


# ---- checks across entries --------------------------------------------------------------------

def check_merges(units: Sequence[Unit], unit_entries: Sequence[_Entry]) -> None:
    """A merged unit names a unit that exists and is valid from the period after its last one."""
    by_id = {u.id: u for u in units}
    for unit, entry in zip(units, unit_entries, strict=True):
        if unit.successor is None:
            continue
        successor = by_id.get(unit.successor)
        if successor is None:
            raise entry.fail("ersatts_av",
                             f"okänd enhet '{unit.successor}' (finns inte bland [[enhet]]).")
        if successor.id == unit.id:
            raise entry.fail("ersatts_av", "en enhet kan inte ersättas av sig själv.")
        if unit.span.end is None:
            raise entry.fail("ersatts_av", "ange också till = \"…\": den sista perioden enheten "
                                           "rapporterar själv.")
        first = unit.span.end.next
        if first not in successor.span:
            raise entry.fail("ersatts_av", f"'{successor.id}' ska ta över från {first}, men finns "
                                           f"bara {successor.span.text()}.")


def check_reporting(units: Sequence[Unit], items: Sequence[Indicator | Table],
                    item_entries: Sequence[_Entry], what: str) -> None:
    """Every listed unit exists some time the item does, and no period of the item's span is
    without a reporting unit (`what`: "indikatorn" or "tabellen")."""
    by_id = {u.id: u for u in units}
    points = boundaries(units, items)
    for item, entry in zip(items, item_entries, strict=True):
        for unit_id in item.units:
            unit = by_id[unit_id]
            if not unit.span.overlaps(item.span):
                hint = (f" ({by_id[unit.successor].name} tar över och rapporterar)"
                        if unit.successor else "")
                raise entry.fail("enheter", f"enheten '{unit_id}' finns {unit.span.text()}, men "
                                            f"{what} gäller {item.span.text()}; ta bort enheten "
                                            f"ur listan{hint}.")
        for period in points:
            if period not in item.span or reporters(by_id, item, period):
                continue
            if period == (item.span.start or FIRST):
                first = next((p for p in points if p > period and reporters(by_id, item, p)),
                             period)
                raise entry.fail("enheter", f"ingen av enheterna i listan finns före {first}, men "
                                            f"{what} gäller {item.span.text()}; ge {what} fran = "
                                            f"\"{first}\".")
            raise entry.fail("enheter", f"från {period} rapporterar ingen enhet {what} (enheterna "
                                        f"i listan har upphört); ge {what} till = "
                                        f"\"{period.previous}\" eller lägg till "
                                        "enheten som tar över.")


# ---- keys with more than one way of writing them --------------------------------------------

def targets_of(entry: _Entry, span: Span) -> tuple[list[tuple[int, float]], int]:
    """borlage as one value with borlage_ar, or per year; the year of a text target
    (borlage_text)."""
    yearly = per_year(entry, "borlage", "tal")
    if yearly is not None:
        if "borlage_ar" in entry.data:
            raise entry.fail("borlage_ar", "behövs inte när borlage anges per år (årtalen står i "
                                           "borlage); ta bort borlage_ar.")
        check_years(entry, span, "borlage", [y for y, _ in yearly], "börläget")
        return yearly, yearly[0][0]
    target_year = entry.integer("borlage_ar")
    if not 2000 <= target_year <= 2100:
        raise entry.fail("borlage_ar", f"{target_year} är inget rimligt årtal.")
    check_years(entry, span, "borlage_ar", [target_year], "börläget")
    if "borlage" not in entry.data:
        return [], target_year
    return [(target_year, entry.number("borlage"))], target_year


def baselines_of(entry: _Entry, span: Span) -> list[tuple[int, float, dt.date]]:
    """nulage with nulage_datum: one value and date, or both per year (the year it applies from)."""
    values = per_year(entry, "nulage", "tal")
    dates = per_year(entry, "nulage_datum", "datum")
    if values is None:
        if dates is not None:
            raise entry.fail("nulage_datum", "anges per år bara när nulage också anges per år.")
        value = entry.number("nulage")
        date = entry.data.get("nulage_datum")
        if date is None:
            raise entry.fail("nulage_datum", "saknas (ett datum, t.ex. 2023-08-31).")
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            raise entry.fail("nulage_datum",
                             "ska vara ett datum, t.ex. 2023-08-31 (utan citattecken).")
        return [(date.year, value, date)]
    if dates is None or [y for y, _ in dates] != [y for y, _ in values]:
        raise entry.fail("nulage_datum", "ska anges för samma år som nulage, t.ex. nulage_datum = "
                                         "{ \"2023\" = 2023-08-31, \"2026\" = 2025-12-31 }.")
    check_years(entry, span, "nulage", [y for y, _ in values], "nuläget")
    return [(y, v, d) for (y, v), (_, d) in zip(values, dates, strict=True)]


def range_of(entry: _Entry, percent: bool) -> tuple[float, float]:
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
