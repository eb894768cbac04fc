"""`consolidate mail` on a master written by a real `consolidate run`, through a real SMTP
server."""

from __future__ import annotations

import email
import socket
from email import policy
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period


@pytest.fixture
def master(tmp_path: Path, catalog: Catalog, filled, invoke) -> Path:
    folder = tmp_path / "delad"
    seeds = load_seeds()
    for unit in catalog.unit_ids():
        filled(unit, "2025-T2", unit_values(catalog, seeds, unit, Period(2025, 2)),
               folder=folder / "2025-T2")
    out = tmp_path / "sammanställning.xlsx"
    result = invoke("run", folder, "--out", out)
    assert result.exit_code == 0, result.output
    return out


class _Store:
    def __init__(self) -> None:
        self.envelopes: list[object] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _attachment(message: email.message.EmailMessage) -> tuple[str, bytes]:
    for part in message.iter_attachments():
        return part.get_filename() or "", part.get_payload(decode=True)
    raise AssertionError("no attachment")


def test_outbox_eml_carries_the_master(master: Path, invoke, unchanged) -> None:
    unchanged(master)
    result = invoke("mail", master, "--to", "namnd@exempelkommun.se")
    assert result.exit_code == 0, result.output
    eml = Path(result.output.split("utkorgen: ", 1)[1].strip())
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "2025-T2" in message["Subject"] and "Socialnämnden" in message["Subject"]
    name, payload = _attachment(message)
    assert name == master.name and payload == master.read_bytes()
    assert openpyxl.load_workbook(BytesIO(payload)).sheetnames[0] == "Sammanställning"
    body = message.get_body(("plain",)).get_content()
    assert "grön" in body.lower()


def test_smtp_server_receives_the_master_byte_for_byte(master: Path, invoke) -> None:
    store = _Store()
    port = _free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = invoke("mail", master, "--to", "namnd@exempelkommun.se", "--cc",
                        "ekonomi@exempelkommun.se", "--smtp", f"127.0.0.1:{port}")
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert len(store.envelopes) == 1
    envelope = store.envelopes[0]
    assert sorted(envelope.rcpt_tos) == ["ekonomi@exempelkommun.se", "namnd@exempelkommun.se"]  # type: ignore[attr-defined]
    message = email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
    assert _attachment(message)[1] == master.read_bytes()


def test_refused_connection_is_a_swedish_error(master: Path, invoke) -> None:
    result = invoke("mail", master, "--to", "namnd@exempelkommun.se", "--smtp",
                    f"127.0.0.1:{_free_port()}")
    assert result.exit_code == 1
    assert "Fel:" in result.output and "Traceback" not in result.output
