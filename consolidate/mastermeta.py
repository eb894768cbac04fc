"""The hidden _meta sheet of the master workbook: what the mail step may rely on."""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .boardmodel import Board, Status
from .doubt import doubt_lines
from .errors import MailError
from .layout import META_SHEET
from .model import UnitState, flat_dict
from .svformat import lacking_phrase, sv_value

MASTER_KIND = "sammanställning"
# Bumped when keys change meaning, so an old mail step refuses a newer master instead of guessing.
META_VERSION = "1"

LEVERERAD, SAKNAS, UNDERKAND, DUBBLETT = (UnitState.DELIVERED, UnitState.MISSING,
                                          UnitState.REJECTED, UnitState.DUPLICATE)
UNIT_STATES = tuple(str(s) for s in UnitState)
STATUS_KEYS = tuple(str(s) for s in Status)

# Keys in the order they are written; "typ" first so a person opening the sheet sees what it is.
_KEYS = ("typ", "metaversion", "verktyg", "namndnamn", "kommun", "period", "periodtext", "fel",
         "varningar", "maskerad", "kalla", "enheter", "status", "forandringar", "kontrollera")
# Keys a master from an earlier version lacks; reading it gives their empty value.
_LATER = {"kontrollera": "[]"}
_MAX_META_ROWS = 5000
_CHUNK = 30_000


@dataclass(frozen=True)
class UnitStatus:
    unit_id: str
    name: str
    email: str
    state: str  # one of UNIT_STATES


@dataclass(frozen=True)
class Move:
    """One indicator's change since the previous period, already phrased in Swedish."""

    indicator_id: str
    name: str
    text: str
    size: float  # |move towards or away from target|, only used to rank


@dataclass(frozen=True)
class MasterSummary:
    tool: str
    board: str
    municipality: str
    period: str
    period_label: str
    errors: int
    warnings: int
    units: tuple[UnitStatus, ...]
    status_counts: dict[str, int]
    moves: tuple[Move, ...]  # largest first
    masked: bool
    source: str
    doubts: tuple[str, ...] = ()  # values to check, one line each (consolidate.doubt.doubt_lines)

    def units_in(self, state: str) -> tuple[UnitStatus, ...]:
        return tuple(unit for unit in self.units if unit.state == state)

    @property
    def complete(self) -> bool:
        """Every unit of the period's plan delivered a valid workbook (RunResult.complete): no
        board figure is ofullständigt underlag for want of a unit."""
        return not (self.units_in(SAKNAS) or self.units_in(UNDERKAND))

    def lacking(self) -> str:
        """'saknar A; underkänd: B', as the master's comments say it (combine.lacking_text)."""
        return lacking_phrase([u.name for u in self.units_in(SAKNAS)],
                              [u.name for u in self.units_in(UNDERKAND)])


def _json(value: Any) -> str:
    # Sorted keys and no NaN so the same run gives the same bytes and any JSON reader can parse it.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def meta_rows(summary: MasterSummary) -> list[tuple[str, str]]:
    """The key/value rows of the _meta sheet, every value as text."""
    rows = {
        "typ": MASTER_KIND,
        "metaversion": META_VERSION,
        "verktyg": summary.tool,
        "namndnamn": summary.board,
        "kommun": summary.municipality,
        "period": summary.period,
        "periodtext": summary.period_label,
        "fel": str(summary.errors),
        "varningar": str(summary.warnings),
        "maskerad": "ja" if summary.masked else "nej",
        "kalla": summary.source,
        "enheter": _json([flat_dict(unit) for unit in summary.units]),
        "status": _json(summary.status_counts),
        "forandringar": _json([flat_dict(move) for move in summary.moves]),
        "kontrollera": _json(list(summary.doubts)),
    }
    return [(key, rows[key]) for key in _KEYS]


def write_meta_sheet(workbook: Any, summary: MasterSummary) -> None:
    """Add the hidden, protected _meta sheet to an open xlsxwriter workbook.

    Call it after the visible sheets: Excel needs a visible sheet to show first.
    """
    rows: list[tuple[str, str]] = []
    for key, value in meta_rows(summary):
        # A cell holds 32 767 characters; a region's unit list is longer, so it continues on
        # rows named "key:2", "key:3" … that the reader joins back in order.
        parts = [value[i:i + _CHUNK] for i in range(0, len(value), _CHUNK)] or [""]
        rows.extend((key if n == 1 else f"{key}:{n}", part)
                    for n, part in enumerate(parts, start=1))
    if len(rows) > _MAX_META_ROWS:
        raise ValueError("_meta would need more rows than the reader accepts")
    sheet = workbook.add_worksheet(META_SHEET)
    for row, (key, value) in enumerate(rows):
        # write_string, never write(): a name or text starting with "=" must stay text.
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, value)
    sheet.protect()
    sheet.hide()


def _not_master(path: Path) -> MailError:
    return MailError(f"{path.name} är inte en sammanställning skriven av consolidate.")


def _damaged(path: Path, detail: str) -> MailError:
    return MailError(
        f"Sammanställningen {path.name} är skadad eller skriven av en annan version av consolidate "
        f"({detail}). Kör consolidate run igen."
    )


def open_read_only(path: Path) -> Any | None:
    """An openpyxl read-only workbook, or None when the file is not an xlsx workbook.

    The caller must close() it: read-only workbooks keep the file open.
    """
    if not path.is_file() or not zipfile.is_zipfile(path):
        return None
    import openpyxl

    try:
        # openpyxl warns about features it ignores (extensions, print settings); irrelevant here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a zip that is not a workbook
        return None


def meta_of(workbook: Any) -> dict[str, str] | None:
    """The _meta sheet of a workbook the tool wrote, as text; None when there is none."""
    if META_SHEET not in workbook.sheetnames:
        return None
    meta: dict[str, str] = {}
    for row in workbook[META_SHEET].iter_rows(min_col=1, max_col=2, max_row=_MAX_META_ROWS,
                                              values_only=True):
        key, value = (tuple(row) + (None, None))[:2]
        if key is None:
            continue
        text = "" if value is None else str(value)
        base, _, number = str(key).rpartition(":")
        if base and number.isdigit() and base in meta:
            meta[base] += text
        else:
            meta[str(key)] = text
    return meta


def read_meta(path: Path) -> dict[str, str] | None:
    """The _meta sheet of the workbook at path; None when it is not a workbook or has none."""
    workbook = open_read_only(path)
    if workbook is None:
        return None
    try:
        return meta_of(workbook)
    finally:
        workbook.close()


def read_master_summary(path: Path) -> MasterSummary:
    """Read the summary the run left in the master workbook's _meta sheet."""
    if not path.is_file():
        raise MailError(f"Filen {path} finns inte.")
    meta = read_meta(path)
    if meta is None or meta.get("typ") != MASTER_KIND:
        raise _not_master(path)
    if meta.get("metaversion") != META_VERSION:
        raise _damaged(path, f"okänd metaversion {meta.get('metaversion', '')!r}")
    meta = _LATER | meta
    missing = [key for key in _KEYS if key not in meta]
    if missing:
        raise _damaged(path, "saknar " + ", ".join(missing))
    try:
        return MasterSummary(
            tool=meta["verktyg"],
            board=meta["namndnamn"],
            municipality=meta["kommun"],
            period=meta["period"],
            period_label=meta["periodtext"],
            errors=_count(meta["fel"]),
            warnings=_count(meta["varningar"]),
            units=tuple(_unit(item) for item in _list(meta["enheter"])),
            status_counts=_status(meta["status"]),
            moves=tuple(_move(item) for item in _list(meta["forandringar"])),
            masked=_flag(meta["maskerad"]),
            source=meta["kalla"],
            doubts=_lines(meta["kontrollera"]),
        )
    except _Bad as error:
        raise _damaged(path, str(error)) from error
    except (ValueError, TypeError, KeyError) as error:
        # json/int messages are English and technical; the cause stays chained for a developer.
        raise _damaged(path, "fliken _meta går inte att tolka") from error


class _Bad(ValueError):
    """A _meta value with the right syntax but a wrong meaning; the message is Swedish."""


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise _Bad(f"negativt antal {value}")
    return value


def _flag(text: str) -> bool:
    if text not in ("ja", "nej"):
        raise _Bad(f"maskerad ska vara ja eller nej, inte {text!r}")
    return text == "ja"


def _list(text: str) -> list[dict[str, Any]]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _Bad("förväntade en lista")
    return value


def _lines(text: str) -> tuple[str, ...]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Bad("förväntade en lista med text")
    return tuple(value)


def _text(item: dict[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise _Bad(f"fältet {key} är inte text")
    return value


def _unit(item: dict[str, Any]) -> UnitStatus:
    state = _text(item, "state")
    if state not in UNIT_STATES:
        raise _Bad(f"okänt enhetsläge {state!r}")
    return UnitStatus(unit_id=_text(item, "unit_id"), name=_text(item, "name"),
                      email=_text(item, "email"), state=state)


def _move(item: dict[str, Any]) -> Move:
    size = item["size"]
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise _Bad("en förändrings storlek är inte ett tal")
    return Move(indicator_id=_text(item, "indicator_id"), name=_text(item, "name"),
                text=_text(item, "text"), size=float(size))


def _status(text: str) -> dict[str, int]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise _Bad("status är inte en tabell")
    counts: dict[str, int] = {}
    for key, count in value.items():
        if key not in STATUS_KEYS:
            raise _Bad(f"okänd status {key!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise _Bad(f"antal för {key} är inte ett heltal")
        counts[key] = count
    return counts


def summary_of(board: Board, tool: str, source: str = "") -> MasterSummary:
    """What the mail step needs from a board, taken from the board model (masked when it is)."""
    states = board.unit_states()
    units = tuple(UnitStatus(u.id, u.name, u.email, str(states.get(u.id, UnitState.MISSING)))
                  for u in board.units)
    counts = {str(s): 0 for s in Status}
    for row in board.rows:
        counts[str(row.judgement.status)] += 1
    moves = []
    for row in board.rows:
        ind, j = row.indicator, row.judgement
        current = row.current.value.shown
        previous = None if j.previous is None else j.previous.shown
        if current is None or previous is None or j.previous_column is None:
            continue
        span = (abs((ind.target if ind.target is not None else ind.baseline) - ind.baseline)
                or abs(ind.baseline) or 1.0)
        toward = (current - previous) * (1 if ind.direction == "ökning" else -1)
        target = (sv_value(ind.target, ind.kind, ind.decimals) if ind.target is not None
                  else ind.target_text)
        text = (f"{ind.name}: {sv_value(previous, ind.kind, ind.decimals)} "
                f"({j.previous_column.key}) → "
                f"{sv_value(current, ind.kind, ind.decimals)} ({board.period}), "
                f"{'mot' if toward > 0 else 'från'} börläget {target}")
        moves.append(Move(ind.id, ind.name, text, abs(toward) / span))
    moves.sort(key=lambda m: (-m.size, m.indicator_id))
    return MasterSummary(
        tool=tool, board=board.catalog.board.name, municipality=board.catalog.board.municipality,
        period=str(board.period), period_label=board.period.label, errors=board.report.errors,
        warnings=board.report.warnings, units=units, status_counts=counts, moves=tuple(moves),
        masked=board.masked, source=source, doubts=tuple(doubt_lines(board.doubts, where=False)),
    )
