"""Reminders: to each unit that is missing or rejected for the period, the rejected with a feedback
copy of their newest file attached; none to those that delivered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .catalog import Catalog
from .delivery import REMINDER, Batch, Outgoing
from .errors import MailError
from .feedback import write_feedback
from .mail import Block, attach_xlsx, new_message, one_address, paragraph
from .model import Finding, RegisterEntry, Severity, UnitState
from .status import FolderStatus, due_text
from .svformat import count_text
from .templatemail import hand_in_text

MAX_LISTED = 20  # the attached copy holds every finding


def _due(status: FolderStatus) -> str:
    late = status.days_left is not None and status.days_left < 0
    return due_text(status.due, status.today) + (" Lämna in så snart ni kan." if late else "")


def _missing_blocks(status: FolderStatus, unit_name: str) -> list[Block]:
    return [paragraph("Hej!"),
            paragraph(f"Vi har ännu inte fått er tertialuppföljning för {status.period.label} "
                      f"från {unit_name}. {_due(status)}"),
            paragraph(hand_in_text()),
            paragraph("Har ni inte kvar mallen? Svara på det här meddelandet, så skickar vi den "
                      "igen.")]


def _rejected_blocks(status: FolderStatus, entry: RegisterEntry, findings: list[Finding],
                     copy: Path | None) -> list[Block]:
    errors = [f for f in findings if f.severity == Severity.ERROR]
    blocks = [paragraph("Hej!"),
              paragraph(f"Vi har fått er tertialuppföljning för {status.period.label} från "
                        f"{entry.unit_name}, filen {Path(entry.file).name}, men den har "
                        f"{count_text(len(errors), 'fel', 'fel')} som måste rättas innan den kan "
                        f"tas med i sammanställningen till nämnden. {_due(status)}"),
              Block("heading", ("Fel – måste rättas",)),
              Block("list", tuple(f"{f.address or 'Hela filen'}: {f.message}"
                                  for f in errors[:MAX_LISTED]))]
    if len(errors) > MAX_LISTED:
        blocks.append(paragraph(f"… och {len(errors) - MAX_LISTED} till."))
    steps = ["Öppna er ursprungliga arbetsbok – inte den bifogade kopian.",
             (f"Rätta de markerade cellerna. Den bifogade filen {copy.name} visar var de finns och "
              "vad som är fel." if copy is not None else
              "Rätta det som står ovan (en kopia med felen markerade kunde inte göras av filen)."),
             hand_in_text(book="den rättade arbetsboken")]
    return blocks + [Block("heading", ("Så gör ni",)), Block("list", tuple(steps))]


def build_reminders(status: FolderStatus, catalog: Catalog, *, sender: str, feedback_dir: Path,
                    date: dt.datetime | None = None) -> Batch:
    """One reminder per unit that is missing or rejected in `status`. A rejected unit's newest file
    gets a feedback copy in feedback_dir (consolidate.feedback, as `check --feedback` writes it),
    attached to its reminder."""
    one_address(sender, "avsändare")
    inputs = [Path(s.path) for s in status.checked.submissions]
    items: list[Outgoing] = []
    problems: list[str] = []
    for entry in status.lacking():
        unit = catalog.unit(entry.unit)
        if not unit.email.strip():
            problems.append(f"{unit.name} har ingen e-postadress i katalogen; ingen påminnelse.")
            continue
        period = str(status.period)
        copy: Path | None = None
        if entry.state == UnitState.MISSING:
            subject = f"Påminnelse: tertialuppföljning {period} – {unit.name}"
            blocks = _missing_blocks(status, unit.name)
        else:
            sub = status.submission(entry)
            findings = status.findings(entry)
            if sub is not None:
                copy = write_feedback(Path(sub.path), findings, feedback_dir, inputs=inputs,
                                      value_digest=sub.digest, catalog=catalog)
            subject = f"Påminnelse: rätta er tertialuppföljning {period} – {unit.name}"
            blocks = _rejected_blocks(status, entry, findings, copy)
        try:
            msg = new_message(sender=sender, to=[unit.email], cc=(), subject=subject, date=date,
                              blocks=blocks)
            if copy is not None:
                attach_xlsx(msg, copy)
        except MailError as error:
            problems.append(f"Påminnelsen till {unit.name}: {error}")
            continue
        items.append(Outgoing(msg, REMINDER, period, unit.id))
    return Batch(tuple(items), tuple(problems))
