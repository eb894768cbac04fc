"""`consolidate mail --feedback` on copies written by a real `consolidate check --feedback`, through
a real SMTP server: the letter's lines in the body and the copy attached when there is something to
correct, a short receipt without attachment otherwise."""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from click.testing import Result

from consolidate.catalog import Catalog
from test_feedback import T2, letter
from test_mail_cli import _free_port, _Store
from test_validate import base_values


@pytest.fixture
def copies(tmp_path: Path, filled: Callable[..., Path], catalog: Catalog,
           invoke: Callable[..., Result]) -> Path:
    """Vuxensektionen with two entry mistakes, Förebyggande with a doubtful value, Barn och unga
    without findings."""
    folder = tmp_path / "inlamning"
    filled("vuxen", "2025-T2", {**base_values(catalog, "vuxen", T2),
                                "ind_icke_bistandsbedomda_vuxen_varde": "ca 60",
                                "ind_andel_vuxna_utredning_namnare": "30.000"}, folder=folder)
    filled("forebyggande", "2025-T2", {**base_values(catalog, "forebyggande", T2),
                                       "ind_forebyggande_insatser_varde": 25000}, folder=folder)
    filled("barn_unga", "2025-T2", base_values(catalog, "barn_unga", T2), folder=folder)
    out = tmp_path / "återkoppling"
    result = invoke("check", folder, "--feedback", out)
    assert result.exit_code == 1, result.output
    return out


def _send(invoke: Callable[..., Result], *args: Any) -> dict[str, EmailMessage]:
    """Mail through a local SMTP server; the messages received, by recipient."""
    store = _Store()
    port = _free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = invoke("mail", *args, "--smtp", f"127.0.0.1:{port}")
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    received: dict[str, EmailMessage] = {}
    for envelope in store.envelopes:
        message = email.message_from_bytes(envelope.content,  # type: ignore[attr-defined]
                                           policy=policy.default)
        assert isinstance(message, EmailMessage)
        (to,) = envelope.rcpt_tos  # type: ignore[attr-defined]
        received[to] = message
    return received


def _plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return " ".join(str(part.get_content()).split())


def _attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [(part.get_filename() or "", part.get_payload(decode=True))  # type: ignore[misc]
            for part in message.iter_attachments()]


def test_findings_get_the_letter_and_the_copy_a_clean_file_a_receipt(
        copies: Path, catalog: Catalog, invoke: Callable[..., Result]) -> None:
    received = _send(invoke, "--feedback", copies)
    address = {u: catalog.unit(u).email for u in ("vuxen", "forebyggande", "barn_unga")}
    assert sorted(received) == sorted(address.values())

    vuxen = received[address["vuxen"]]
    copy = copies / "2025-T2_vuxen_återkoppling.xlsx"
    assert _attachments(vuxen) == [(copy.name, copy.read_bytes())]
    body = _plain(vuxen)
    lines, _, rows = letter(openpyxl.load_workbook(copy)["Återkoppling"])
    # The letter's lines under its title, as the unit head reads them on the copy's first sheet.
    for line in lines[1:]:
        assert " ".join(line.split()) in body, line
    assert "Bedömning: underkänd – 2 fel och 0 varningar." in body
    assert "senast 10 september 2025" in body
    assert f"Frågor? Kontakta {catalog.board.contact}." in body
    for severity, field, where, what in rows:
        assert f"{where} ({field}): {' '.join(what.split())}" in body
    assert 'Texten "ca 60" är inte ett tal' in body and '"30.000" är tvetydig' in body

    warned = received[address["forebyggande"]]
    assert [name for name, _ in _attachments(warned)] == [
        "2025-T2_forebyggande_återkoppling.xlsx"]
    assert "Bedömning: godkänd med varningar – 0 fel och 1 varning." in _plain(warned)

    clean = received[address["barn_unga"]]
    assert _attachments(clean) == []
    assert clean["Subject"].startswith("Mottagen: er tertialuppföljning 2025-T2")
    assert ("Vi har tagit emot er tertialuppföljning för tertial 2 2025 (maj–aug) från "
            f"{catalog.unit('barn_unga').name}.") in _plain(clean)


def test_a_clean_file_gets_its_copy_when_asked(copies: Path, catalog: Catalog,
                                               invoke: Callable[..., Result]) -> None:
    received = _send(invoke, "--feedback", copies, "--bifoga-alla")
    clean = received[catalog.unit("barn_unga").email]
    copy = copies / "2025-T2_barn_unga_återkoppling.xlsx"
    assert _attachments(clean) == [(copy.name, copy.read_bytes())]
    assert f"Den granskade filen är bifogad: {copy.name}." in _plain(clean)


def test_attach_all_without_feedback_is_a_usage_error(tmp_path: Path,
                                                      invoke: Callable[..., Result]) -> None:
    result = invoke("mail", tmp_path / "sammanställning.xlsx", "--to", "namnd@exempelkommun.se",
                    "--bifoga-alla")
    assert result.exit_code == 2
    assert "--feedback" in result.output and "Traceback" not in result.output
