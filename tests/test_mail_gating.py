"""Which masters `consolidate mail` sends: gated by what the board gets, not by errors in files the
master does not use; a master lacking a unit goes only with --ofullstandig, and says so."""

from __future__ import annotations

import csv
import email
import hashlib
import os
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

from conftest import fill

T1, T2 = Period(2025, 1), Period(2025, 2)
UNITS = ("forebyggande", "barn_unga", "vuxen", "myren", "beroende", "socialpsykiatri")
NOT_A_NUMBER = {"ind_icke_bistandsbedomda_vuxen_varde": "ca 40"}
BOARD = "namnd@exempelkommun.se"


def hand_in(template: Callable[[str, str], Path], catalog: Catalog, folder: Path, unit: str,
            period: Period, change: dict[str, Any] | None = None, name: str = "") -> Path:
    values = {**unit_values(catalog, load_seeds(), unit, period), **(change or {})}
    return fill(template(unit, str(period)), values,
                folder / str(period) / (name or f"{period}_{unit}.xlsx"))


def the_mail(result: Result) -> EmailMessage:
    eml = Path(result.output.split("Skrivet till utkorgen: ", 1)[1].splitlines()[0])
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def log_lines(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("where", ["beside a corrected file", "in last tertial", "in a stray file"])
def test_errors_in_files_the_master_does_not_use_never_stop_it(
        where: str, tmp_path: Path, catalog: Catalog, template_cache: Callable[[str, str], Path],
        invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    for unit in UNITS:
        hand_in(template_cache, catalog, folder, unit, T2)
    if where == "beside a corrected file":
        # The unit handed in a corrected file next to its rejected one: the corrected one is used.
        bad = hand_in(template_cache, catalog, folder, "vuxen", T2, NOT_A_NUMBER,
                      "2025-T2_vuxen_forsta.xlsx")
        os.utime(bad, (1_750_000_000, 1_750_000_000))
    elif where == "in last tertial":
        hand_in(template_cache, catalog, folder, "vuxen", T1, NOT_A_NUMBER)
    else:
        (folder / "2025-T2" / "lista.csv").write_text("enhet;antal\n", encoding="utf-8")
    master = tmp_path / "sammanställning.xlsx"
    ran = invoke("run", folder, "--out", master)
    assert ran.exit_code == 0, ran.output
    assert "Fynd: 0 fel" not in ran.output  # there are errors, in a file the master does not use
    result = invoke("mail", master, "--to", BOARD)
    assert result.exit_code == 0, result.output
    message = the_mail(result)
    assert message["Subject"] == "Socialnämnden – tertialuppföljning 2025-T2 (sammanställning)"
    body = plain(message)
    assert "VARNING" not in body and "ofullständig" not in body
    assert "Felen finns i filer som inte ingår i sammanställningen" in body
    # Logged in the shared folder the master was made from (the example catalog has no folder).
    [line] = log_lines(folder / "utskickslogg.txt")
    assert (line["typ"], line["period"], line["till"]) == ("sammanställning", "2025-T2", BOARD)
    assert line["bilaga"] == master.name
    assert line["sha256"] == hashlib.sha256(master.read_bytes()).hexdigest()
    assert line["ämne"] == message["Subject"] and line["meddelande-id"] == message["Message-ID"]


@pytest.mark.parametrize(("case", "lacking"), [
    ("missing", "saknar Socialpsykiatrin"),
    ("rejected", "underkänd: Vuxensektionen"),
])
def test_a_master_lacking_a_unit_goes_only_with_ofullstandig(
        case: str, lacking: str, tmp_path: Path, catalog: Catalog,
        template_cache: Callable[[str, str], Path], invoke: Callable[..., Result]) -> None:
    folder = tmp_path / "delad"
    for unit in UNITS:
        if case == "missing" and unit == "socialpsykiatri":
            continue
        hand_in(template_cache, catalog, folder, unit, T2,
                NOT_A_NUMBER if case == "rejected" and unit == "vuxen" else None)
    master = tmp_path / "sammanställning.xlsx"
    assert invoke("run", folder, "--out", master).exit_code == 1
    refused = invoke("mail", master, "--to", BOARD)
    assert refused.exit_code == 1
    assert f"Sammanställningen för 2025-T2 är ofullständig ({lacking})" in refused.output
    assert "--ofullstandig" in refused.output
    assert not (tmp_path / "utkorg").exists() and not (folder / "utskickslogg.txt").exists()

    sent = invoke("mail", master, "--to", BOARD, "--ofullstandig")
    assert sent.exit_code == 0, sent.output
    message = the_mail(sent)
    assert message["Subject"] == ("Socialnämnden – tertialuppföljning 2025-T2 (ofullständig "
                                  f"sammanställning: {lacking})")
    assert plain(message).startswith(f"*** VARNING ***\nSammanställningen är ofullständig: "
                                     f"{lacking}.")
    assert len(log_lines(folder / "utskickslogg.txt")) == 1
    # The old flag still means the same, and is no longer offered.
    assert invoke("mail", master, "--to", BOARD, "--force").exit_code == 0
    assert "--force" not in invoke("mail", "--help").output
