"""Messages out: each one written to the outbox or sent by SMTP, and logged as it goes."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from .errors import MailError
from .maillog import append, line_for, start_log
from .smtp import SmtpSettings, send, write_outbox

# What a message is, in the log's "typ" column.
MASTER, FEEDBACK, TEMPLATE, REMINDER = "sammanställning", "återkoppling", "mall", "påminnelse"


@dataclass(frozen=True)
class Outgoing:
    """One message and what it is about, for the log."""

    message: EmailMessage
    kind: str
    period: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Batch:
    """Messages to send, and Swedish lines for those that could not be made."""

    items: tuple[Outgoing, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    item: Outgoing
    ok: bool
    text: str  # Swedish, for the terminal
    path: Path | None = None  # the .eml file in the outbox


def deliver(items: Sequence[Outgoing], *, outbox: Path, settings: SmtpSettings | None, log: Path,
            report: Callable[[Outcome], None] | None = None,
            clock: Callable[[], dt.datetime] | None = None) -> list[Outcome]:
    """Write each message to the outbox (settings None) or send it, and append a line to the log
    after each one; `report` hears of each outcome as it happens.

    The log is opened first: when it cannot be written nothing goes out. A message the server
    refuses is logged as not sent and the others still go; a full disk stops the batch."""
    if not items:
        return []
    start_log(log)
    outcomes: list[Outcome] = []
    for item in items:
        if settings is None:
            path = write_outbox(item.message, outbox)
            outcome = Outcome(item, True, f"Skrivet till utkorgen: {path}", path)
            result = f"utkorg: {os.path.abspath(path)}"
        else:
            where = f"{settings.host}:{settings.port}"
            try:
                sent = send(item.message, settings)
            except MailError as error:
                outcome = Outcome(item, False, f"Fel: {error}")
                result = f"ej skickat ({where}): {error}"
            else:
                outcome = Outcome(item, sent.complete, sent.describe())
                result = f"skickat via {where}, servern svarade {sent.reply or 'inget'}; " + (
                    f"mottaget för {', '.join(sent.accepted)}" if sent.accepted else "")
                if sent.refused:
                    result += "; INTE för " + ", ".join(
                        f"{r.address} ({r.code} {r.reply})" for r in sent.refused)
        append(log, line_for(item.message, item.kind, item.period, item.unit, result,
                             clock() if clock else None))
        outcomes.append(outcome)
        if report is not None:
            report(outcome)
    return outcomes
