"""The controller's whole tertial on the example: templates out, two units hand in, status,
reminders to exactly the others, feedback to a rejected unit, its corrected file, the master to the
board without any override, and a log that lists every message. SMTP through a real local
server."""

from __future__ import annotations

import csv
import email
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import openpyxl
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder, load_seeds, unit_values
from consolidate.periods import Period
from test_mail_units import ADDRESS, CATALOG_TEXT, Store, attachments, plain, smtp_server

from conftest import fill

T1_2026 = Period(2026, 1)
BOARD = "namnd@exempelkommun.se"


def states(result: Result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for entry in json.loads(result.stdout)["inlamning"]:
        out.setdefault(entry["status"], set()).add(entry["enhet"])
    return out


def test_one_tertial_from_templates_to_the_board(tmp_path: Path, catalog: Catalog,
                                                 invoke: Callable[..., Result]) -> None:
    board = tmp_path / "namnd"
    board.mkdir()
    (board / "katalog.toml").write_text(CATALOG_TEXT, encoding="utf-8")
    demo = tmp_path / "exempel"
    build_demo_folder(catalog, demo)
    shared = board / "inlamning"
    shutil.copytree(demo, shared, ignore=shutil.ignore_patterns("2026-T1_*", ".*"))
    now = shared / "2026-T1"
    assert now.is_dir() and not any(now.iterdir())

    # Templates out, one .eml per unit of the 2026 plan.
    templates = board / "mallar" / "2026-T1"
    assert invoke("template", "--period", "2026-T1", "--out", templates).exit_code == 0
    sent = invoke("mail", "--mallar", templates)
    assert sent.exit_code == 0, sent.output
    outbox = sorted((board / "mallar" / "utkorg").glob("*.eml"))
    units = ["forebyggande", "barn_unga", "vuxen", "beroende", "socialpsykiatri"]
    assert len(outbox) == len(units)

    # Two units hand in; status shows the others missing.
    for unit in ("forebyggande", "barn_unga"):
        shutil.copy(demo / "2026-T1" / f"2026-T1_{unit}.xlsx", now)
    status = invoke("status", shared, "--json")
    assert status.exit_code == 1
    assert states(status) == {"levererad": {"forebyggande", "barn_unga"},
                              "saknas": {"vuxen", "beroende", "socialpsykiatri"}}

    store = Store()
    with smtp_server(store) as port:
        server = f"127.0.0.1:{port}"
        # Reminders go to exactly the three.
        first = invoke("mail", "--paminnelse", shared, "--smtp", server)
        assert first.exit_code == 0, first.output
        assert sorted(r for rcpt, _ in store.received for r in rcpt) == sorted(
            ADDRESS[u] for u in ("vuxen", "beroende", "socialpsykiatri"))

        # Vuxen hands in a file with mistakes, Beroende a good one: the next reminder gives Vuxen
        # its feedback copy.
        rejected = shutil.copy(demo / "2026-T1" / "2026-T1_vuxen.xlsx", now)
        os.utime(rejected, (1_780_000_000, 1_780_000_000))
        shutil.copy(demo / "2026-T1" / "2026-T1_beroende.xlsx", now)
        status = invoke("status", shared, "--json")
        assert states(status) == {"levererad": {"forebyggande", "barn_unga", "beroende"},
                                  "underkänd": {"vuxen"}, "saknas": {"socialpsykiatri"}}
        second = invoke("mail", "--paminnelse", shared, "--smtp", server)
        assert second.exit_code == 0, second.output
        later = {rcpt[0]: message for rcpt, message in store.received[3:]}
        assert sorted(later) == sorted(ADDRESS[u] for u in ("vuxen", "socialpsykiatri"))
        [(name, data)] = attachments(later[ADDRESS["vuxen"]])
        assert name == "2026-T1_vuxen_återkoppling.xlsx"
        copy = openpyxl.load_workbook(BytesIO(data))
        assert copy.sheetnames[0] == "Återkoppling"
        # the letter's table: Allvarlighet, Fält, Flik och cell, what is wrong
        errors = [row for row in copy["Återkoppling"].iter_rows(values_only=True)
                  if row[0] == "Fel"]
        assert errors and all(row[3] in plain(later[ADDRESS["vuxen"]]) for row in errors)

        # The corrected file arrives beside the rejected one, and the last unit hands in.
        for unit, name in (("vuxen", "2026-T1_vuxen_rättad.xlsx"),
                           ("socialpsykiatri", "2026-T1_socialpsykiatri.xlsx")):
            fill(templates / f"2026-T1_{unit}.xlsx",
                 unit_values(catalog, load_seeds(), unit, T1_2026), now / name)
        status = invoke("status", shared, "--json")
        assert status.exit_code == 0, status.output
        assert states(status)["levererad"] == set(units)

        # The master goes to the board without any override, though the rejected file's errors
        # are still in the folder.
        ran = invoke("run", shared)
        assert ran.exit_code == 0, ran.output
        master = shared / "sammanställning_2026-T1.xlsx"
        board_mail = invoke("mail", master, "--to", BOARD, "--smtp", server)
        assert board_mail.exit_code == 0, board_mail.output
    rcpt, message = store.received[-1]
    assert rcpt == [BOARD]
    assert message["Subject"] == "Socialnämnden – tertialuppföljning 2026-T1 (sammanställning)"
    assert "Felen finns i filer som inte ingår i sammanställningen" in plain(message)
    assert attachments(message) == [(master.name, master.read_bytes())]

    # The log lists every message: what, to whom, which attachment, and what became of it.
    with (board / "utskickslogg.txt").open(encoding="utf-8", newline="") as handle:
        log = list(csv.DictReader(handle, delimiter="\t"))
    assert [line["typ"] for line in log] == ["mall"] * 5 + ["påminnelse"] * 5 + ["sammanställning"]
    by_id = {m["Message-ID"]: m for _, m in store.received}
    for path in outbox:
        eml = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(eml, EmailMessage)
        by_id[eml["Message-ID"]] = eml
    assert len(by_id) == len(log) == 11
    for line in log:
        message = by_id[line["meddelande-id"]]
        assert line["till"] == str(message["To"]) and line["ämne"] == message["Subject"]
        assert line["sha256"] == ", ".join(hashlib.sha256(data).hexdigest()
                                           for _, data in attachments(message))
        assert line["resultat"].startswith("utkorg: " if line["typ"] == "mall"
                                           else f"skickat via {server}, servern svarade 250")
