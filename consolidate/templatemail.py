"""Templates out: each unit's template from a template folder, to the unit head in the catalog, with
the deadline and a short instruction."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

from .catalog import Catalog
from .deadlines import sv_date
from .delivery import TEMPLATE, Batch, Outgoing
from .discover import is_lock_file
from .errors import MailError, PeriodError
from .layout import TEMPLATE_ID, TEMPLATE_VERSION
from .mail import Block, attach_xlsx, new_message, one_address, paragraph
from .mastermeta import read_meta
from .periods import Period, parse_period
from .svformat import names_text


def template_files(folder: Path) -> list[Path]:
    """The workbooks directly in the folder, sorted by name (NFC: macOS writes NFD)."""
    if not folder.is_dir():
        raise MailError(f"Mappen {folder} finns inte.")
    return sorted((p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() == ".xlsx" and not is_lock_file(p)),
                  key=lambda p: unicodedata.normalize("NFC", p.name))


def _identity(path: Path, catalog: Catalog) -> tuple[str, Period]:
    """The template's unit and period from its _meta; MailError (Swedish) when it is not one of the
    catalog's current templates."""
    meta = read_meta(path)
    if meta is None or meta.get("mall_id") != TEMPLATE_ID:
        raise MailError(f"{path.name}: är ingen mall från consolidate template.")
    if meta.get("mallversion") != str(TEMPLATE_VERSION):
        raise MailError(f"{path.name}: är en äldre mallversion; skriv nya mallar med consolidate "
                        "template.")
    unit = meta.get("enhet", "")
    if not catalog.has_unit(unit):
        raise MailError(f"{path.name}: enheten {unit!r} finns inte i katalogen.")
    try:
        period = parse_period(meta.get("period", ""))
    except PeriodError:
        raise MailError(f"{path.name}: perioden i mallen går inte att läsa.") from None
    if not catalog.unit_active(unit, period):
        raise MailError(f"{path.name}: {catalog.unit(unit).name} ingår inte i planen för {period}.")
    if meta.get("innehall") != catalog.template_fingerprint(unit, period):
        # A template from before a change of the plan would be refused when it comes back.
        raise MailError(f"{path.name}: mallen stämmer inte med katalogen som den ser ut nu (den "
                        "gjordes före en ändring av indikatorer eller tabeller). Skriv nya mallar "
                        f"med consolidate template --period {period}.")
    return unit, period


def hand_in_text(due: dt.date | None = None, book: str = "den ifyllda arbetsboken") -> str:
    return (f"Lämna {book} i den gemensamma mappen eller skicka den som svar på det här "
            "meddelandet" + (f", senast {sv_date(due)}." if due else "."))


def _blocks(catalog: Catalog, unit_name: str, period: Period, attachment: str) -> list[Block]:
    due = catalog.settings.deadlines.due(period)
    blocks = [paragraph("Hej!"),
              paragraph(f"Här kommer er mall för tertialuppföljningen, {period.label} "
                        f"({unit_name}), i den bifogade filen {attachment}.")]
    if due is not None:
        blocks.append(paragraph(f"Sista dag för inlämning: {sv_date(due)}."))
    blocks += [Block("heading", ("Så gör ni",)), Block("list", (
        "Spara den bifogade filen och öppna den i Excel. Fyll i de gula cellerna; instruktionen "
        "finns på första fliken.",
        "Skriv tal som vanligt (1 931, 170,2 eller 4,2 %) och 0 när värdet är noll: en tom cell "
        "betyder att värdet saknas.",
        "Röda kontrollceller visar det som inte stämmer; rätta det innan ni lämnar in.",
        "Behåll filnamnet och flikarnas namn.",
        hand_in_text(due),
    )), paragraph(f"Frågor besvaras av {catalog.board.contact}.")]
    return blocks


def build_template_messages(folder: Path, catalog: Catalog, *, sender: str,
                            period: str | None = None,
                            date: dt.datetime | None = None) -> Batch:
    """One message per unit with its template from `folder` (one period: `period`, or the only one
    there). Files that are no current template, and units of the period's plan without one, are
    problem lines; the others still go."""
    one_address(sender, "avsändare")
    found: list[tuple[Path, str, Period]] = []
    problems: list[str] = []
    for path in template_files(folder):
        try:
            found.append((path, *_identity(path, catalog)))
        except MailError as error:
            problems.append(str(error))
    periods = sorted({p for _, _, p in found})
    if period is not None:
        wanted = parse_period(period)
    elif len(periods) > 1:
        raise MailError(f"Mappen {folder} har mallar för {names_text([str(p) for p in periods])}. "
                        "Ange perioden med --period.")
    elif periods:
        wanted = periods[0]
    else:
        raise MailError(f"Det finns inga mallar från consolidate template i {folder}.")
    items: list[Outgoing] = []
    sent_to: set[str] = set()
    for path, unit_id, when in found:
        if when != wanted:
            continue
        unit = catalog.unit(unit_id)
        if not unit.email.strip():
            problems.append(f"{path.name}: {unit.name} har ingen e-postadress i katalogen.")
            continue
        if unit_id in sent_to:
            problems.append(f"{path.name}: {unit.name} har redan en mall i mappen; den skickas "
                            "inte två gånger.")
            continue
        name = unicodedata.normalize("NFC", path.name)
        subject = f"Mall för tertialuppföljning {wanted} – {unit.name}"
        due = catalog.settings.deadlines.due(wanted)
        if due is not None:
            subject += f" – lämna in senast {sv_date(due)}"
        try:
            msg = new_message(sender=sender, to=[unit.email], cc=(), subject=subject, date=date,
                              blocks=_blocks(catalog, unit.name, wanted, name))
            attach_xlsx(msg, path)
        except MailError as error:
            problems.append(f"{path.name}: {error}")
            continue
        sent_to.add(unit_id)
        items.append(Outgoing(msg, TEMPLATE, str(wanted), unit_id))
    for unit in catalog.units_in(wanted):
        if unit.id not in sent_to and not any(u == unit.id and p == wanted for _, u, p in found):
            problems.append(f"Ingen mall för {unit.name} ({wanted}) i {folder}; skriv den med "
                            f"consolidate template --period {wanted} --enhet {unit.id}.")
    return Batch(tuple(items), tuple(problems))
