"""Feedback copies to unit heads: one message per unit, listing what to correct, the copy
attached."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .errors import MailError
from .layout import FEEDBACK_SHEET
from .mail import Block, attach_xlsx, new_message, one_address, one_line, paragraph
from .mastermeta import meta_of, open_read_only
from .svformat import count_text

FEEDBACK_SUFFIX = "_återkoppling.xlsx"
FEEDBACK_KIND = "återkoppling"
# A unit head reads a list, not a dump: the attachment holds every finding.
MAX_LISTED_FINDINGS = 40
_FEEDBACK_COLUMNS = {"Allvarlighet": "severity", "Flik": "sheet", "Cell": "cell", "Regel": "rule",
                     "Meddelande": "message"}
_MAX_FEEDBACK_ROWS = 5_000


# --- Feedback to unit heads -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFinding:
    severity: str
    sheet: str
    cell: str
    rule: str
    message: str

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.cell or "hela filen"


@dataclass(frozen=True)
class FeedbackMail:
    unit_id: str
    path: Path
    findings: tuple[FeedbackFinding, ...]
    message: EmailMessage = field(compare=False)


@dataclass(frozen=True)
class FeedbackBatch:
    """One message per feedback copy, and Swedish lines for copies that could not be mailed."""

    messages: tuple[FeedbackMail, ...]
    problems: tuple[str, ...]


def feedback_files(feedback_dir: Path) -> list[Path]:
    """The feedback copies in a folder, sorted; names compared in NFC (macOS writes NFD)."""
    if not feedback_dir.is_dir():
        raise MailError(f"Mappen {feedback_dir} finns inte.")
    return sorted(
        (path for path in feedback_dir.iterdir()
         if path.is_file() and not path.name.startswith(("~$", ".~lock"))
         and unicodedata.normalize("NFC", path.name).endswith(FEEDBACK_SUFFIX)),
        key=lambda path: unicodedata.normalize("NFC", path.name),
    )


class _Skip(Exception):
    """A feedback copy that cannot be mailed; the message is Swedish."""


def _read_feedback(path: Path) -> tuple[dict[str, str], tuple[FeedbackFinding, ...]]:
    workbook = open_read_only(path)
    if workbook is None:
        raise _Skip(f"{path.name}: kan inte öppnas som en Excel-arbetsbok.")
    try:
        meta = meta_of(workbook)
        if meta is None or meta.get("typ") != FEEDBACK_KIND:
            raise _Skip(f"{path.name}: är inte en återkopplingskopia från consolidate check.")
        if FEEDBACK_SHEET not in workbook.sheetnames:
            raise _Skip(f"{path.name}: fliken {FEEDBACK_SHEET} saknas.")
        rows = workbook[FEEDBACK_SHEET].iter_rows(min_col=1, max_col=20,
                                                  max_row=_MAX_FEEDBACK_ROWS, values_only=True)
        header = [str(value).strip() if value is not None else "" for value in next(rows, ())]
        columns = {_FEEDBACK_COLUMNS[name]: index for index, name in enumerate(header)
                   if name in _FEEDBACK_COLUMNS}
        if "severity" not in columns or "message" not in columns:
            raise _Skip(f"{path.name}: fliken {FEEDBACK_SHEET} saknar kolumnerna "
                        "Allvarlighet och Meddelande.")
        findings: list[FeedbackFinding] = []
        for row in rows:
            values = {key: _cell_text(row, index) for key, index in columns.items()}
            if not values["severity"]:
                continue  # not a finding: blank, or the "Inga fel eller varningar" line
            findings.append(FeedbackFinding(
                severity=values.get("severity", ""), sheet=values.get("sheet", ""),
                cell=values.get("cell", ""), rule=values.get("rule", ""),
                message=values.get("message", "")))
        return meta, tuple(findings)
    finally:
        workbook.close()


def _cell_text(row: tuple[Any, ...], index: int) -> str:
    value = row[index] if index < len(row) else None
    return "" if value is None else one_line(str(value))


def _feedback_blocks(unit_name: str, period: str, findings: Sequence[FeedbackFinding],
                     attachment: str) -> list[Block]:
    errors = [f for f in findings if f.severity == "fel"]
    warnings = [f for f in findings if f.severity == "varning"]
    others = [f for f in findings if f.severity not in ("fel", "varning")]
    blocks = [paragraph("Hej!")]
    if not findings:
        blocks.append(paragraph(f"Vi har granskat er tertialuppföljning för {period} "
                         f"({unit_name}) och hittade inget att anmärka på. Tack!"))
        return blocks
    blocks.append(paragraph(f"Vi har granskat er tertialuppföljning för {period} ({unit_name}) och "
                     f"hittade {len(errors)} fel och "
                     f"{count_text(len(warnings), 'varning', 'varningar')}."))
    listed = 0
    for group, heading in ((errors, "Fel – måste rättas"),
                           (warnings, "Varningar – kontrollera att värdet stämmer"),
                           (others, "Övrigt")):
        room = MAX_LISTED_FINDINGS - listed
        if not group or room <= 0:
            continue
        lines = [f"{f.where}: {f.message}" for f in group[:room]]
        listed += len(lines)
        blocks += [Block("heading", (heading,)), Block("list", tuple(lines))]
    if listed < len(findings):
        blocks.append(paragraph(f"… och {len(findings) - listed} till. Alla finns på fliken "
                         f"{FEEDBACK_SHEET} i den bifogade filen."))
    blocks.append(Block("heading", ("Så gör ni",)))
    blocks.append(Block("list", (
        "Öppna er ursprungliga arbetsbok – inte den bifogade kopian.",
        (f"Rätta de markerade cellerna. Den bifogade filen {attachment} visar var de finns och "
         "vad som är fel."),
        "Spara och skicka tillbaka arbetsboken genom att svara på det här meddelandet.",
    )))
    if not errors:
        blocks.append(paragraph("Det finns inga fel, bara varningar: stämmer värdena behöver ni "
                         "inte ändra något, men skriv gärna en kommentar i arbetsboken."))
    return blocks


def build_feedback_messages(feedback_dir: Path, units: Mapping[str, tuple[str, str]], *,
                            sender: str, date: dt.datetime | None = None) -> FeedbackBatch:
    """One message per *_återkoppling.xlsx in feedback_dir, to the unit head of its unit.

    units maps unit id to (unit name, e-mail). A copy that cannot be mailed becomes a problem line,
    so one bad file does not stop the others.
    """
    one_address(sender, "avsändare")  # fail once, not once per file
    mails: list[FeedbackMail] = []
    problems: list[str] = []
    for path in feedback_files(feedback_dir):
        try:
            meta, findings = _read_feedback(path)
            unit_id = meta.get("enhet", "")
            if not unit_id:
                raise _Skip(f"{path.name}: enheten saknas i fliken _meta.")
            if unit_id not in units:
                raise _Skip(f"{path.name}: enheten {unit_id!r} finns inte i katalogen.")
            unit_name, address = units[unit_id]
            if not address.strip():
                raise _Skip(f"{path.name}: enheten {unit_name} har ingen e-postadress i katalogen.")
            period = meta.get("period", "") or "perioden"
            name = unicodedata.normalize("NFC", path.name)
            try:
                msg = new_message(
                    sender=sender, to=[address], cc=(), date=date,
                    subject=f"Återkoppling på er tertialuppföljning {period} – {unit_name}",
                    blocks=_feedback_blocks(unit_name, period, findings, name))
                attach_xlsx(msg, path)
            except MailError as error:
                raise _Skip(f"{path.name}: {error}") from error
            mails.append(FeedbackMail(unit_id=unit_id, path=path, findings=findings, message=msg))
        except _Skip as skip:
            problems.append(str(skip))
    if not mails and not problems:
        problems.append(f"Det finns inga filer som slutar på {FEEDBACK_SUFFIX} i {feedback_dir}.")
    return FeedbackBatch(messages=tuple(mails), problems=tuple(problems))

