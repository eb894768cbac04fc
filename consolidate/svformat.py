"""Swedish presentation of numbers in messages: 1 931, 170,2, 4,2 %."""

from __future__ import annotations

from collections.abc import Sequence

_SHARE_KINDS = {"andel", "procent", "beläggningsgrad"}


def sv_number(value: float | None, decimals: int | None = None) -> str:
    if value is None:
        return "–"
    if decimals is None:
        # Float noise (56 / 200 * 100 = 28.000000000000004) must not show as "28,0".
        near = round(float(value), 6)
        decimals = 0 if near.is_integer() else (1 if round(near, 1) == near else 2)
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",").replace("-", "−")


def sv_percent(fraction: float | None, decimals: int | None = None) -> str:
    if fraction is None:
        return "–"
    return f"{sv_number(fraction * 100, decimals)} %"


def sv_value(value: float | None, kind: str, decimals: int | None = None) -> str:
    """A value as a unit head would write it, by kind."""
    if kind in _SHARE_KINDS:
        return sv_percent(value, decimals)
    if kind == "mnkr":
        return f"{sv_number(value, 1 if decimals is None else decimals)} mnkr"
    return sv_number(value, decimals)


def count_text(n: int, one: str, many: str) -> str:
    """'1 fil', '2 filer': a count with the Swedish singular or plural."""
    return f"{n} {one if n == 1 else many}"


def names_text(names: Sequence[str]) -> str:
    """'A', 'A och B', 'A, B och C'."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def lacking_phrase(missing: Sequence[str], rejected: Sequence[str]) -> str:
    """Who is lacking, by name: 'saknar A och B; underkänd: C' (a unit that handed in a rejected
    file is not missing). One wording for the master, the terminal and the mail."""
    parts = ([f"saknar {names_text(missing)}"] if missing else []) + (
        [f"underkänd: {names_text(rejected)}"] if rejected else [])
    return "; ".join(parts)
