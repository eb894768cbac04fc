"""Mail: the master's _meta contract, messages, .eml outbox and sending to real local SMTP
servers."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from consolidate.errors import MailError
from consolidate.feedbackmail import build_feedback_messages
from consolidate.mail import XLSX_SUBTYPE, build_master_message, check_sendable, parse_addresses
from consolidate.mastermeta import (
    MASTER_KIND,
    MasterSummary,
    Move,
    UnitStatus,
    read_master_summary,
    write_meta_sheet,
)
from consolidate.smtp import SmtpSettings, parse_smtp_host, send, write_outbox

SENDER = "Controller <controller@exempelkommun.se>"
BOARD = ["namnden@exempelkommun.se", "Åsa Öberg <asa.oberg@exempelkommun.se>"]
DATE = dt.datetime(2025, 9, 15, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
USER, PASSWORD = "controller", "rätt-lösen-å"  # non-ASCII on purpose: smtplib alone cannot send it


# --- Fixtures: a master workbook, feedback copies, certificates, servers ----------------------


def make_summary(**changes: Any) -> MasterSummary:
    summary = MasterSummary(
        tool="consolidate 0.1.0",
        board="Socialnämnden",
        municipality="Exempelkommun",
        period="2025-T2",
        period_label="tertial 2 2025 (maj–aug)",
        errors=0,
        warnings=2,
        units=(
            UnitStatus("barn", "Barn och unga", "barn@exempelkommun.se", "levererad"),
            UnitStatus("vuxen", "Vuxna & missbruk <öst>", "vuxen@exempelkommun.se", "levererad"),
            UnitStatus("ekb", "Ensamkommande", "ekb@exempelkommun.se", "saknas"),
            UnitStatus("fh", "Familjehem", "fh@exempelkommun.se", "underkänd"),
        ),
        status_counts={"grön": 5, "gul": 3, "röd": 1, "grå": 2},
        moves=(
            Move("placering", "Andel placerade barn",
                 "Andel placerade barn minskade från 5,0 % till 4,2 % (mål 4,5 %)", 0.8),
            Move("vantetid", "Väntetid", "Väntetiden ökade från 21 till 30 dygn (mål 14)", 0.6),
            Move("hvb", "Kostnad HVB", "=HYPERLINK(\"x\") kostnad ökade med 1,2 mnkr", 0.4),
            Move("fjarde", "Fjärde", "Den fjärde förändringen ska inte med", 0.1),
        ),
        masked=True,
        source="/srv/uppfoljning/2025-T2",
    )
    return replace(summary, **changes)


def make_master(path: Path, summary: MasterSummary) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    overview = workbook.add_worksheet("Översikt")
    overview.write_string(0, 0, f"{summary.board} – {summary.period_label}")
    for row, unit in enumerate(summary.units, start=2):
        overview.write_string(row, 0, unit.name)
        overview.write_string(row, 1, unit.state)
    values = workbook.add_worksheet("Indikatorer")
    for row, (name, value) in enumerate([("Placerade barn", 0.042), ("Väntetid", 30.0)]):
        values.write_string(row, 0, name)
        values.write_number(row, 1, value)
    write_meta_sheet(workbook, summary)
    workbook.close()
    return path


COMPLETE = tuple(replace(unit, state="levererad") for unit in make_summary().units)


@pytest.fixture
def summary() -> MasterSummary:
    """A master in which every unit delivered: one that may go to the board without a flag."""
    return make_summary(units=COMPLETE)


@pytest.fixture
def master(tmp_path: Path, summary: MasterSummary) -> Path:
    return make_master(tmp_path / "sammanställning_2025-T2.xlsx", summary)


def make_feedback(path: Path, unit: str, findings: list[tuple[str, str, str, str, str]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Återkoppling"
    sheet.append(["Allvarlighet", "Flik", "Cell", "Regel", "Meddelande"])
    for finding in findings:
        sheet.append(list(finding))
    if not findings:  # what consolidate check writes for a clean workbook
        sheet.append([None, None, None, None, "Inga fel eller varningar. Tack!"])
    meta = workbook.create_sheet("_meta")
    for key, value in [("typ", "återkoppling"), ("enhet", unit), ("period", "2025-T2")]:
        meta.append([key, value])
    meta.sheet_state = "hidden"
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (no cryptography package needed)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl saknas: kan inte skapa ett testcertifikat")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


@pytest.fixture(scope="module")
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture(scope="module")
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


class Store:
    """An aiosmtpd handler keeping what it received; refuses the addresses in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = set(refuse)
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mottagaren finns inte"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Meddelandet mottaget"

    def message(self) -> EmailMessage:
        assert len(self.received) == 1
        parsed = email.message_from_bytes(self.received[0][2], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def authenticate(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    # handled=False: aiosmtpd then answers 535 itself instead of leaving the client waiting.
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    # Controller(port=0) does not report the port it got in every aiosmtpd version.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Store, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def settings(port: int, security: str = "none", **kwargs: Any) -> SmtpSettings:
    kwargs.setdefault("timeout", 5.0)
    return SmtpSettings("127.0.0.1", port, security, local_hostname="test.invalid", **kwargs)


def attachment(msg: EmailMessage) -> tuple[str | None, str, bytes]:
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    part = parts[0]
    assert isinstance(part, EmailMessage)
    data = part.get_content()
    assert isinstance(data, bytes)
    return part.get_filename(), part.get_content_type(), data


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body(preferencelist=(kind,))
    assert part is not None and isinstance(part, EmailMessage)
    text = part.get_content()
    assert isinstance(text, str)
    return text


# --- The _meta contract -----------------------------------------------------------------------


def test_meta_round_trips_and_is_hidden(master: Path, summary: MasterSummary) -> None:
    assert read_master_summary(master) == summary
    workbook = openpyxl.load_workbook(master)
    meta = workbook["_meta"]
    assert meta.sheet_state == "hidden"
    assert meta["A1"].value == "typ" and meta["B1"].value == MASTER_KIND
    # A text starting with "=" stays text: no formula ends up in the master.
    assert all(cell.data_type != "f" for row in meta.iter_rows() for cell in row)
    assert workbook.sheetnames[0] == "Översikt"


def test_meta_is_deterministic(tmp_path: Path, summary: MasterSummary) -> None:
    shuffled = replace(summary, status_counts=dict(reversed(list(summary.status_counts.items()))))
    values = []
    for name, item in (("a.xlsx", summary), ("b.xlsx", shuffled)):
        sheet = openpyxl.load_workbook(make_master(tmp_path / name, item))["_meta"]
        values.append([(row[0].value, row[1].value) for row in sheet.iter_rows()])
    assert values[0] == values[1]


def test_read_master_summary_refuses_other_files(tmp_path: Path) -> None:
    plain = tmp_path / "vanlig.xlsx"
    openpyxl.Workbook().save(plain)
    text = tmp_path / "inte_excel.xlsx"
    text.write_text("det här är ingen arbetsbok", encoding="utf-8")
    feedback = make_feedback(tmp_path / "barn_återkoppling.xlsx", "barn", [])
    for path in (plain, text, feedback):
        with pytest.raises(MailError, match="inte en sammanställning skriven av consolidate"):
            read_master_summary(path)
    with pytest.raises(MailError, match="finns inte"):
        read_master_summary(tmp_path / "saknas.xlsx")


def test_read_master_summary_refuses_damaged_meta(tmp_path: Path) -> None:
    path = tmp_path / "trasig.xlsx"
    workbook = openpyxl.Workbook()
    meta = workbook.create_sheet("_meta")
    for key, value in [("typ", MASTER_KIND), ("metaversion", "1"), ("enheter", "[inte json")]:
        meta.append([key, value])
    workbook.save(path)
    with pytest.raises(MailError, match="skadad"):
        read_master_summary(path)


# --- Messages ---------------------------------------------------------------------------------


def test_master_message_content(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD,
                               cc=["kopia@exempelkommun.se"], date=DATE)
    # The summary is of a masked master: the subject and the body say so.
    assert msg["Subject"] == "Socialnämnden – tertialuppföljning 2025-T2 (maskerad sammanställning)"
    assert msg["Date"] == "Mon, 15 Sep 2025 08:30:00 +0200"
    assert msg["Message-ID"].endswith("@exempelkommun.se>")
    plain, page = body(msg, "plain"), body(msg, "html")
    assert ("Levererat: 4 av 4 enheter (Barn och unga, Vuxna & missbruk <öst>, Ensamkommande, "
            "Familjehem)") in plain
    assert "Saknas" not in plain and "Underkända" not in plain and "ofullständig" not in plain
    assert "5 gröna, 3 gula, 1 röd och 2 grå" in plain
    assert "minskade från 5,0 % till 4,2 % (mål 4,5 %)" in plain
    assert "Den fjärde förändringen" not in plain  # only the three largest
    assert 'Den bifogade filen är maskerad: antal från 1 till 4 visas som "<5"' in plain
    assert "VARNING" not in plain and "--force" not in plain
    # Everything from the workbook is escaped in HTML.
    assert "Vuxna &amp; missbruk &lt;öst&gt;" in page and "<öst>" not in page
    assert "&quot;&lt;5&quot;" in page
    name, kind, data = attachment(msg)
    assert name == "sammanställning_2025-T2.xlsx"
    assert kind == f"application/{XLSX_SUBTYPE}"
    assert data == master.read_bytes()


def test_an_incomplete_master_goes_only_with_ofullstandig(master: Path) -> None:
    lacking = make_summary()  # Ensamkommande missing, Familjehem rejected
    with pytest.raises(MailError, match=r"Sammanställningen för 2025-T2 är ofullständig \(saknar "
                       r"Ensamkommande; underkänd: Familjehem\).*--ofullstandig"):
        check_sendable(lacking, incomplete=False)
    with pytest.raises(MailError, match="--ofullstandig"):
        build_master_message(master, lacking, sender=SENDER, to=BOARD)
    msg = build_master_message(master, lacking, sender=SENDER, to=BOARD, incomplete=True,
                               date=DATE)
    assert msg["Subject"] == ("Socialnämnden – tertialuppföljning 2025-T2 (ofullständig maskerad "
                              "sammanställning: saknar Ensamkommande; underkänd: Familjehem)")
    plain = body(msg, "plain")
    assert plain.startswith("*** VARNING ***\nSammanställningen är ofullständig: saknar "
                            "Ensamkommande; underkänd: Familjehem.")
    assert "Saknas: 1 (Ensamkommande)" in plain and "Underkända: 1 (Familjehem)" in plain
    assert ("<strong>Varning:</strong> Sammanställningen är ofullständig: saknar Ensamkommande"
            in body(msg, "html"))


def test_a_long_list_of_lacking_units_is_counted_in_the_subject(master: Path) -> None:
    units = tuple(UnitStatus(f"e{i}", f"Enhet {i}", f"e{i}@exempelkommun.se",
                             "saknas" if i < 5 else "underkänd") for i in range(7))
    msg = build_master_message(master, make_summary(units=units, masked=False), sender=SENDER,
                               to=BOARD, incomplete=True, date=DATE)
    assert msg["Subject"] == ("Socialnämnden – tertialuppföljning 2025-T2 (ofullständig "
                              "sammanställning: saknar 5 enheter; underkänd: Enhet 5 och Enhet 6)")
    assert ("Sammanställningen är ofullständig: saknar Enhet 0, Enhet 1, Enhet 2, Enhet 3 och "
            "Enhet 4; underkänd: Enhet 5 och Enhet 6.") in body(msg, "plain")


def test_errors_in_files_the_master_does_not_use_do_not_stop_it(master: Path,
                                                                summary: MasterSummary) -> None:
    with_errors = replace(summary, errors=3)
    check_sendable(with_errors, incomplete=False)
    msg = build_master_message(master, with_errors, sender=SENDER, to=BOARD, date=DATE)
    plain = body(msg, "plain")
    assert msg["Subject"] == "Socialnämnden – tertialuppföljning 2025-T2 (maskerad sammanställning)"
    assert "VARNING" not in plain
    assert ("Valideringen: 3 fel och 2 varningar. Felen finns i filer som inte ingår i "
            "sammanställningen") in plain


def test_bad_addresses_are_refused(master: Path, summary: MasterSummary) -> None:
    assert parse_addresses(["a@kommun.se, Åsa <b@kommun.se>"]) == ("a@kommun.se",
                                                                    "Åsa <b@kommun.se>")
    for bad in (["inte-en-adress"], ["a@kommun.se\r\nBcc: x@evil.example"], ["a@b"]):
        with pytest.raises(MailError, match="Ogiltig e-postadress"):
            build_master_message(master, summary, sender=SENDER, to=bad)
    with pytest.raises(MailError, match="minst en mottagare"):
        build_master_message(master, summary, sender=SENDER, to=[])


@pytest.mark.parametrize(("text", "security", "expected"), [
    ("smtp.kommun.se", "none", ("smtp.kommun.se", 25)),
    ("smtp.kommun.se", "starttls", ("smtp.kommun.se", 587)),
    ("smtp.kommun.se", "ssl", ("smtp.kommun.se", 465)),
    ("smtp.kommun.se:2525", "starttls", ("smtp.kommun.se", 2525)),
    ("[::1]:25", "none", ("::1", 25)),
    ("[::1]", "ssl", ("::1", 465)),
    ("::1", "none", ("::1", 25)),
])
def test_parse_smtp_host(text: str, security: str, expected: tuple[str, int]) -> None:
    assert parse_smtp_host(text, security) == expected


@pytest.mark.parametrize("text", ["smtp.kommun.se:", "smtp.kommun.se:0", "smtp:99999", "smtp:abc",
                                  "[::1", "", "smtp kommun"])
def test_parse_smtp_host_refuses(text: str) -> None:
    with pytest.raises(MailError):
        parse_smtp_host(text)


def test_settings_hide_password_and_refuse_clear_text_login() -> None:
    assert "hemligt" not in repr(SmtpSettings("smtp", 587, "starttls", "u", "hemligt"))
    with pytest.raises(MailError, match="krypterad anslutning"):
        SmtpSettings("smtp", 25, "none", "u", "hemligt")
    with pytest.raises(MailError, match="säkerhetsläge"):
        SmtpSettings("smtp", 25, "tls")


# --- Outbox -----------------------------------------------------------------------------------


def test_write_outbox_never_overwrites(tmp_path: Path, master: Path,
                                       summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    outbox = tmp_path / "utkorg"
    first = write_outbox(msg, outbox)
    assert first.name == ("2025-09-15_083000_socialnamnden-tertialuppfoljning-2025-t2-"
                          "maskerad-sammanstallning.eml")
    before = first.read_bytes()
    second = write_outbox(msg, outbox)
    assert second != first and second.name.endswith("-2.eml")
    assert first.read_bytes() == before
    assert sorted(p.name for p in outbox.iterdir()) == sorted([first.name, second.name])
    parsed = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == msg["Subject"]
    name, _, data = attachment(parsed)
    assert name == "sammanställning_2025-T2.xlsx" and data == master.read_bytes()
    assert (openpyxl.load_workbook(io.BytesIO(data)).sheetnames
            == ["Översikt", "Indikatorer", "_meta"])


# --- Sending to real servers ------------------------------------------------------------------


def test_send_to_plain_server(master: Path, summary: MasterSummary) -> None:
    store = Store()
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD,
                               cc=["kopia@exempelkommun.se"], date=DATE)
    with smtp_server(store) as port:
        result = send(msg, settings(port))
    everyone = ("namnden@exempelkommun.se", "asa.oberg@exempelkommun.se", "kopia@exempelkommun.se")
    assert result.complete and result.accepted == everyone
    assert result.reply == "250 Meddelandet mottaget"  # the server's own answer, for the log
    mail_from, rcpt_tos, _ = store.received[0]
    assert mail_from == "controller@exempelkommun.se" and tuple(rcpt_tos) == everyone
    received = store.message()
    assert (received["Subject"]
            == "Socialnämnden – tertialuppföljning 2025-T2 (maskerad sammanställning)")
    assert received["To"].addresses[1].display_name == "Åsa Öberg"
    assert "Levererat: 4 av 4 enheter" in body(received, "plain")
    assert "<li>Levererat: 4 av 4 enheter" in body(received, "html")
    name, kind, data = attachment(received)
    assert name == "sammanställning_2025-T2.xlsx" and kind.endswith("spreadsheetml.sheet")
    assert data == master.read_bytes()
    assert openpyxl.load_workbook(io.BytesIO(data))["Indikatorer"]["B2"].value == 30


def test_starttls_and_login(master: Path, summary: MasterSummary, server_tls: ssl.SSLContext,
                            client_tls: ssl.SSLContext) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD[:1], date=DATE)
    store = Store()
    with smtp_server(store, require_starttls=True, tls_context=server_tls, auth_required=True,
                     auth_require_tls=True, authenticator=authenticate) as port:
        good = settings(port, "starttls", user=USER, password=PASSWORD, ssl_context=client_tls)
        assert send(msg, good).accepted == ("namnden@exempelkommun.se",)
        with pytest.raises(MailError, match=r"Inloggningen till e-postservern misslyckades "
                                            r"\(fel användarnamn eller lösenord\)"):
            send(msg, replace(good, password="fel-losenord"))
        # The system's CAs do not trust the self-signed certificate.
        with pytest.raises(MailError, match="kunde inte verifieras"):
            send(msg, replace(good, ssl_context=None))
    assert len(store.received) == 1


def test_tls_asked_of_a_plain_server(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    store = Store()
    with smtp_server(store) as port:
        with pytest.raises(MailError, match="erbjuder inte STARTTLS"):
            send(msg, settings(port, "starttls"))
        # TLS to a plain-text port: the greeting is not a TLS handshake.
        with pytest.raises(MailError, match="Den krypterade anslutningen .* misslyckades"):
            send(msg, settings(port, "ssl"))
    assert store.received == []


def test_implicit_tls(master: Path, summary: MasterSummary, server_tls: ssl.SSLContext,
                      client_tls: ssl.SSLContext) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD[:1], date=DATE)
    store = Store()
    with smtp_server(store, ssl_context=server_tls, authenticator=authenticate,
                     auth_require_tls=False) as port:
        assert send(msg, settings(port, "ssl", user=USER, password=PASSWORD,
                                  ssl_context=client_tls)).complete
        # Plain text to a TLS port: both sides wait for the other to speak first.
        with pytest.raises(MailError, match="svarade inte inom 0,2 s"):
            send(msg, settings(port, "none", timeout=0.2))
    assert attachment(store.message())[2] == master.read_bytes()


def test_some_recipients_refused(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    store = Store(refuse=("asa.oberg@exempelkommun.se",))
    with smtp_server(store) as port:
        result = send(msg, settings(port))
    assert not result.complete
    assert result.accepted == ("namnden@exempelkommun.se",)
    assert [(r.address, r.code) for r in result.refused] == [("asa.oberg@exempelkommun.se", 550)]
    assert "INTE emot meddelandet till asa.oberg@exempelkommun.se (550" in result.describe()
    assert store.received[0][1] == ["namnden@exempelkommun.se"]


def test_all_recipients_refused(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD[:1], date=DATE)
    store = Store(refuse=("namnden@exempelkommun.se",))
    refused = r"någon av mottagarna: namnden@exempelkommun.se \(550.*Inget har skickats"
    with smtp_server(store) as port, pytest.raises(MailError, match=refused):
        send(msg, settings(port))
    assert store.received == []


def test_connection_refused(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    with pytest.raises(MailError, match="anslutningen nekades"):
        send(msg, settings(free_port()))


def test_server_that_never_answers(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    with socket.socket() as silent:  # listens, so connect succeeds, but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(MailError, match=r"svarade inte inom 0,3 s"):
            send(msg, settings(port, timeout=0.3))


def test_server_that_hangs_up(master: Path, summary: MasterSummary) -> None:
    msg = build_master_message(master, summary, sender=SENDER, to=BOARD, date=DATE)
    with socket.socket() as rude:
        rude.bind(("127.0.0.1", 0))
        rude.listen(1)

        def hang_up() -> None:
            connection, _ = rude.accept()
            connection.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        with pytest.raises(MailError, match="stängde anslutningen"):
            send(msg, settings(rude.getsockname()[1]))
        thread.join(5)


# --- Feedback to unit heads -------------------------------------------------------------------


UNITS = {"barn": ("Barn och unga", "barn@exempelkommun.se"),
         "ren": ("Utan fel", "ren@exempelkommun.se"),
         "vuxen": ("Vuxna", "Vuxenchef <vuxen@exempelkommun.se>")}


def test_feedback_messages_from_copies_written_before_the_letter(tmp_path: Path) -> None:
    """Copies whose Återkoppling sheet is the bare table of earlier versions are still mailed."""
    folder = tmp_path / "återkoppling"
    folder.mkdir()
    make_feedback(folder / "barn_2025-T2_återkoppling.xlsx", "barn", [
        ("fel", "Indikatorer", "D7", "saknas", "Värde saknas för antal placerade barn."),
        ("varning", "Indikatorer", "D9", "hopp", "Väntetiden ökade kraftigt."),
    ])
    make_feedback(folder / "vuxen_2025-T2_återkoppling.xlsx", "vuxen", [
        ("varning", "Placeringar", "C5", "hopp", "Kostnaden är tre gånger förra tertialets."),
    ])
    make_feedback(folder / "okand_2025-T2_återkoppling.xlsx", "okand", [])
    make_feedback(folder / "ren_2025-T2_återkoppling.xlsx", "ren", [])
    (folder / "annat.xlsx").write_bytes(b"ignoreras")

    batch = build_feedback_messages(folder, UNITS, sender=SENDER, date=DATE)

    assert [m.unit_id for m in batch.messages] == ["barn", "ren", "vuxen"]
    assert len(batch.problems) == 1
    assert "okand_2025-T2_återkoppling.xlsx" in batch.problems[0]
    assert "finns inte i katalogen" in batch.problems[0]
    barn, ren, vuxen = (m.message for m in batch.messages)
    assert batch.messages[1].findings == () and not batch.messages[1].attached
    assert "Vi har tagit emot er tertialuppföljning" in body(ren, "plain")
    assert list(ren.iter_attachments()) == []
    assert barn["To"] == "barn@exempelkommun.se"
    assert vuxen["To"].addresses[0].addr_spec == "vuxen@exempelkommun.se"
    assert barn["Subject"] == "Återkoppling på er tertialuppföljning 2025-T2 – Barn och unga"
    plain = body(barn, "plain")
    assert "hittade 1 fel och 1 varning" in plain
    assert "Indikatorer!D7: Värde saknas för antal placerade barn." in plain
    assert "Indikatorer!D9: Väntetiden ökade kraftigt." in plain
    name, _, data = attachment(barn)
    assert name == "barn_2025-T2_återkoppling.xlsx"
    assert data == (folder / "barn_2025-T2_återkoppling.xlsx").read_bytes()
    assert attachment(vuxen)[0] == "vuxen_2025-T2_återkoppling.xlsx"


def test_feedback_bad_files_are_problems(tmp_path: Path) -> None:
    (tmp_path / "trasig_återkoppling.xlsx").write_bytes(b"PK inte en zip")
    openpyxl.Workbook().save(tmp_path / "utan_meta_återkoppling.xlsx")
    batch = build_feedback_messages(tmp_path, UNITS, sender=SENDER)
    assert batch.messages == ()
    assert [p.split(":")[0] for p in batch.problems] == ["trasig_återkoppling.xlsx",
                                                         "utan_meta_återkoppling.xlsx"]
    with pytest.raises(MailError, match="finns inte"):
        build_feedback_messages(tmp_path / "saknas", UNITS, sender=SENDER)
