"""Parse what a unit head typed into a number cell, Swedish style, into a float or a rule code."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

KINDS = ("antal", "andel", "procent", "arsarbetare", "mnkr", "dygn", "text")

# Catalog spellings of the same kinds (catalog.KINDS), accepted so a caller never has to translate.
_ALIASES = {"årsarbetare": "arsarbetare", "beläggningsgrad": "andel"}
_SHARE = frozenset({"andel", "procent"})

# Characters that separate thousands when typed or pasted: space, no-break, narrow no-break,
# thin and figure space.
_GROUP_CHARS = " \u00a0\u202f\u2009\u2007"
_TO_GROUP = str.maketrans({c: "\u00a0" for c in _GROUP_CHARS} | {"\u2212": "-"})
# Invisible characters that survive str.strip() but carry nothing.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_NOTHING = frozenset({"-", "\u2013", "\u2014", "\u2212"})  # a lone dash means "nothing" in a report

_FAST = re.compile(r"-?[0-9]+(?:,[0-9]+)?")
_SUFFIX = re.compile(r"(.*?)\s*(%|[^\W\d_]+\.?)", re.DOTALL)
# Longer than any number a person types with its unit; _SUFFIX backtracks quadratically on
# long text (Excel allows 32 767 characters in a cell), so such text is refused before it.
_MAX_NUMBER_TEXT = 64
# What babel may see: babel (through decimal.Decimal) also accepts "1e5", "NaN", "Infinity",
# "1_000", "2.500" and non-ASCII digits, none of which a unit head means in a number cell.
_BABEL_INPUT = re.compile(r"[-+]?[0-9\u00a0,]*[0-9][0-9\u00a0,]*")
_DOTTED_THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_DOTTED_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
_EXCEL_ERROR = re.compile(r"#[A-ZÅÄÖ0-9/]+[!?]|#N/A", re.IGNORECASE)

# Unit suffixes by the kind they belong to; a known unit of another kind is "fel_enhet".
_UNITS: dict[str, str] = {
    "%": "share",
    "mnkr": "mnkr",
    "mkr": "mnkr",
    "tkr": "tkr",
    "kr": "kr",
    "sek": "kr",
    "st": "antal",
    "dygn": "dygn",
    "åa": "arsarbetare",
    "årsarbetare": "arsarbetare",
}
_UNIT_FOR_KIND = {
    "antal": "antal",
    "andel": "share",
    "procent": "share",
    "arsarbetare": "arsarbetare",
    "mnkr": "mnkr",
    "dygn": "dygn",
}
_EXPECTED = {
    "antal": "Cellen ska anges som ett antal, t.ex. 1\u00a0931 eller 1\u00a0931 st.",
    "andel": "Cellen ska anges i procent, t.ex. 42 % eller 4,2 %.",
    "procent": "Cellen ska anges i procent, t.ex. 42 % eller 4,2 %.",
    "arsarbetare": "Cellen ska anges i årsarbetare (åa), t.ex. 12,5.",
    "mnkr": "Cellen ska anges i miljoner kronor (mnkr); 177\u00a0900 tkr skrivs 177,9.",
    "dygn": "Cellen ska anges i antal dygn, t.ex. 365.",
}
_HINT = {
    "andel": "Skriv ett tal med procenttecken, t.ex. 42 % eller 4,2 %.",
    "procent": "Skriv ett tal med procenttecken, t.ex. 42 % eller 4,2 %.",
    "mnkr": "Skriv bara siffror i miljoner kronor, t.ex. 177,9.",
    "arsarbetare": "Skriv bara siffror, t.ex. 12 eller 12,5.",
}
_DEFAULT_HINT = "Skriv bara siffror, t.ex. 1\u00a0931 eller 170,2."
_QUOTE_MAX = 100


@dataclass(frozen=True, slots=True)
class Parsed:
    value: float | None  # None = empty cell (or problem)
    text: str | None  # for kind "text": the cleaned text; else None
    code: str | None  # None when fine, else a rule code
    message: str | None  # Swedish explanation when code is set; quotes what was typed


_EMPTY = Parsed(None, None, None, None)


def parse_cell(raw: object, kind: str) -> Parsed:
    """What a cell of this kind holds; never raises for any raw value (an unknown kind is a bug)."""
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r}; expected one of {KINDS}")
    try:
        if type(raw) is float or type(raw) is int:  # the common case, before anything else
            return _number(raw, kind)
        return _parse(raw, kind)
    except Exception:  # never let one odd cell stop a run
        return _problem("ej_tal", "Cellen innehåller inte ett tal.")


def _parse(raw: object, kind: str) -> Parsed:
    if raw is None:
        return _EMPTY
    if isinstance(raw, str):
        return _string(raw, kind)
    if isinstance(raw, bool):
        if kind == "text":
            return Parsed(None, "SANT" if raw else "FALSKT", None, None)
        shown = "SANT" if raw else "FALSKT"
        return _problem("ej_tal", f"Cellen innehåller ett sanningsvärde ({shown}), inte ett tal.")
    if isinstance(raw, (int, float)):  # subclasses of int/float
        return _number(raw, kind)
    if kind == "text":
        return Parsed(None, str(raw).strip() or None, None, None)
    if isinstance(raw, dt.datetime):
        shown = raw.strftime("%Y-%m-%d" if raw.time() == dt.time() else "%Y-%m-%d %H:%M")
        return _problem("ej_tal", f"Cellen innehåller ett datum ({shown}), inte ett tal.")
    if isinstance(raw, dt.date):
        return _problem("ej_tal", f"Cellen innehåller ett datum ({raw.isoformat()}), inte ett tal.")
    if isinstance(raw, dt.time):
        shown = raw.strftime("%H:%M" if raw.second == 0 else "%H:%M:%S")
        return _problem("ej_tal", f"Cellen innehåller ett klockslag ({shown}), inte ett tal.")
    if isinstance(raw, dt.timedelta):
        seconds = int(raw.total_seconds())
        sign, seconds = ("−", -seconds) if seconds < 0 else ("", seconds)
        shown = f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return _problem("ej_tal", f"Cellen innehåller en tidslängd ({shown}), inte ett tal.")
    return _problem("ej_tal", f"Cellen innehåller inte ett tal ({_quote(str(raw))}).")


def _number(raw: int | float, kind: str) -> Parsed:
    if kind == "text":
        if isinstance(raw, float) and raw.is_integer():
            return Parsed(None, str(int(raw)), None, None)
        return Parsed(None, str(raw), None, None)
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        return _problem("ej_tal", "Cellen innehåller inget användbart tal (för stort eller ogiltigt).")
    if kind in _SHARE and value > 1:
        return _scale(value, _sv(value))
    return Parsed(value, None, None, None)


def _string(raw: str, kind: str) -> Parsed:
    typed = raw.strip()
    s = typed.strip(_INVISIBLE).strip()
    if not s or s in _NOTHING:
        return _EMPTY
    if kind == "text":
        return Parsed(None, typed, None, None)
    if _FAST.fullmatch(s):  # plain digits, perhaps a decimal comma: no need for babel
        return _finish(float(s.replace(",", ".")), False, typed, kind)
    if _EXCEL_ERROR.fullmatch(s):
        return _problem("ej_tal", f'Cellen innehåller Excel-felet "{_quote(typed)}", inte ett tal.')
    if len(s) > _MAX_NUMBER_TEXT:
        return _not_a_number(typed, kind)

    number, unit = s, None
    match = _SUFFIX.fullmatch(s)
    if match:
        number, unit = match.group(1), match.group(2).lower()
    number = number.translate(_TO_GROUP)
    if unit is not None:
        unit_kind = _UNITS.get(unit) or _UNITS.get(unit.rstrip("."))
        if unit_kind is None or not number:
            return _not_a_number(typed, kind)
    else:
        unit_kind = None

    if "." in number:
        return _dot(number, typed, kind)
    if not _BABEL_INPUT.fullmatch(number):
        return _not_a_number(typed, kind)
    try:
        parsed = _babel_parse()(number)
    except ValueError:  # babel's NumberFormatError is a ValueError
        return _not_a_number(typed, kind)

    if unit_kind is not None and unit_kind != _UNIT_FOR_KIND[kind]:
        return _wrong_unit(typed, kind, unit_kind, parsed)
    percent = unit_kind == "share"
    if percent:
        parsed = parsed / 100
    return _finish(float(parsed), percent, typed, kind)


def _finish(value: float, percent: bool, typed: str, kind: str) -> Parsed:
    if not math.isfinite(value):
        return _not_a_number(typed, kind)
    if kind in _SHARE and not percent and value > 1:
        return _scale(value, f'"{_quote(typed)}"')
    return Parsed(value, None, None, None)


def _scale(value: float, shown: str) -> Parsed:
    as_percent = _sv(value * 100)
    if value <= 100:
        advice = f"Skriv {_sv(value)} % (eller {_sv(value / 100)}) om du menar {_sv(value)} procent."
    else:
        advice = "Skriv andelen med procenttecken, t.ex. 42 %."
    return Parsed(
        value, None, "procent_skala", f"Värdet {shown} i en procentcell blir {as_percent} %. {advice}"
    )


def _dot(number: str, typed: str, kind: str) -> Parsed:
    """A dot is a thousands separator to some and a decimal point to others: never guess."""
    bare = number.replace(".", "")
    if not _BABEL_INPUT.fullmatch(bare):
        return _not_a_number(typed, kind)
    unsigned = number.lstrip("+-")
    sign = "−" if number.startswith("-") else ""
    as_thousands = as_decimal = None
    if _DOTTED_THOUSANDS.fullmatch(unsigned):
        as_thousands = sign + unsigned.replace(".", "\u00a0")
    if _DOTTED_DECIMAL.fullmatch(unsigned):
        whole, decimals = unsigned.split(".")
        decimals = decimals.rstrip("0")
        as_decimal = sign + _group(whole.lstrip("0") or "0") + ("," + decimals if decimals else "")
    quoted = _quote(typed)
    if as_thousands and as_decimal:
        text = (
            f'Punkten i "{quoted}" kan betyda både {as_thousands} och {as_decimal}. Skriv tusental '
            f"med mellanslag och decimaler med komma: {as_thousands} eller {as_decimal}."
        )
    elif as_decimal:
        text = f'Punkten i "{quoted}" är tvetydig. Skriv decimaler med komma: {as_decimal}.'
    elif as_thousands:
        text = f'Punkten i "{quoted}" är tvetydig. Skriv tusental med mellanslag: {as_thousands}.'
    else:
        text = (
            f'Punkten i "{quoted}" är tvetydig. Skriv tusental med mellanslag och decimaler '
            "med komma, t.ex. 2\u00a0500 eller 2,5."
        )
    return _problem("tvetydig_punkt", text)


def _wrong_unit(typed: str, kind: str, unit_kind: str, parsed: Decimal) -> Parsed:
    expected = _EXPECTED[kind]
    if kind == "mnkr" and unit_kind in ("tkr", "kr"):
        in_mnkr = parsed / (1000 if unit_kind == "tkr" else 1_000_000)
        expected = (
            f"Cellen ska anges i miljoner kronor (mnkr); "
            f"{_quote(typed)} skrivs {_sv(float(in_mnkr))}."
        )
    return _problem("fel_enhet", f'Enheten i "{_quote(typed)}" passar inte här. {expected}')


def _not_a_number(typed: str, kind: str) -> Parsed:
    hint = _HINT.get(kind, _DEFAULT_HINT)
    return _problem("ej_tal", f'Texten "{_quote(typed)}" är inte ett tal. {hint}')


def _problem(code: str, message: str) -> Parsed:
    return Parsed(None, None, code, message)


def _quote(typed: str) -> str:
    return typed if len(typed) <= _QUOTE_MAX else typed[: _QUOTE_MAX - 1] + "…"


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return "\u00a0".join(parts)


def _sv(value: float) -> str:
    """A number for a message: up to six decimals, no trailing zeros, no-break thousands space."""
    if abs(value) >= 1e15:  # a pasted or computed giant: not hundreds of digits in the message
        mantissa, exponent = f"{abs(value):.2e}".split("e")
        shown = f"{mantissa.replace('.', ',')}·10^{int(exponent)}"
        return ("−" + shown) if value < 0 else shown
    text = f"{abs(value):.6f}".rstrip("0").rstrip(".")
    whole, _, decimals = text.partition(".")
    shown = _group(whole) + ("," + decimals if decimals else "")
    return ("−" + shown) if value < 0 and shown != "0" else shown


@functools.cache
def _babel_parse() -> Callable[[str], Decimal]:
    """babel's strict sv_SE parser, imported the first time it is needed (keeps --help fast)."""
    from babel import Locale
    from babel.numbers import get_group_symbol, parse_decimal

    locale = Locale.parse("sv_SE")
    group = get_group_symbol(locale)  # U+00A0 in CLDR today; follow it if that ever changes

    def parse(text: str) -> Decimal:
        if group != "\u00a0":
            text = text.replace("\u00a0", group)
        return Decimal(parse_decimal(text, locale=locale, strict=True))

    return parse
