"""Feedback copies to unit heads: one message per unit, listing what to correct, the copy
attached."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .errors import MailError, PeriodError
from .layout import FEEDBACK_SHEET
from .mail import Block, attach_xlsx, new_message, one_address, one_line, paragraph
from .mastermeta import meta_of, open_read_only
from .periods import parse_period
from .svformat import count_text

FEEDBACK_SUFFIX = "_återkoppling.xlsx"
FEEDBACK_KIND = "återkoppling"
# A unit head reads a list, not a dump: the attachment holds every finding.
MAX_LISTED_FINDINGS = 40
# The findings table's heads (feedbackletter.HEADS), and those of copies written before the letter.
_FEEDBACK_COLUMNS = {"Allvarlighet": "severity", "Fält": "field", "Flik och cell": "where",
                     "Vad är fel och vad som väntas": "message", "Flik": "sheet", "Cell": "cell",
                     "Meddelande": "message"}
_MAX_FEEDBACK_ROWS = 5_000
_MAX_LETTER_ROWS = 40


# --- Feedback to unit heads -------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFinding:
    severity: str  # 'fel' or 'varning'
    where: str  # 'Indikatorer!D6', or 'hela filen'
    message: str
    field: str = ""


@dataclass(frozen=True)
class FeedbackMail:
    unit_id: str
    path: Path
    findings: tuple[FeedbackFinding, ...]
    message: EmailMessage = field(compare=False)
    attached: bool = True


@dataclass(frozen=True)
class FeedbackBatch:
    """One message per feedback copy, and Swedish lines for copies that could not be mailed."""

    messages: tuple[FeedbackMail, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class _Copy:
    """What a feedback copy says: its _meta, the letter's lines and the findings table."""

    meta: dict[str, str]
    letter: tuple[str, ...]
    findings: tuple[FeedbackFinding, ...]


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


def _read_feedback(path: Path) -> _Copy:
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
        letter: list[str] = []
        columns: dict[str, int] = {}
        for row in rows:  # the letter, down to the table's heads
            texts = [_cell_text(row, index) for index in range(len(row))]
            if "Allvarlighet" in texts:
                columns = {_FEEDBACK_COLUMNS[name]: index for index, name in enumerate(texts)
                           if name in _FEEDBACK_COLUMNS}
                break
            if texts and texts[0] and len(letter) < _MAX_LETTER_ROWS:
                letter.append(texts[0])
        if "severity" not in columns or "message" not in columns:
            raise _Skip(f"{path.name}: fliken {FEEDBACK_SHEET} saknar kolumnerna "
                        "Allvarlighet och Vad är fel och vad som väntas.")
        findings: list[FeedbackFinding] = []
        for row in rows:
            values = {key: _cell_text(row, index) for key, index in columns.items()}
            if not values["severity"]:
                continue  # not a finding: blank, or the "Inga fel eller varningar" line
            where = values.get("where") or "!".join(
                part for part in (values.get("sheet"), values.get("cell")) if part)
            findings.append(FeedbackFinding(
                severity=values["severity"].lower(), where=where or "hela filen",
                message=values["message"], field=values.get("field", "")))
        return _Copy(meta, tuple(letter), tuple(findings))
    finally:
        workbook.close()


def _cell_text(row: tuple[Any, ...], index: int) -> str:
    value = row[index] if index < len(row) else None
    return "" if value is None else one_line(str(value))


def _period_text(period: str) -> str:
    try:
        return parse_period(period).label
    except PeriodError:
        return period or "perioden"


def _receipt_blocks(unit_name: str, period: str, attachment: str | None) -> list[Block]:
    blocks = [paragraph("Hej!"),
              paragraph(f"Vi har tagit emot er tertialuppföljning för {_period_text(period)} "
                        f"från {unit_name}. Den är godkänd utan fel och varningar och kommer med i "
                        "sammanställningen. Tack!")]
    if attachment:
        blocks.append(paragraph(f"Den granskade filen är bifogad: {attachment}."))
    return blocks


def _feedback_blocks(unit_name: str, period: str, copy: _Copy, attachment: str) -> list[Block]:
    findings = copy.findings
    errors = [f for f in findings if f.severity == "fel"]
    warnings = [f for f in findings if f.severity == "varning"]
    others = [f for f in findings if f.severity not in ("fel", "varning")]
    blocks = [paragraph("Hej!"),
              paragraph(f"Här är återkopplingen på er tertialuppföljning för "
                        f"{_period_text(period)} från {unit_name}. Den bifogade filen "
                        f"{attachment} är er arbetsbok med fel markerade röda och varningar gula; "
                        "fliken "
                        f"{FEEDBACK_SHEET} först i den säger detsamma som det här meddelandet.")]
    # The letter's lines below its title (file, verdict, what to do and by when, whom to ask),
    # as the unit head reads them on the first sheet of the attached copy.
    blocks += [paragraph(line) for line in copy.letter[1:]]
    if not copy.letter:  # a copy without a letter
        blocks.append(paragraph(f"Vi hittade {count_text(len(errors), 'fel', 'fel')} och "
                                f"{count_text(len(warnings), 'varning', 'varningar')}."))
    listed = 0
    for group, heading in ((errors, "Fel – måste rättas"),
                           (warnings, "Varningar – kontrollera att värdet stämmer"),
                           (others, "Övrigt")):
        room = MAX_LISTED_FINDINGS - listed
        if not group or room <= 0:
            continue
        lines = [f"{f.where}" + (f" ({f.field})" if f.field else "") + f": {f.message}"
                 for f in group[:room]]
        listed += len(lines)
        blocks += [Block("heading", (heading,)), Block("list", tuple(lines))]
    if listed < len(findings):
        blocks.append(paragraph(f"… och {len(findings) - listed} till."))
    return blocks


def build_feedback_messages(feedback_dir: Path, units: Mapping[str, tuple[str, str]], *,
                            sender: str, date: dt.datetime | None = None,
                            attach_all: bool = False) -> FeedbackBatch:
    """One message per *_återkoppling.xlsx in feedback_dir, to the unit head of its unit.

    units maps unit id to (unit name, e-mail). A copy with findings goes with a message that
    starts with the copy's letter; a copy without any is a short receipt, without the copy unless
    attach_all. A copy that cannot be mailed becomes a problem line, so one bad file does not stop
    the others.
    """
    one_address(sender, "avsändare")  # fail once, not once per file
    mails: list[FeedbackMail] = []
    problems: list[str] = []
    for path in feedback_files(feedback_dir):
        try:
            copy = _read_feedback(path)
            unit_id = copy.meta.get("enhet", "")
            if not unit_id:
                raise _Skip(f"{path.name}: enheten saknas i fliken _meta.")
            if unit_id not in units:
                raise _Skip(f"{path.name}: enheten {unit_id!r} finns inte i katalogen.")
            unit_name, address = units[unit_id]
            if not address.strip():
                raise _Skip(f"{path.name}: enheten {unit_name} har ingen e-postadress i katalogen.")
            period = copy.meta.get("period", "") or "perioden"
            name = unicodedata.normalize("NFC", path.name)
            attach = bool(copy.findings) or attach_all
            try:
                if copy.findings:
                    subject = f"Återkoppling på er tertialuppföljning {period} – {unit_name}"
                    blocks = _feedback_blocks(unit_name, period, copy, name)
                else:
                    subject = f"Mottagen: er tertialuppföljning {period} – {unit_name}"
                    blocks = _receipt_blocks(unit_name, period, name if attach else None)
                msg = new_message(sender=sender, to=[address], cc=(), date=date, subject=subject,
                                  blocks=blocks)
                if attach:
                    attach_xlsx(msg, path)
            except MailError as error:
                raise _Skip(f"{path.name}: {error}") from error
            mails.append(FeedbackMail(unit_id=unit_id, path=path, findings=copy.findings,
                                      message=msg, attached=attach))
        except _Skip as skip:
            problems.append(str(skip))
    if not mails and not problems:
        problems.append(f"Det finns inga filer som slutar på {FEEDBACK_SUFFIX} i {feedback_dir}.")
    return FeedbackBatch(messages=tuple(mails), problems=tuple(problems))
