"""`--maskera`: small counts hidden on every sheet and in what is mailed; the master says it is
masked."""

from __future__ import annotations

import email
import socket
from collections.abc import Callable, Iterator
from email import policy
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from click.testing import Result

from consolidate.boardmodel import Mark
from consolidate.catalog import Catalog
from consolidate.demo import build_demo_folder
from consolidate.mask import Network, protect


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    folder = tmp_path_factory.mktemp("mask") / "exempel"
    build_demo_folder(catalog, folder)
    return folder


def data_rows(path: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path)["Data"]
    heads = [c.value for c in ws[1]]
    return [dict(zip(heads, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def texts(path: Path) -> dict[str, list[Any]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [c.value for row in ws.iter_rows() for c in row if c.value is not None]
            for ws in wb.worksheets}


def test_masked_run_has_its_own_name_and_says_it_is_masked(demo: Path,
                                                           invoke: Callable[..., Result]) -> None:
    result = invoke("run", demo, "--maskera")
    assert result.exit_code == 1, result.output  # one unit missing, one rejected in the demo
    masked = demo / "sammanställning_2026-T1_maskerad.xlsx"
    assert masked.is_file() and not (demo / "sammanställning_2026-T1.xlsx").exists()
    sheets = texts(masked)
    assert "maskerad" in sheets["Sammanställning"][0]
    assert any("Maskerad version" in str(v) for v in sheets["Om sammanställningen"])
    for sheet in ("Sammanställning", "Per enhet", "Diagram", "Personalomsättning",
                  "Avslutade per månad"):
        assert any('"<5"' in str(v) and '".."' in str(v) for v in sheets[sheet]), sheet
    wb = openpyxl.load_workbook(masked)
    meta = {r[0].value: r[1].value for r in wb["_meta"].iter_rows()}
    assert meta["maskerad"] == "ja"


def test_the_log_quotes_no_value_and_texts_with_digits_are_withheld(
        demo: Path, tmp_path: Path, invoke: Callable[..., Result]) -> None:
    plain, masked = tmp_path / "m.xlsx", tmp_path / "mm.xlsx"
    invoke("run", demo, "--out", plain)
    invoke("run", demo, "--out", masked, "--maskera")
    log_plain = openpyxl.load_workbook(plain)["Valideringslogg"]
    log_masked = openpyxl.load_workbook(masked)["Valideringslogg"]
    typed = {r[8].value for r in log_plain.iter_rows(min_row=5) if r[8].value}
    # the demo's rejected file quotes what was typed
    assert {"30.000"} <= typed and any(t.startswith("ca ") for t in typed)
    for row in log_masked.iter_rows(min_row=5):
        assert not row[8].value and not row[9].value
        assert not any(ch.isdigit() for ch in str(row[7].value)), row[7].value
    data = openpyxl.load_workbook(masked)["Data"]
    heads = [c.value for c in data[1]]
    text_col = heads.index("Text")
    for row in data.iter_rows(min_row=2, values_only=True):
        assert not any(ch.isdigit() for ch in str(row[text_col] or "")), row


def test_every_small_count_in_data_is_marked_and_nothing_else_changes(
        demo: Path, tmp_path: Path, invoke: Callable[..., Result], catalog: Catalog) -> None:
    plain, masked = tmp_path / "m.xlsx", tmp_path / "mm.xlsx"
    invoke("run", demo, "--out", plain)
    invoke("run", demo, "--out", masked, "--maskera")
    rows_plain = data_rows(plain)
    rows_masked = data_rows(masked)
    assert len(rows_plain) == len(rows_masked)
    limit = catalog.settings.suppression_limit
    counts = {"antal", "taljare", "namnare", "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug",
              "sep", "okt", "nov", "dec"}
    hidden = small = 0
    for before, after in zip(rows_plain, rows_masked, strict=True):
        assert [before[k] for k in ("Period", "Enhets-id", "Id", "Rad-id", "Fält-id")] == [
            after[k] for k in ("Period", "Enhets-id", "Id", "Rad-id", "Fält-id")]
        value, mark = after["Värde"], after["Maskering"]
        if mark:
            hidden += 1
            assert value is None and mark in (f"<{limit}", "..")
            if mark == f"<{limit}":
                assert 1 <= before["Värde"] <= limit - 1
        else:
            assert value == before["Värde"]
        if (before["Fält-id"] in counts and isinstance(before["Värde"], (int, float))
                and 1 <= before["Värde"] < limit):
            small += 1
            assert mark == f"<{limit}", before
    assert small > 50 and hidden > small  # the demo has many small counts, and secondary cells


def test_a_hidden_board_value_is_not_judged(tmp_path: Path, catalog: Catalog,
                                            filled: Callable[..., Path],
                                            invoke: Callable[..., Result]) -> None:
    from consolidate.demo import load_seeds, unit_values
    from consolidate.periods import Period

    folder = tmp_path / "delad"
    for unit in catalog.unit_ids():
        values = unit_values(catalog, load_seeds(), unit, Period(2025, 2))
        if unit == "vuxen":
            values["ind_icke_bistandsbedomda_vuxen_varde"] = 3
        filled(unit, "2025-T2", values, folder=folder)
    out = tmp_path / "m.xlsx"
    invoke("run", folder, "--out", out, "--maskera")
    ws = openpyxl.load_workbook(out)["Sammanställning"]
    row = next(r for r in ws.iter_rows(min_row=5)
               if str(r[1].value).startswith("Antal som tar del av icke"))
    assert row[4].value == "<5"
    status = next(c.value for c in row if isinstance(c.value, str) and c.value.startswith("●"))
    assert status.startswith("● Grå") and "maskerade" in status
    assert 3 not in [c.value for c in row]


# ---- the protection step on its own -----------------------------------------------------------

def cell(name: str) -> tuple[str, ...]:
    return ("cell", "2025-T2", "u", name)


def network(values: dict[str, float], sums: list[tuple[str, list[str]]]) -> Network:
    net = Network()
    for name, value in values.items():
        net.add(cell(name), value, True)
    for total, parts in sums:
        net.add_sum(cell(total), [cell(p) for p in parts])
    return net


def test_a_lone_small_cell_in_a_line_gets_a_partner_the_smallest_that_helps() -> None:
    net = network({"a": 2, "b": 30, "c": 9, "t": 41}, [("t", ["a", "b", "c"])])
    marks = protect(net, 5)
    assert marks == {cell("a"): Mark.SMALL, cell("c"): Mark.COVER}


def test_two_small_cells_on_a_rectangle_are_not_left_to_narrow_each_other() -> None:
    # a d / b e with row and column totals: hiding a and e alone lets a = e − 2 be read off.
    values = {"a": 1, "b": 30, "r1": 31, "c": 40, "d": 3, "r2": 43, "k1": 41, "k2": 33, "g": 74}
    sums = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("k1", ["a", "c"]), ("k2", ["b", "d"]),
            ("g", ["r1", "r2"]), ("g", ["k1", "k2"])]
    marks = protect(network(values, sums), 5)
    assert marks[cell("a")] == Mark.SMALL and marks[cell("d")] == Mark.SMALL
    assert len(marks) > 2


def test_a_small_total_of_small_parts_is_shown_as_dots() -> None:
    marks = protect(network({"a": 2, "b": 2, "t": 4}, [("t", ["a", "b"])]), 5)
    assert marks == {cell("a"): Mark.SMALL, cell("b"): Mark.SMALL, cell("t"): Mark.COVER}


def test_zero_is_shown() -> None:
    assert protect(network({"a": 0, "b": 12, "t": 12}, [("t", ["a", "b"])]), 5) == {}


# ---- mail --------------------------------------------------------------------------------------

class _Store:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Store]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    store = _Store()
    controller = Controller(store, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, store
    finally:
        controller.stop()


def test_mail_maskera_sends_only_a_masked_file(demo: Path, tmp_path: Path,
                                               invoke: Callable[..., Result],
                                              smtp: tuple[int, _Store]) -> None:
    port, store = smtp
    master = tmp_path / "sammanställning.xlsx"
    invoke("run", demo, "--out", master)
    result = invoke("mail", master, "--to", "namnd@exempelkommun.se", "--smtp", f"127.0.0.1:{port}",
                    "--maskera", "--ofullstandig")
    assert result.exit_code == 0, result.output
    masked = tmp_path / "sammanställning_maskerad.xlsx"
    message = email.message_from_bytes(store.envelopes[0].content, policy=policy.default)
    part = next(message.iter_attachments())
    payload = part.get_payload(decode=True)
    assert (part.get_filename() == masked.name
            and payload == masked.read_bytes() != master.read_bytes())
    wb = openpyxl.load_workbook(BytesIO(payload))
    assert {r[0].value: r[1].value for r in wb["_meta"].iter_rows()}["maskerad"] == "ja"
    assert "maskerad" in message["Subject"]
    assert "maskerad" in message.get_body(("plain",)).get_content()


def test_catalog_can_require_masking_for_what_is_mailed(demo: Path, tmp_path: Path,
                                                       catalog: Catalog,
                                                       invoke: Callable[..., Result]) -> None:
    text = Path(catalog.path).read_text(encoding="utf-8").replace(
        "roj_grans = 5", "roj_grans = 5\nmaskera_utskick = true")
    katalog = tmp_path / "katalog.toml"
    katalog.write_text(text, encoding="utf-8")
    master = tmp_path / "sammanställning.xlsx"
    invoke("run", demo, "--out", master, "--katalog", katalog)
    refused = invoke("mail", master, "--to", "namnd@exempelkommun.se", "--ofullstandig",
                     "--katalog", katalog)
    assert refused.exit_code == 1 and "maskera_utskick" in refused.output
    assert not (tmp_path / "utkorg").exists()
    sent = invoke("mail", master, "--to", "namnd@exempelkommun.se", "--ofullstandig", "--maskera",
                  "--katalog", katalog)
    assert sent.exit_code == 0, sent.output
    eml = next((tmp_path / "utkorg").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert next(message.iter_attachments()).get_filename() == "sammanställning_maskerad.xlsx"
