"""The record of what went out: one line per message written or sent, in one text file.

The file is tab-separated UTF-8 with a header line: Notepad shows it, Excel opens it (Data > Från
text), and a line is appended, never rewritten, so the record of earlier sendings stays as it was.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from .catalog import Catalog
from .errors import MailError, os_reason
from .mail import one_line

LOG_NAME = "utskickslogg.txt"
COLUMNS = ("tid", "typ", "period", "enhet", "till", "kopia", "ämne", "bilaga", "sha256",
           "resultat", "meddelande-id")


def log_path(catalog: Catalog, fallback: Path) -> Path:
    """The board's one log: beside its own catalog (the board's folder on the shared drive, where
    `consolidate init` puts katalog.toml); with the bundled example catalog, in `fallback`."""
    if not catalog.bundled and catalog.path:
        return Path(catalog.path).parent / LOG_NAME
    return fallback / LOG_NAME


@dataclass(frozen=True)
class LogLine:
    time: str
    kind: str
    period: str
    unit: str
    to: str
    cc: str
    subject: str
    attachments: str
    digests: str
    result: str
    message_id: str

    def fields(self) -> tuple[str, ...]:
        return (self.time, self.kind, self.period, self.unit, self.to, self.cc, self.subject,
                self.attachments, self.digests, self.result, self.message_id)


def line_for(msg: EmailMessage, kind: str, period: str, unit: str, result: str,
             when: dt.datetime | None = None) -> LogLine:
    """What the log keeps of one message: taken from the message itself, so the SHA-256 is of the
    bytes that went out."""
    names: list[str] = []
    digests: list[str] = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        names.append(part.get_filename() or "")
        digests.append(hashlib.sha256(data if isinstance(data, bytes) else b"").hexdigest())
    addresses = {header: ", ".join(address for _, address in email.utils.getaddresses(
        [str(value) for value in msg.get_all(header, [])])) for header in ("To", "Cc")}
    stamp = (when or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    return LogLine(stamp, kind, period, unit, addresses["To"], addresses["Cc"],
                   str(msg.get("Subject", "")), ", ".join(names), ", ".join(digests), result,
                   str(msg.get("Message-ID", "")))


def start_log(path: Path) -> None:
    """Make sure the log can be written before anything goes out (a header on a new file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8", newline="") as handle:
            if handle.tell() == 0:
                handle.write("\t".join(COLUMNS) + "\r\n")
    except OSError as error:
        raise MailError(f"Utskicksloggen {path} kan inte skrivas "
                        f"({os_reason(error, writing=True)}); inget har skickats.") from error


def append(path: Path, line: LogLine) -> None:
    # CRLF: Notepad on older Windows shows one long line otherwise.
    text = "\t".join(_cell(value) for value in line.fields()) + "\r\n"
    try:
        with path.open("a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise MailError(f"Meddelandet \"{line.subject}\" ({line.result}) kunde inte föras in i "
                        f"utskicksloggen {path} ({os_reason(error, writing=True)}). Inget mer "
                        "har skickats.") from error


def _cell(value: str) -> str:
    return one_line(value.replace("\t", " "))

