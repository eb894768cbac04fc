"""Sending: the outbox of .eml files, and SMTP with STARTTLS or TLS and a login."""

from __future__ import annotations

import base64
import datetime as dt
import email.errors
import email.utils
import os
import re
import smtplib
import socket
import ssl
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MailError, os_reason
from .mail import POLICY, one_line
from .svformat import sv_number

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
# Where the CLI reads the SMTP password from; never a command-line argument (visible in ps).
PASSWORD_ENV = "CONSOLIDATE_SMTP_PASSWORD"


# --- Settings -------------------------------------------------------------------


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
            raise MailError(f"Okänt säkerhetsläge {self.security!r}: "
                            "välj none, starttls eller ssl.")
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
        data = msg.as_bytes(policy=POLICY)
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
        raise MailError(f"Kan inte skriva meddelandet i {outbox}: "
                        f"{os_reason(error, writing=True)}.") from error


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
    reply: str = ""  # the server's answer to the message itself, e.g. "250 2.0.0 Queued as 4F2A"

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
    return one_line(text)


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
    code, text = client.data_reply
    return SendResult(accepted=accepted, refused=refusals,
                      reply=f"{code} {_reply(text)}".strip() if code else "")


class _Client(smtplib.SMTP):
    """smtplib's client, keeping the server's answer to DATA (sendmail drops it): the log records
    it, and a server's queue id there is what its administrator can trace."""

    data_reply: tuple[int, bytes] = (0, b"")

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_reply = super().data(msg)
        return self.data_reply


class _TlsClient(_Client, smtplib.SMTP_SSL):
    pass


def _connect(settings: SmtpSettings, context: ssl.SSLContext) -> _Client:
    if settings.security == "ssl":
        return _TlsClient(settings.host, settings.port, local_hostname=settings.local_hostname,
                          timeout=settings.timeout, context=context)
    return _Client(settings.host, settings.port, local_hostname=settings.local_hostname,
                   timeout=settings.timeout)


def _deliver(client: smtplib.SMTP, msg: EmailMessage, recipients: list[str],
             settings: SmtpSettings, context: ssl.SSLContext) -> dict[str, tuple[int, bytes]]:
    client.ehlo()
    if settings.security == "starttls":
        if not client.has_extn("starttls"):
            raise MailError(f"E-postservern {settings.host}:{settings.port} erbjuder inte "
                            "STARTTLS; meddelandet skulle gå okrypterat. Inget har skickats.")
        client.starttls(context=context)
        client.ehlo()
    if settings.user is not None and settings.password is not None:
        if not client.has_extn("auth"):
            raise MailError(f"E-postservern {settings.host}:{settings.port} erbjuder inte "
                            "inloggning (AUTH). Ange ingen användare, eller använd en "
                            "annan server.")
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
        raise MailError("Användarnamn eller lösenord innehåller tecken utanför ASCII "
                        "(t.ex. å, ä, ö), och e-postservern erbjuder inte inloggningssättet "
                        "PLAIN som klarar dem.")
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
