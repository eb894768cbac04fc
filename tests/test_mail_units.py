"""`consolidate mail --mallar` and `--paminnelse`: templates and reminders to the unit heads, as
.eml and through a real local SMTP server, each message in the board's log."""

from __future__ import annotations

import csv
import email
import hashlib
import shutil
import socket
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import fill, with_added_indicator

ROOT = Path(__file__).resolve().parent.parent
CATALOG_TEXT = (ROOT / "schemas" / "katalog.toml").read_text(encoding="utf-8")
ADDRESS = {u["id"]: u["epost"] for u in tomllib.loads(CATALOG_TEXT)["enhet"]}
T2 = Period(2025, 2)
UNITS_2025 = ("forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri")
UNITS_2026 = ("forebyggande", "barn_unga", "vuxen", "beroende", "socialpsykiatri")
NOT_A_NUMBER = {"ind_icke_bistandsbedomda_vuxen_varde": "ca 40"}


class Store:
    """An aiosmtpd handler keeping what it received; refuses the addresses in `refuse`."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = set(refuse)
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mottagaren finns inte"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 2.0.0 Mottaget som 4F2A"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(store: Store) -> Iterator[int]:
    port = free_port()
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def log_lines(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def emls(folder: Path) -> dict[str, EmailMessage]:
    """The outbox's messages by recipient."""
    out = {}
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        out[str(message["To"])] = message
    return out


def attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [(part.get_filename() or "", part.get_payload(decode=True))
            for part in message.iter_attachments()]


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """A board's folder as `consolidate init` lays it out, with the example catalog as its own."""
    folder = tmp_path / "namnd"
    (folder / "inlamning" / "2025-T2").mkdir(parents=True)
    (folder / "katalog.toml").write_text(CATALOG_TEXT, encoding="utf-8")
    return folder


def hand_in(template: Callable[[str, str], Path], catalog: Catalog, folder: Path, unit: str,
            change: dict[str, Any] | None = None) -> Path:
    values = {**unit_values(catalog, load_seeds(), unit, T2), **(change or {})}
    return fill(template(unit, str(T2)), values, folder / str(T2) / f"{T2}_{unit}.xlsx")


def test_each_unit_gets_its_template_with_the_deadline(board: Path,
                                                       invoke: Callable[..., Result]) -> None:
    templates = board / "mallar" / "2026-T1"
    assert invoke("template", "--period", "2026-T1", "--out", templates).exit_code == 0
    openpyxl.Workbook().save(templates / "anteckningar.xlsx")
    result = invoke("mail", "--mallar", templates)
    assert result.exit_code == 1  # the notes file is named as a problem; the templates went out
    assert "Problem: anteckningar.xlsx: är ingen mall från consolidate template." in result.output
    sent = emls(board / "mallar" / "utkorg")
    assert sorted(sent) == sorted(ADDRESS[u] for u in UNITS_2026)
    log = log_lines(board / "utskickslogg.txt")  # beside the board's catalog
    assert len(log) == len(UNITS_2026)
    for unit in UNITS_2026:
        message = sent[ADDRESS[unit]]
        assert message["Subject"].endswith(" – lämna in senast 10 maj 2026")
        assert "Sista dag för inlämning: 10 maj 2026." in plain(message)
        template = templates / f"2026-T1_{unit}.xlsx"
        assert attachments(message) == [(template.name, template.read_bytes())]
        [line] = [row for row in log if row["enhet"] == unit]
        assert (line["typ"], line["period"], line["till"]) == ("mall", "2026-T1", ADDRESS[unit])
        assert line["sha256"] == hashlib.sha256(template.read_bytes()).hexdigest()
        assert line["resultat"].startswith("utkorg: ") and Path(line["resultat"][8:]).is_file()


def test_templates_that_cannot_go_are_named(board: Path, tmp_path: Path,
                                            invoke: Callable[..., Result]) -> None:
    templates = board / "mallar" / "blandat"
    invoke("template", "--period", "2026-T1", "--out", templates)
    invoke("template", "--period", "2025-T3", "--unit", "myren", "--out", templates)
    both = invoke("mail", "--mallar", templates)
    assert both.exit_code == 1
    assert "har mallar för 2025-T3 och 2026-T1. Ange perioden med --period." in both.output
    assert not (board / "mallar" / "utkorg").exists()
    # A template from before a change of the plan, and a unit whose template is not there.
    (templates / "2026-T1_beroende.xlsx").unlink()
    (tmp_path / "ny").mkdir()
    changed = tmp_path / "ny" / "katalog.toml"
    changed.write_text(with_added_indicator(CATALOG_TEXT, ["vuxen"]), encoding="utf-8")
    invoke("template", "--period", "2026-T1", "--unit", "vuxen", "--out", tmp_path / "ny",
           "--katalog", changed)
    shutil.copy(tmp_path / "ny" / "2026-T1_vuxen.xlsx", templates / "2026-T1_vuxen.xlsx")
    result = invoke("mail", "--mallar", templates, "--period", "2026-T1")
    assert result.exit_code == 1
    assert ("2026-T1_vuxen.xlsx: mallen stämmer inte med katalogen som den ser ut nu"
            in result.output)
    assert "Ingen mall för Beroendeenheten (2026-T1)" in result.output
    assert sorted(emls(board / "mallar" / "utkorg")) == sorted(
        ADDRESS[u] for u in ("forebyggande", "barn_unga", "socialpsykiatri"))


def test_reminders_go_to_exactly_the_missing_and_rejected(
        board: Path, catalog: Catalog, template_cache: Callable[[str, str], Path],
        invoke: Callable[..., Result]) -> None:
    shared = board / "inlamning"
    for unit in ("forebyggande", "barn_unga"):
        hand_in(template_cache, catalog, shared, unit)
    hand_in(template_cache, catalog, shared, "vuxen", NOT_A_NUMBER)
    store = Store()
    with smtp_server(store) as port:
        result = invoke("mail", "--paminnelse", shared, "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 0, result.output
    to = {tuple(rcpt): message for rcpt, message in store.received}
    lacking = ("vuxen", "myren", "beroende", "socialpsykiatri")
    assert sorted(to) == sorted((ADDRESS[u],) for u in lacking)
    for unit in ("myren", "beroende", "socialpsykiatri"):
        message = to[(ADDRESS[unit],)]
        assert message["Subject"].startswith("Påminnelse: tertialuppföljning 2025-T2 – ")
        assert "10 september 2025" in plain(message) and attachments(message) == []
    # The rejected unit gets a feedback copy of its file, written where `check --feedback` would.
    rejected = to[(ADDRESS["vuxen"],)]
    copy = board / "aterkoppling" / "2025-T2" / "2025-T2_vuxen_återkoppling.xlsx"
    assert attachments(rejected) == [(copy.name, copy.read_bytes())]
    assert "Texten \"ca 40\" är inte ett tal" in plain(rejected)
    workbook = openpyxl.load_workbook(BytesIO(copy.read_bytes()))
    assert workbook.sheetnames[0] == "Återkoppling"
    marked = [c for row in workbook["Indikatorer"].iter_rows() for c in row
              if c.comment is not None]
    assert [c.fill.start_color.rgb[-6:] for c in marked] == ["FF9C9C"]
    assert "ca 40" in str(marked[0].value)
    log = log_lines(board / "utskickslogg.txt")
    assert sorted(line["enhet"] for line in log) == sorted(lacking)
    for line in log:
        assert line["typ"] == "påminnelse" and line["period"] == "2025-T2"
        assert line["resultat"] == (f"skickat via 127.0.0.1:{port}, servern svarade 250 2.0.0 "
                                    f"Mottaget som 4F2A; mottaget för {ADDRESS[line['enhet']]}")
    assert [line["sha256"] for line in log if line["enhet"] == "vuxen"] == [
        hashlib.sha256(copy.read_bytes()).hexdigest()]


def test_what_the_server_refuses_is_logged_as_not_sent(
        board: Path, catalog: Catalog, template_cache: Callable[[str, str], Path],
        invoke: Callable[..., Result]) -> None:
    shared = board / "inlamning"
    for unit in UNITS_2025[:4]:
        hand_in(template_cache, catalog, shared, unit)
    store = Store(refuse=(ADDRESS["beroende"],))
    with smtp_server(store) as port:
        result = invoke("mail", "--paminnelse", shared, "--smtp", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert [rcpt for rcpt, _ in store.received] == [[ADDRESS["socialpsykiatri"]]]
    log = {line["enhet"]: line["resultat"] for line in log_lines(board / "utskickslogg.txt")}
    assert log["socialpsykiatri"].endswith(f"mottaget för {ADDRESS['socialpsykiatri']}")
    assert log["beroende"].startswith(f"ej skickat (127.0.0.1:{port}): Servern tog inte emot "
                                      "någon av mottagarna: beroende@exempelkommun.se (550")
    down = invoke("mail", "--paminnelse", shared, "--smtp", f"127.0.0.1:{free_port()}")
    assert down.exit_code == 1 and "anslutningen nekades" in down.output
    assert len(log_lines(board / "utskickslogg.txt")) == 4
    assert all(line["resultat"].startswith("ej skickat")
               for line in log_lines(board / "utskickslogg.txt")[2:])


def test_no_reminders_when_everyone_delivered(board: Path, catalog: Catalog,
                                              template_cache: Callable[[str, str], Path],
                                              invoke: Callable[..., Result]) -> None:
    for unit in UNITS_2025:
        hand_in(template_cache, catalog, board / "inlamning", unit)
    result = invoke("mail", "--paminnelse", board / "inlamning")
    assert result.exit_code == 0, result.output
    assert "Alla enheter har lämnat giltiga filer för 2025-T2; inga påminnelser." in result.output
    assert not (board / "utskickslogg.txt").exists() and not (board / "aterkoppling").exists()


def test_nothing_goes_out_when_the_log_cannot_be_written(board: Path,
                                                         invoke: Callable[..., Result]) -> None:
    templates = board / "mallar" / "2026-T1"
    invoke("template", "--period", "2026-T1", "--out", templates)
    (board / "utskickslogg.txt").mkdir()  # something in the way of the log file
    result = invoke("mail", "--mallar", templates)
    assert result.exit_code == 1
    assert "Utskicksloggen" in result.output and "inget har skickats" in result.output
    assert not (board / "mallar" / "utkorg").exists()


def test_one_thing_at_a_time(board: Path, invoke: Callable[..., Result]) -> None:
    result = invoke("mail", "--mallar", board / "mallar", "--paminnelse", board / "inlamning")
    assert result.exit_code == 2 and "Ange en sak att skicka" in result.output
