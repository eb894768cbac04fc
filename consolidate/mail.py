"""E-mail messages: the master workbook to the board, as plain text and HTML with the workbook
attached."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from . import __version__
from .errors import MailError, os_reason
from .mastermeta import (
    DUBBLETT,
    LEVERERAD,
    SAKNAS,
    STATUS_KEYS,
    UNDERKAND,
    MasterSummary,
    UnitStatus,
)
from .svformat import count_text, lacking_phrase, sv_number

XLSX_MAINTYPE = "application"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Most mail servers refuse messages above 10-25 MB; a master this large is a mistake anyway.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024

POLICY = email.policy.SMTP  # CRLF line ends: what SMTP sends and what .eml readers expect
_FALLBACK_DOMAIN = "consolidate.invalid"


# --- Addresses ----------------------------------------------------------------------------------


def parse_addresses(values: Sequence[str]) -> tuple[str, ...]:
    """Addresses as typed, each value possibly a comma-separated list; MailError on a bad one."""
    found: list[str] = []
    for value in values:
        if "\r" in value or "\n" in value:
            raise MailError(f"Ogiltig e-postadress {value!r}: radbrytningar är inte tillåtna.")
        for name, address in email.utils.getaddresses([value]):
            if not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+", address):
                raise MailError(f"Ogiltig e-postadress {value!r}: skriv t.ex. namn@kommun.se.")
            try:
                # Address, not formataddr: the header policy encodes å, ä, ö itself, once.
                found.append(str(Address(display_name=name, addr_spec=address)) if name
                             else address)
            except (ValueError, email.errors.HeaderParseError) as error:
                raise MailError(f"Ogiltig e-postadress {value!r}.") from error
    return tuple(found)


def one_address(value: str, what: str) -> str:
    addresses = parse_addresses([value])
    if len(addresses) != 1:
        raise MailError(f"Ange exakt en e-postadress som {what}, inte {value!r}.")
    return addresses[0]


def domain(address: str) -> str:
    domain = email.utils.parseaddr(address)[1].rpartition("@")[2]
    return domain if domain and domain.isascii() else _FALLBACK_DOMAIN


def one_line(text: str) -> str:
    # Values from workbooks end up in headers; a line break there would start a new header.
    return " ".join(text.split())


# --- Rendering: one description, two forms (plain text and HTML) ------------------------------


@dataclass(frozen=True)
class Block:
    kind: str  # "p" | "warning" | "heading" | "list"
    lines: tuple[str, ...]


def paragraph(text: str, kind: str = "p") -> Block:
    return Block(kind, (text,))


def _plain(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if block.kind == "warning":
            out.append("*** VARNING ***\n" + "\n".join(block.lines))
        elif block.kind == "list":
            out.append("\n".join(f"  – {line}" for line in block.lines))
        elif block.kind == "heading":
            out.append(block.lines[0])
        else:
            out.append("\n".join(block.lines))
    # A heading belongs to the list under it: no blank line between them.
    text = ""
    for index, part in enumerate(out):
        if index:
            text += "\n" if blocks[index - 1].kind == "heading" else "\n\n"
        text += part
    return text + "\n"


def _html(blocks: Sequence[Block], title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="sv">', "<head>", '<meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", "</head>",
           '<body style="font-family: Calibri, Arial, sans-serif; font-size: 11pt;">']
    for block in blocks:
        lines = [html.escape(line) for line in block.lines]
        if block.kind == "warning":
            out.append('<p style="border: 2px solid #c00000; background: #fde9e9; padding: 8px;">'
                       "<strong>Varning:</strong> " + "<br>".join(lines) + "</p>")
        elif block.kind == "list":
            out.append("<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>")
        elif block.kind == "heading":
            out.append(f"<p><strong>{lines[0]}</strong></p>")
        else:
            out.append("<p>" + "<br>".join(lines) + "</p>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def new_message(*, sender: str, to: Sequence[str], cc: Sequence[str], subject: str,
                 date: dt.datetime | None, blocks: Sequence[Block]) -> EmailMessage:
    sender = one_address(sender, "avsändare")
    recipients = parse_addresses(to)
    copies = parse_addresses(cc)
    if not recipients:
        raise MailError("Ange minst en mottagare.")
    when = date if date is not None else dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is this computer's local time
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = one_line(subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    if copies:
        msg["Cc"] = ", ".join(copies)
    msg["Date"] = email.utils.format_datetime(when)
    # An explicit domain: make_msgid's default looks up this computer's name, which can hang.
    msg["Message-ID"] = email.utils.make_msgid(domain=domain(sender))
    msg["X-Mailer"] = f"consolidate {__version__}"
    # Quoted-printable keeps the Swedish text 7-bit safe for servers without 8BITMIME.
    msg.set_content(_plain(blocks), cte="quoted-printable")
    msg.add_alternative(_html(blocks, subject), subtype="html", cte="quoted-printable")
    return msg


def attach_xlsx(msg: EmailMessage, path: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MailError(f"Kan inte läsa {path}: {os_reason(error)}.") from error
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise MailError(f"{path.name} är {sv_number(len(data) / 1024 / 1024, 1)} MB: för stor att "
                        f"skicka med e-post (högst {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB).")
    # The policy writes a non-ASCII file name with RFC 2231, which every mail program reads.
    msg.add_attachment(data, maintype=XLSX_MAINTYPE, subtype=XLSX_SUBTYPE,
                       filename=unicodedata.normalize("NFC", path.name))


# --- The master to the board ------------------------------------------------------------------


def check_sendable(summary: MasterSummary, incomplete: bool) -> None:
    """The master is built from accepted files only, so errors in files it does not use (replaced
    files, files that are no unit's, other periods) never stop it. A master that lacks a unit of
    its period goes only when the user says so."""
    if not summary.complete and not incomplete:
        raise MailError(
            f"Sammanställningen för {summary.period} är ofullständig ({summary.lacking()}). Skicka "
            "den när alla enheter har lämnat giltiga filer och consolidate run har körts igen, "
            "eller skicka den ändå med --ofullstandig; då säger ämnesraden och texten vilka "
            "enheter som saknas eller är underkända."
        )


def _subject_names(units: Sequence[UnitStatus]) -> list[str]:
    # A subject line stays readable: names up to three, then a count.
    return ([u.name for u in units] if len(units) <= 3
            else [count_text(len(units), "enhet", "enheter")])


def master_subject(summary: MasterSummary) -> str:
    kind = "maskerad sammanställning" if summary.masked else "sammanställning"
    if not summary.complete:
        lacking = lacking_phrase(_subject_names(summary.units_in(SAKNAS)),
                                 _subject_names(summary.units_in(UNDERKAND)))
        kind = f"ofullständig {kind}: {lacking}"
    return f"{summary.board} – tertialuppföljning {summary.period} ({kind})"


def _names(units: Sequence[UnitStatus]) -> str:
    return ", ".join(unit.name for unit in units)


def _master_blocks(summary: MasterSummary, attachment: str, limit: int = 5) -> list[Block]:
    blocks: list[Block] = []
    if not summary.complete:
        blocks.append(paragraph(
            f"Sammanställningen är ofullständig: {summary.lacking()}. Nämndens värden för "
            "indikatorer som de enheterna rapporterar gäller bara de andra enheterna; de visas "
            "kursivt och grå och bedöms inte.", kind="warning"))
    blocks.append(paragraph("Hej!"))
    blocks.append(paragraph(f"Här kommer sammanställningen av tertialuppföljningen för "
                     f"{summary.period_label} till {summary.board}, {summary.municipality}. "
                     f"Den finns i den bifogade filen {attachment}."))

    delivered = summary.units_in(LEVERERAD)
    lines = [f"Levererat: {len(delivered)} av {count_text(len(summary.units), 'enhet', 'enheter')}"
             + (f" ({_names(delivered)})" if delivered else "")]
    for state, label in ((SAKNAS, "Saknas"), (UNDERKAND, "Underkända"),
                         (DUBBLETT, "Två filer för samma enhet")):
        units = summary.units_in(state)
        if units:
            lines.append(f"{label}: {len(units)} ({_names(units)})")
    blocks += [Block("heading", ("Inlämningar",)), Block("list", tuple(lines))]

    plural = {"grön": "gröna", "gul": "gula", "röd": "röda", "grå": "grå"}
    parts = [count_text(summary.status_counts.get(key, 0), key, plural[key]) for key in STATUS_KEYS]
    blocks.append(paragraph(f"Indikatorernas status: {', '.join(parts[:-1])} och {parts[-1]}."))

    if summary.doubts:
        blocks += [Block("heading", ("Värden att kontrollera (markerade i sammanställningen; "
                                     "indikatorns status är grå tills värdet är rättat eller "
                                     "förklarat)",)),
                   Block("list", summary.doubts)]
    if summary.moves:
        blocks += [Block("heading", ("Största förändringarna",)),
                   Block("list", tuple(move.text for move in summary.moves[:3]))]
    if summary.masked:
        blocks.append(paragraph(f'Den bifogade filen är maskerad: antal från 1 till {limit - 1} '
                         f'visas som "<{limit}", '
                         'och celler som skulle avslöja dem visas som "..".'))
    checked = (f"Valideringen: {summary.errors} fel och "
               f"{count_text(summary.warnings, 'varning', 'varningar')}.")
    if summary.errors:
        # Accepted files have no errors: every error is in a file the master does not use.
        checked += (" Felen finns i filer som inte ingår i sammanställningen (underkända eller "
                    "ersatta filer, filer som inte är någon enhets inlämning, andra perioder); se "
                    "fliken Valideringslogg.")
    blocks.append(paragraph(checked))
    blocks.append(paragraph(f"Sammanställningen är gjord med {summary.tool}."))
    return blocks


def build_master_message(master: Path, summary: MasterSummary, *, sender: str, to: Sequence[str],
                         cc: Sequence[str] = (), incomplete: bool = False,
                         date: dt.datetime | None = None, limit: int = 5) -> EmailMessage:
    """The board's message: a summary in the body and the master workbook attached; a master
    that lacks a unit only with `incomplete` (check_sendable)."""
    check_sendable(summary, incomplete)
    name = unicodedata.normalize("NFC", master.name)
    subject = master_subject(summary)
    msg = new_message(sender=sender, to=to, cc=cc, subject=subject, date=date,
                       blocks=_master_blocks(summary, name, limit))
    attach_xlsx(msg, master)
    return msg

