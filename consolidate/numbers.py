"""Parse what a unit head typed into a number cell, Swedish style, into a float or a rule code and
its fields."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping
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
# How a kind is written, for "fel_enhet": (in what, an example).
_EXPECTED = {
    "antal": ("som ett antal", "1\u00a0931 eller 1\u00a0931 st"),
    "andel": ("i procent", "42 % eller 4,2 %"),
    "procent": ("i procent", "42 % eller 4,2 %"),
    "arsarbetare": ("i årsarbetare (åa)", "12,5"),
    "mnkr": ("i miljoner kronor (mnkr)", "177,9"),
    "dygn": ("i antal dygn", "365"),
}
# What to type instead of text that is no number, for "ej_tal": (how, an example).
_HINT = {
    "andel": ("ett tal med procenttecken", "42 % eller 4,2 %"),
    "procent": ("ett tal med procenttecken", "42 % eller 4,2 %"),
    "mnkr": ("bara siffror i miljoner kronor", "177,9"),
    "arsarbetare": ("bara siffror", "12 eller 12,5"),
}
_DEFAULT_HINT = ("bara siffror", "1\u00a0931 eller 170,2")
_QUOTE_MAX = 100
# A number in a cell formatted as percent shows as value × 100 %. Up to 200 % it reads as a share
# over 100 % (Excel stores "105" typed into a percent cell as 1,05, shown as 105 %); beyond that a
# number was more likely pasted in the wrong scale (64 meaning 64 %, shown as 6 400 %).
_SHOWN_SHARE_MAX = 2.0


@dataclass(frozen=True, slots=True)
class Parsed:
    value: float | None  # None = empty cell (or problem)
    text: str | None  # for kind "text": the cleaned text; else None
    code: str | None  # None when fine, else a rule code (findings.RULES)
    params: Mapping[str, str] | None  # the rule's message fields, all but the cell's label


_EMPTY = Parsed(None, None, None, None)


def parse_cell(raw: object, kind: str, *, percent_format: bool = False) -> Parsed:
    """What a cell of this kind holds; never raises for any raw value (an unknown kind is a bug).

    percent_format: the cell's number format shows it as a percentage, so a number in it means
    what it shows (1,05 is 105 %) and is not taken for a scale mix-up up to 200 %."""
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"unknown number kind {kind!r}; expected one of {KINDS}")
    if type(raw) is float or type(raw) is int:  # the common case, before anything else
        return _number(raw, kind, percent_format)
    return _parse(raw, kind, percent_format)


def _parse(raw: object, kind: str, percent_format: bool) -> Parsed:
    if raw is None:
        return _EMPTY
    if isinstance(raw, str):
        return _string(raw, kind)
    if isinstance(raw, bool):
        shown = "SANT" if raw else "FALSKT"
        if kind == "text":
            return Parsed(None, shown, None, None)
        return _problem("fel_celltyp", what="ett sanningsvärde", shown=shown)
    if isinstance(raw, (int, float)):  # subclasses of int/float
        return _number(raw, kind, percent_format)
    if kind == "text":
        return Parsed(None, str(raw).strip() or None, None, None)
    if isinstance(raw, dt.datetime):
        shown = raw.strftime("%Y-%m-%d" if raw.time() == dt.time() else "%Y-%m-%d %H:%M")
        return _problem("fel_celltyp", what="ett datum", shown=shown)
    if isinstance(raw, dt.date):
        return _problem("fel_celltyp", what="ett datum", shown=raw.isoformat())
    if isinstance(raw, dt.time):
        shown = raw.strftime("%H:%M" if raw.second == 0 else "%H:%M:%S")
        return _problem("fel_celltyp", what="ett klockslag", shown=shown)
    if isinstance(raw, dt.timedelta):
        seconds = int(raw.total_seconds())
        sign, seconds = ("−", -seconds) if seconds < 0 else ("", seconds)
        shown = f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return _problem("fel_celltyp", what="en tidslängd", shown=shown)
    # calamine yields none of these; a caller might. Its str() is not trusted to work.
    return _problem("fel_celltyp", what="ett värde av okänd typ", shown=type(raw).__name__)


def _number(raw: int | float, kind: str, percent_format: bool = False) -> Parsed:
    if kind == "text":
        if isinstance(raw, float) and raw.is_integer():
            return Parsed(None, str(int(raw)), None, None)
        # float.__repr__, not str(raw): a subclass may override __str__.
        return Parsed(None, float.__repr__(raw) if isinstance(raw, float) else int.__repr__(raw),
                      None, None)
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        return _problem("ogiltigt_tal")
    if kind in _SHARE and value > 1 and not (percent_format and value <= _SHOWN_SHARE_MAX):
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
    return Parsed(value, None, "procent_skala", {
        "shown": shown, "as_percent": _sv(value * 100), "number": _sv(value),
        "fraction": _sv(value / 100)})


def _dot(number: str, typed: str, kind: str) -> Parsed:
    """A dot is a thousands separator to some and a decimal point to others: never guess."""
    bare = number.replace(".", "")
    if not _BABEL_INPUT.fullmatch(bare):
        return _not_a_number(typed, kind)
    unsigned = number.lstrip("+-")
    sign = "−" if number.startswith("-") else ""
    readings = []
    if _DOTTED_THOUSANDS.fullmatch(unsigned):
        readings.append(sign + unsigned.replace(".", "\u00a0"))
    if _DOTTED_DECIMAL.fullmatch(unsigned):
        whole, decimals = unsigned.split(".")
        decimals = decimals.rstrip("0")
        readings.append(sign + _group(whole.lstrip("0") or "0")
                        + ("," + decimals if decimals else ""))
    # Neither reading fits ("1.2.3"): show how the two separators are written.
    suggestion = " eller ".join(readings) if readings else "2\u00a0500 eller 2,5"
    return _problem("tvetydig_punkt", typed=_quote(typed), suggestion=suggestion)


def _wrong_unit(typed: str, kind: str, unit_kind: str, parsed: Decimal) -> Parsed:
    written_in, example = _EXPECTED[kind]
    suggestion = f"t.ex. {example}"
    if kind == "mnkr" and unit_kind in ("tkr", "kr"):  # the same amount, in mnkr
        suggestion = _sv(float(parsed / (1000 if unit_kind == "tkr" else 1_000_000)))
    return _problem("fel_enhet", typed=_quote(typed), written_in=written_in, suggestion=suggestion)


def _not_a_number(typed: str, kind: str) -> Parsed:
    how, example = _HINT.get(kind, _DEFAULT_HINT)
    return _problem("ej_tal", typed=_quote(typed), how=how, example=example)


def _problem(code: str, **params: str) -> Parsed:
    return Parsed(None, None, code, params)


def _quote(typed: str) -> str:
    return typed if len(typed) <= _QUOTE_MAX else typed[: _QUOTE_MAX - 1] + "…"


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return "\u00a0".join(parts)


def _sv(value: float) -> str:
    """A number for a message: up to six decimals, no trailing zeros, no-break thousands space."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞"
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
