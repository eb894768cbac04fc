"""Whose workbook this is: the hidden _meta sheet, unit, period, and where the file lies."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .cells import Workbook
from .errors import PeriodError
from .guard import refuse
from .layout import META_SHEET, TEMPLATE_ID, TEMPLATE_VERSION
from .periods import Period, find_period_in_text, parse_period

# The tool's own outputs that are never submissions. A feedback copy ("återkoppling") is not one of
# them: a unit head corrects the marked cells in it and hands it in again.
TOOL_KINDS = {"sammanställning": "en sammanställning"}


@dataclass(frozen=True)
class Identity:
    """What the _meta sheet says, checked: a tool output has only `kind`, `unit` and
    `period_text`."""

    kind: str
    unit: str
    period_text: str
    period: Period | None = None
    catalog: str = ""  # the fingerprint of the catalog the template was made from
    digest: str = ""   # a feedback copy's values digest when it was written
    content: str | None = None  # the fingerprint of the template's own cells (None: an older
                                # template)


def meta(workbook: Workbook | None) -> dict[str, str]:
    """The _meta sheet's key-value rows (the first 50), values as text."""
    if workbook is None:
        return {}
    rows = workbook.sheet(META_SHEET).rows
    found: dict[str, str] = {}
    for row in rows[:50]:
        if len(row) >= 2 and isinstance(row[0], str) and row[0]:
            value = row[1]
            found[row[0]] = value if isinstance(value, str) else (
                str(int(value)) if isinstance(value, float) and value.is_integer() else str(value))
    return found


def identify(workbook: Workbook | None, catalog: Catalog, path: Path, root: Path | None,
             label: str) -> Identity:
    """The template's identity from _meta, refused when it is no template of this catalog or when
    the file's name or folder says another period or unit."""
    values = meta(workbook)
    kind = values.get("typ", "")
    if kind in TOOL_KINDS:
        return Identity(kind, values.get("enhet", ""), values.get("period", ""))
    if workbook is None or values.get("mall_id") != TEMPLATE_ID:
        raise refuse("ej_mall", label)
    version = values.get("mallversion", "")
    if version != str(TEMPLATE_VERSION):
        raise refuse("gammal_mall", label, value=version, expected=str(TEMPLATE_VERSION),
                     version=version or "okänd", current=str(TEMPLATE_VERSION))
    unit = values.get("enhet", "")
    if not catalog.has_unit(unit):
        raise refuse("okand_enhet", label, value=unit, unit_id=unit)
    text = values.get("period", "")
    try:
        period = parse_period(text)
    except PeriodError:
        raise refuse("ogiltig_period", label, unit=unit, sheet=META_SHEET, value=text,
                     period_text=text) from None
    _check_place(path, root, unit, period, catalog, label)
    return Identity(kind, unit, str(period), period, values.get("katalog", ""),
                    values.get("vardehash", ""), values.get("innehall"))


def _check_place(path: Path, root: Path | None, unit: str, period: Period, catalog: Catalog,
                 label: str) -> None:
    """A file whose name or folder suggests another period or unit than its meta is refused."""
    where = {"unit": unit, "period": str(period)}
    by_name = find_period_in_text(path.name)
    if by_name is not None and by_name != period:
        raise refuse("fel_period", label, **where, value=str(period), expected=str(by_name),
                     source="Filnamnet", named=str(by_name), period_text=str(period))
    for folder in _folders(path, root):
        by_folder = find_period_in_text(folder)
        if by_folder is not None:
            if by_folder != period:
                raise refuse("fel_period", label, **where, value=str(period),
                             expected=str(by_folder), source=f"Mappen '{folder}'",
                             named=str(by_folder), period_text=str(period))
            break
    named = _units_named(path.stem, catalog)
    if named:
        longest = max(named, key=len)
        if longest != unit and unit not in named:
            raise refuse("fel_enhet_fil", label, **where, value=unit, expected=longest,
                         named=longest, unit_name=catalog.unit(unit).name, unit_id=unit)


_NOT_ID = re.compile(r"[^a-z0-9_]+")


def _units_named(stem: str, catalog: Catalog) -> set[str]:
    """Unit ids in a file name as whole words ('_' joins or separates them): '2025-T2_barn_unga_v2'
    names barn_unga, 'vuxenstöd' names no unit vuxen. One set lookup per run of words: thousands of
    units cost nothing per file."""
    found = set()
    for chunk in _NOT_ID.split(stem.lower()):
        words = chunk.split("_")
        for start in range(len(words)):
            for end in range(start + 1, len(words) + 1):
                candidate = "_".join(words[start:end])
                if catalog.has_unit(candidate):
                    found.add(candidate)
    return found


def _folders(path: Path, root: Path | None) -> list[str]:
    """Folder names from the file upwards: up to and including the checked folder, or just the
    parent."""
    if root is None:
        return [path.parent.name]
    try:
        inside = path.parent.relative_to(root)
    except ValueError:
        return [path.parent.name]
    return [*reversed(inside.parts), _folder_name(str(root.absolute()))]


@functools.lru_cache(maxsize=64)
def _folder_name(root: str) -> str:
    """The checked folder's real name ('.' or a link named 'aktuell' says nothing); once per run."""
    return Path(root).resolve().name
