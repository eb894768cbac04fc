"""E-mail the master workbook to the board and feedback copies to unit heads, over plain SMTP."""

from __future__ import annotations

import base64
import datetime as dt
import email.errors
import email.policy
import email.utils
import html
import os
import re
import smtplib
import socket
import ssl
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from . import __version__
from .errors import MailError
from .layout import FEEDBACK_SHEET
from .mastermeta import (
    DUBBLETT,
    LEVERERAD,
    SAKNAS,
    STATUS_KEYS,
    UNDERKAND,
    MasterSummary,
    UnitStatus,
    meta_of,
    open_read_only,
)
from .svformat import sv_number

XLSX_MAINTYPE = "application"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
# Where the CLI reads the SMTP password from; never a command-line argument (visible in ps).
PASSWORD_ENV = "CONSOLIDATE_SMTP_PASSWORD"
FEEDBACK_SUFFIX = "_återkoppling.xlsx"
FEEDBACK_KIND = "återkoppling"
# Most mail servers refuse messages above 10-25 MB; a master this large is a mistake anyway.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
# A unit head reads a list, not a dump: the attachment holds every finding.
MAX_LISTED_FINDINGS = 40

_POLICY = email.policy.SMTP  # CRLF line ends: what SMTP sends and what .eml readers expect
_FALLBACK_DOMAIN = "consolidate.invalid"
_FEEDBACK_COLUMNS = {"Allvarlighet": "severity", "Flik": "sheet", "Cell": "cell", "Regel": "rule",
                     "Meddelande": "message"}
_MAX_FEEDBACK_ROWS = 5_000


# --- Settings and addresses -------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server. The password is never shown in repr or messages."""

    host: str
    port: int
    security: str  # "none" | "starttls" | "ssl"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    # Tests pass a context trusting a self-signed certificate; None means the system's CAs.
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    # Name sent in EHLO; None lets smtplib use this computer's name.
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise MailError(f"Okänt säkerhetsläge {self.security!r}: välj none, starttls eller ssl.")
        if not 0 < self.port < 65536:
            raise MailError(f"Porten {self.port} finns inte: ange ett tal mellan 1 och 65535.")
        if not self.timeout > 0:
            raise MailError("Väntetiden mot e-postservern måste vara större än 0 sekunder.")
        if self.user is not None and self.security == "none":
            # Without TLS the password would cross the network in clear text.
            raise MailError("Inloggning kräver en krypterad anslutning: använd starttls eller ssl.")

    @property
    def needs_password(self) -> bool:
        return self.user is not None and self.password is None


def parse_smtp_host(text: str, security: str = "none") -> tuple[str, int]:
    """'smtp.kommun.se:587', '[::1]:25' or a bare name; the port defaults by security mode."""
    if security not in SECURITY_MODES:
        raise MailError(f"Okänt säkerhetsläge {security!r}: välj none, starttls eller ssl.")
    value = text.strip()
    port_text = ""
    if value.startswith("["):
        match = re.fullmatch(r"\[([^\[\]]+)\](?::(.*))?", value)
        if match is None:
            raise MailError(f"Kan inte tolka serveradressen {text!r}: skriv t.ex. [::1]:25.")
        host, port_text = match.group(1), match.group(2) or ""
        if match.group(2) is not None and not port_text:
            raise MailError(f"Porten saknas efter kolon i {text!r}.")
    elif value.count(":") == 1:
        host, port_text = value.split(":")
        if not port_text:
            raise MailError(f"Porten saknas efter kolon i {text!r}.")
    else:
        host = value  # a bare IPv6 address has several colons and no port
    if not host or any(ch.isspace() for ch in host) or "/" in host:
        raise MailError(f"Kan inte tolka serveradressen {text!r}: skriv t.ex. smtp.kommun.se:587.")
    if not port_text:
        return host, DEFAULT_PORTS[security]
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise MailError(f"Porten {port_text!r} i {text!r} är inte ett tal mellan 1 och 65535.")
    return host, int(port_text)


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
                found.append(str(Address(display_name=name, addr_spec=address)) if name else address)
            except (ValueError, email.errors.HeaderParseError) as error:
                raise MailError(f"Ogiltig e-postadress {value!r}.") from error
    return tuple(found)


def _one_address(value: str, what: str) -> str:
    addresses = parse_addresses([value])
    if len(addresses) != 1:
        raise MailError(f"Ange exakt en e-postadress som {what}, inte {value!r}.")
    return addresses[0]


def _domain(address: str) -> str:
    domain = email.utils.parseaddr(address)[1].rpartition("@")[2]
    return domain if domain and domain.isascii() else _FALLBACK_DOMAIN


def _one_line(text: str) -> str:
    # Values from workbooks end up in headers; a line break there would start a new header.
    return " ".join(text.split())


# --- Rendering: one description, two forms (plain text and HTML) ------------------------------


@dataclass(frozen=True)
class _Block:
    kind: str  # "p" | "warning" | "heading" | "list"
    lines: tuple[str, ...]


def _p(text: str, kind: str = "p") -> _Block:
    return _Block(kind, (text,))


def _plain(blocks: Sequence[_Block]) -> str:
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


def _html(blocks: Sequence[_Block], title: str) -> str:
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


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _new_message(*, sender: str, to: Sequence[str], cc: Sequence[str], subject: str,
                 date: dt.datetime | None, blocks: Sequence[_Block]) -> EmailMessage:
    sender = _one_address(sender, "avsändare")
    recipients = parse_addresses(to)
    copies = parse_addresses(cc)
    if not recipients:
        raise MailError("Ange minst en mottagare.")
    when = date if date is not None else dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is this computer's local time
    msg = EmailMessage(policy=_POLICY)
    msg["Subject"] = _one_line(subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    if copies:
        msg["Cc"] = ", ".join(copies)
    msg["Date"] = email.utils.format_datetime(when)
    # An explicit domain: make_msgid's default looks up this computer's name, which can hang.
    msg["Message-ID"] = email.utils.make_msgid(domain=_domain(sender))
    msg["X-Mailer"] = f"consolidate {__version__}"
    # Quoted-printable keeps the Swedish text 7-bit safe for servers without 8BITMIME.
    msg.set_content(_plain(blocks), cte="quoted-printable")
    msg.add_alternative(_html(blocks, subject), subtype="html", cte="quoted-printable")
    return msg


def _attach_xlsx(msg: EmailMessage, path: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MailError(f"Kan inte läsa {path}: {error.strerror or error}.") from error
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise MailError(f"{path.name} är {sv_number(len(data) / 1024 / 1024, 1)} MB: för stor att "
                        f"skicka med e-post (högst {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB).")
    # The policy writes a non-ASCII file name with RFC 2231, which every mail program reads.
    msg.add_attachment(data, maintype=XLSX_MAINTYPE, subtype=XLSX_SUBTYPE,
                       filename=unicodedata.normalize("NFC", path.name))


# --- The master to the board ------------------------------------------------------------------


def check_sendable(summary: MasterSummary, force: bool) -> None:
    """Refuse a master with validation errors unless the user forces it."""
    if summary.errors > 0 and not force:
        raise MailError(
            f"Sammanställningen har {summary.errors} fel i valideringen. Rätta felen och kör "
            "consolidate run igen, eller använd --force för att skicka ändå."
        )


def master_subject(summary: MasterSummary) -> str:
    kind = "sammanställning med fel" if summary.errors else "sammanställning"
    if summary.masked:
        kind = "maskerad " + kind
    return f"{summary.board} – tertialuppföljning {summary.period} ({kind})"


def _names(units: Sequence[UnitStatus]) -> str:
    return ", ".join(unit.name for unit in units)


def _master_blocks(summary: MasterSummary, attachment: str, limit: int = 5) -> list[_Block]:
    blocks: list[_Block] = []
    if summary.errors > 0:
        blocks.append(_p(
            f"Sammanställningen har {summary.errors} fel i valideringen och skickades ändå med "
            "--force. Uppgifter från enheter med fel kan saknas eller vara felaktiga.",
            kind="warning"))
    blocks.append(_p("Hej!"))
    blocks.append(_p(f"Här kommer sammanställningen av tertialuppföljningen för "
                     f"{summary.period_label} till {summary.board}, {summary.municipality}. "
                     f"Den finns i den bifogade filen {attachment}."))

    delivered = summary.units_in(LEVERERAD)
    lines = [f"Levererat: {len(delivered)} av {_count(len(summary.units), 'enhet', 'enheter')}"
             + (f" ({_names(delivered)})" if delivered else "")]
    for state, label in ((SAKNAS, "Saknas"), (UNDERKAND, "Underkända"),
                         (DUBBLETT, "Två filer för samma enhet")):
        units = summary.units_in(state)
        if units:
            lines.append(f"{label}: {len(units)} ({_names(units)})")
    blocks += [_Block("heading", ("Inlämningar",)), _Block("list", tuple(lines))]

    plural = {"grön": "gröna", "gul": "gula", "röd": "röda", "grå": "grå"}
    parts = [_count(summary.status_counts.get(key, 0), key, plural[key]) for key in STATUS_KEYS]
    blocks.append(_p(f"Indikatorernas status: {', '.join(parts[:-1])} och {parts[-1]}."))

    if summary.moves:
        blocks += [_Block("heading", ("Största förändringarna",)),
                   _Block("list", tuple(move.text for move in summary.moves[:3]))]
    if summary.masked:
        blocks.append(_p(f'Den bifogade filen är maskerad: antal från 1 till {limit - 1} visas som "<{limit}", '
                         'och celler som skulle avslöja dem visas som "..".'))
    blocks.append(_p(f"Valideringen: {summary.errors} fel och "
                     f"{_count(summary.warnings, 'varning', 'varningar')}."))
    blocks.append(_p(f"Sammanställningen är gjord med {summary.tool}."))
    return blocks


def build_master_message(master: Path, summary: MasterSummary, *, sender: str, to: Sequence[str],
                         cc: Sequence[str] = (), forced: bool = False,
                         date: dt.datetime | None = None, limit: int = 5) -> EmailMessage:
    """The board's message: a summary in the body and the master workbook attached."""
    check_sendable(summary, forced)
    name = unicodedata.normalize("NFC", master.name)
    subject = master_subject(summary)
    msg = _new_message(sender=sender, to=to, cc=cc, subject=subject, date=date,
                       blocks=_master_blocks(summary, name, limit))
    _attach_xlsx(msg, master)
    return msg


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
    return "" if value is None else _one_line(str(value))


def _feedback_blocks(unit_name: str, period: str, findings: Sequence[FeedbackFinding],
                     attachment: str) -> list[_Block]:
    errors = [f for f in findings if f.severity == "fel"]
    warnings = [f for f in findings if f.severity == "varning"]
    others = [f for f in findings if f.severity not in ("fel", "varning")]
    blocks = [_p("Hej!")]
    if not findings:
        blocks.append(_p(f"Vi har granskat er tertialuppföljning för {period} ({unit_name}) och "
                         "hittade inget att anmärka på. Tack!"))
        return blocks
    blocks.append(_p(f"Vi har granskat er tertialuppföljning för {period} ({unit_name}) och "
                     f"hittade {len(errors)} fel och {_count(len(warnings), 'varning', 'varningar')}."))
    listed = 0
    for group, heading in ((errors, "Fel – måste rättas"),
                           (warnings, "Varningar – kontrollera att värdet stämmer"),
                           (others, "Övrigt")):
        room = MAX_LISTED_FINDINGS - listed
        if not group or room <= 0:
            continue
        lines = [f"{f.where}: {f.message}" for f in group[:room]]
        listed += len(lines)
        blocks += [_Block("heading", (heading,)), _Block("list", tuple(lines))]
    if listed < len(findings):
        blocks.append(_p(f"… och {len(findings) - listed} till. Alla finns på fliken "
                         f"{FEEDBACK_SHEET} i den bifogade filen."))
    blocks.append(_Block("heading", ("Så gör ni",)))
    blocks.append(_Block("list", (
        "Öppna er ursprungliga arbetsbok – inte den bifogade kopian.",
        (f"Rätta de markerade cellerna. Den bifogade filen {attachment} visar var de finns och "
         "vad som är fel."),
        "Spara och skicka tillbaka arbetsboken genom att svara på det här meddelandet.",
    )))
    if not errors:
        blocks.append(_p("Det finns inga fel, bara varningar: stämmer värdena behöver ni inte "
                         "ändra något, men skriv gärna en kommentar i arbetsboken."))
    return blocks


def build_feedback_messages(feedback_dir: Path, units: Mapping[str, tuple[str, str]], *,
                            sender: str, date: dt.datetime | None = None) -> FeedbackBatch:
    """One message per *_återkoppling.xlsx in feedback_dir, to the unit head of its unit.

    units maps unit id to (unit name, e-mail). A copy that cannot be mailed becomes a problem line,
    so one bad file does not stop the others.
    """
    _one_address(sender, "avsändare")  # fail once, not once per file
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
                msg = _new_message(
                    sender=sender, to=[address], cc=(), date=date,
                    subject=f"Återkoppling på er tertialuppföljning {period} – {unit_name}",
                    blocks=_feedback_blocks(unit_name, period, findings, name))
                _attach_xlsx(msg, path)
            except MailError as error:
                raise _Skip(f"{path.name}: {error}") from error
            mails.append(FeedbackMail(unit_id=unit_id, path=path, findings=findings, message=msg))
        except _Skip as skip:
            problems.append(str(skip))
    if not mails and not problems:
        problems.append(f"Det finns inga filer som slutar på {FEEDBACK_SUFFIX} i {feedback_dir}.")
    return FeedbackBatch(messages=tuple(mails), problems=tuple(problems))


# --- Outbox -----------------------------------------------------------------------------------


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80].rstrip("-") or "meddelande"


def outbox_name(msg: EmailMessage) -> str:
    """'2025-09-15_083000_socialnamnden-tertialuppfoljning-2025-t2-sammanstallning' (no suffix)."""
    header = msg["Date"]
    when = getattr(header, "datetime", None) if header is not None else None
    if not isinstance(when, dt.datetime):
        when = dt.datetime.now().astimezone()
    return f"{when:%Y-%m-%d_%H%M%S}_{_slug(str(msg.get('Subject', '')))}"


def write_outbox(msg: EmailMessage, outbox: Path) -> Path:
    """Write msg as an .eml file in outbox and return its path; never replaces an existing file."""
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        data = msg.as_bytes(policy=_POLICY)
        stem = outbox_name(msg)
        handle, temp_name = tempfile.mkstemp(dir=outbox, prefix=".consolidate-", suffix=".tmp")
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            for number in range(1, 1000):
                target = outbox / (f"{stem}.eml" if number == 1 else f"{stem}-{number}.eml")
                if _claim(temp, target):
                    return target
            raise MailError(f"Det finns redan för många meddelanden som heter {stem} i {outbox}.")
        finally:
            temp.unlink(missing_ok=True)
    except OSError as error:
        raise MailError(f"Kan inte skriva meddelandet i {outbox}: {error.strerror or error}.") from error


def _claim(temp: Path, target: Path) -> bool:
    """Give temp the name target unless that name is taken; False when it is."""
    if target.exists():
        return False
    try:
        # A hard link fails when the name exists, so a file written meanwhile is never replaced.
        os.link(temp, target)
        return True
    except FileExistsError:
        return False
    except OSError:
        # File systems without hard links: rename, having checked just above that the name is free.
        os.replace(temp, target)
        return True


# --- Sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    address: str
    code: int
    reply: str


@dataclass(frozen=True)
class SendResult:
    """What the server accepted; a message only counts as sent to the accepted addresses."""

    accepted: tuple[str, ...]
    refused: tuple[Refusal, ...]

    @property
    def complete(self) -> bool:
        return not self.refused

    def describe(self) -> str:
        """Swedish lines for the user: who got it, and who did not."""
        lines = []
        if self.accepted:
            lines.append("Skickat till " + ", ".join(self.accepted) + ".")
        if self.refused:
            lines.append("Servern tog INTE emot meddelandet till " + _refusals(self.refused) + ".")
        return "\n".join(lines)


def _refusals(refused: Sequence[Refusal]) -> str:
    return ", ".join(f"{item.address} ({item.code} {item.reply})".rstrip() for item in refused)


def _reply(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return _one_line(text)


def _recipients(msg: EmailMessage) -> list[str]:
    values = [str(value) for name in ("To", "Cc", "Bcc") for value in msg.get_all(name, [])]
    found: list[str] = []
    for _, address in email.utils.getaddresses(values):
        if address and address not in found:
            found.append(address)
    return found


def send(msg: EmailMessage, settings: SmtpSettings) -> SendResult:
    """Send msg over SMTP; MailError in Swedish on every failure.

    When the server refuses some recipients but not all, the message went to the others: that is
    returned in SendResult.refused, not raised, so the caller can report both and exit non-zero.
    """
    if settings.needs_password:
        raise MailError(f"Lösenord saknas för {settings.user}: sätt {PASSWORD_ENV} eller skriv det "
                        "när du blir tillfrågad.")
    recipients = _recipients(msg)
    if not recipients:
        raise MailError("Meddelandet har inga mottagare.")
    where = f"{settings.host}:{settings.port}"
    context = settings.ssl_context or ssl.create_default_context()
    try:
        client = _connect(settings, context)
        try:
            refused = _deliver(client, msg, recipients, settings, context)
        except BaseException:
            client.close()  # no QUIT: after a timeout it would wait the whole timeout again
            raise
        _hang_up(client)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise MailError("Inloggningen till e-postservern misslyckades (fel användarnamn eller "
                        f"lösenord). Servern svarade {error.smtp_code}.") from error
    except smtplib.SMTPRecipientsRefused as error:
        items = [Refusal(address, code, _reply(reply))
                 for address, (code, reply) in error.recipients.items()]
        raise MailError("Servern tog inte emot någon av mottagarna: " + _refusals(items)
                        + ". Inget har skickats.") from error
    except smtplib.SMTPSenderRefused as error:
        raise MailError(f"Servern godtog inte avsändaren {_reply(error.sender)} ({error.smtp_code} "
                        f"{_reply(error.smtp_error)}). Inget har skickats.") from error
    except smtplib.SMTPDataError as error:
        raise MailError(f"Servern tog inte emot meddelandet ({error.smtp_code} "
                        f"{_reply(error.smtp_error)}). Inget har skickats.") from error
    except smtplib.SMTPNotSupportedError as error:
        # Login support is checked before; what is left is an address with å, ä, ö (SMTPUTF8).
        raise MailError(f"E-postservern {where} tar inte emot adresser med å, ä, ö eller andra "
                        "tecken utanför ASCII. Använd en adress utan sådana tecken. "
                        "Inget har skickats.") from error
    except smtplib.SMTPServerDisconnected as error:
        if isinstance(error.__context__, TimeoutError):
            # smtplib turns a read timeout into "disconnected"; the user needs to know it was time.
            raise MailError(f"Servern {where} svarade inte inom {sv_number(settings.timeout)} s. "
                            "Inget har skickats.") from error
        raise MailError(f"E-postservern {where} stängde anslutningen oväntat. Inget har skickats."
                        ) from error
    except smtplib.SMTPResponseException as error:
        raise MailError(f"E-postservern {where} svarade med ett fel ({error.smtp_code} "
                        f"{_reply(error.smtp_error)}). Inget har skickats.") from error
    except smtplib.SMTPException as error:
        raise MailError(f"Fel i kontakten med e-postservern {where}: {error}. Inget har skickats."
                        ) from error
    except ssl.SSLCertVerificationError as error:
        raise MailError(f"Certifikatet för e-postservern {settings.host} kunde inte verifieras "
                        f"({error.verify_message}). Kontrollera servernamnet. Inget har skickats."
                        ) from error
    except ssl.SSLError as error:
        raise MailError(f"Den krypterade anslutningen till {where} misslyckades "
                        f"({error.reason or error}). Kontrollera att porten och säkerhetsläget "
                        "stämmer (465 = ssl, 587 = starttls). Inget har skickats.") from error
    except TimeoutError as error:
        raise MailError(f"Servern {where} svarade inte inom {sv_number(settings.timeout)} s. "
                        "Inget har skickats.") from error
    except ConnectionRefusedError as error:
        raise MailError(f"Kunde inte ansluta till e-postservern {where}: anslutningen nekades. "
                        "Kontrollera serveradress och port.") from error
    except socket.gaierror as error:
        raise MailError(f"Hittar inte e-postservern {settings.host}: namnet kan inte slås upp."
                        ) from error
    except OSError as error:
        raise MailError(f"Nätverksfel mot e-postservern {where}: {error.strerror or error}. "
                        "Inget har skickats.") from error
    refusals = tuple(Refusal(address, code, _reply(reply))
                     for address, (code, reply) in refused.items())
    accepted = tuple(address for address in recipients if address not in refused)
    return SendResult(accepted=accepted, refused=refusals)


def _connect(settings: SmtpSettings, context: ssl.SSLContext) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, local_hostname=settings.local_hostname,
                                timeout=settings.timeout, context=context)
    return smtplib.SMTP(settings.host, settings.port, local_hostname=settings.local_hostname,
                        timeout=settings.timeout)


def _deliver(client: smtplib.SMTP, msg: EmailMessage, recipients: list[str],
             settings: SmtpSettings, context: ssl.SSLContext) -> dict[str, tuple[int, bytes]]:
    client.ehlo()
    if settings.security == "starttls":
        if not client.has_extn("starttls"):
            raise MailError(f"E-postservern {settings.host}:{settings.port} erbjuder inte STARTTLS; "
                            "meddelandet skulle gå okrypterat. Inget har skickats.")
        client.starttls(context=context)
        client.ehlo()
    if settings.user is not None and settings.password is not None:
        if not client.has_extn("auth"):
            raise MailError(f"E-postservern {settings.host}:{settings.port} erbjuder inte inloggning "
                            "(AUTH). Ange ingen användare, eller använd en annan server.")
        _login(client, settings.user, settings.password)
    return client.send_message(msg, to_addrs=recipients)


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    if (user + password).isascii():
        client.login(user, password)
        return
    # smtplib encodes credentials as ASCII and would crash on å, ä, ö; AUTH PLAIN is UTF-8
    # (RFC 4616), so send it by hand.
    mechanisms = client.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in mechanisms:
        raise MailError("Användarnamn eller lösenord innehåller tecken utanför ASCII (t.ex. å, ä, ö), "
                        "och e-postservern erbjuder inte inloggningssättet PLAIN som klarar dem.")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _hang_up(client: smtplib.SMTP) -> None:
    # The server has accepted the message: a failing QUIT changes nothing about delivery.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
