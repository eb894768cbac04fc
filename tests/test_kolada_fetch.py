"""`consolidate run … --hamta`: Kolada's figures fetched over HTTP, kept in the shared folder with
their date, and a failed fetch said in one Swedish line while the run goes on.

A real HTTP server (http.server in a thread, on 127.0.0.1) answers in Kolada's v3 format, two pages
joined by next_url; CONSOLIDATE_KOLADA_URL points the tool at it. No test needs the internet."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import Result

from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from test_compare import COUNTRY, EXPECTED, PERIOD, ROWS, catalog_text, kolada_values
from test_master import Summary, build_board

PLACES = "9999,0000,9991,9992,9993,9994,9995"   # the catalog's: own, Riket, the peers in order
YEARS = "2020,2021,2022,2023,2024,2025"         # the board's year and the five before it
FIRST = f"/v3/data/kpi/N31999,N33100/municipality/{PLACES}/year/{YEARS}"


class Kolada(BaseHTTPRequestHandler):
    """Answers as Kolada's API v3 does; what it answers is set per test on the server."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server: Any = self.server
        server.requests.append(self.path)
        status, body = server.answer(self.path)
        if server.slow:  # hold the answer back until the test is over
            server.hold.wait(5)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def kolada(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Kolada)
    server.requests, server.slow, server.hold = [], False, threading.Event()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.base = base
    values = kolada_values(ROWS)

    def two_pages(path: str) -> tuple[int, bytes]:
        if path == FIRST:
            page = {"values": values[:10], "count": 10, "previous_url": None,
                    "next_url": f"{base}{FIRST}?page=2&per_page=10"}
        elif path == f"{FIRST}?page=2&per_page=10":
            page = {"values": values[10:], "count": len(values) - 10,
                    "previous_url": f"{base}{FIRST}?page=1&per_page=10", "next_url": None}
        else:
            return 404, b'{"error": "not found"}'
        return 200, json.dumps(page).encode("utf-8")

    server.answer = two_pages
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CONSOLIDATE_KOLADA_URL", f"{base}/v3")
    try:
        yield server
    finally:
        server.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
          template_cache: Callable[[str, str], Path]) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hamta")
    build_board(root / "delad", catalog, template_cache, PERIOD)
    (root / "katalog.toml").write_text(catalog_text(), encoding="utf-8")
    return root / "delad", root / "katalog.toml"


@pytest.fixture
def folder(built: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the shared folder of its own: a fetch keeps its answer in it."""
    return Path(shutil.copytree(built[0], tmp_path / "delad"))


def _run(invoke: Callable[..., Result], folder: Path, katalog: Path, out: Path,
         *args: Any) -> Result:
    result = invoke("run", folder, "--out", out, "--katalog", katalog, *args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and out.is_file()
    return result


def test_fetch_keeps_the_answer_with_its_date_and_shows_it(
        invoke: Callable[..., Result], kolada: Any, built: tuple[Path, Path], folder: Path,
        tmp_path: Path) -> None:
    out = tmp_path / "hämtad.xlsx"
    result = _run(invoke, folder, built[1], out, "--hamta")
    assert kolada.requests == [FIRST, f"{FIRST}?page=2&per_page=10"]
    (cache,) = (folder / "jamforelse").iterdir()
    date = re.fullmatch(r"kolada_(\d{4}-\d\d-\d\d)\.json", cache.name)
    assert date, cache.name
    saved = json.loads(cache.read_text(encoding="utf-8"))
    assert saved["hamtad"].startswith(date.group(1))
    assert len(saved["values"]) == len(ROWS) and saved["next_url"] is None
    assert saved["url"][0] == f"{kolada.base}{FIRST}"
    assert f"Jämförelse med Kolada: 2 indikatorer ur {cache.name} (hämtad {date.group(1)})." in (
        result.output)
    catalog = load_catalog(built[1])
    summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], catalog)
    for (ind, column), (value, code) in EXPECTED.items():
        assert summary.cell(ind, column).value == pytest.approx(value), (ind, column)
        assert summary.cell(ind, column).number_format == code
    about = " ".join(str(c.value) for c in openpyxl.load_workbook(out)["Om sammanställningen"]["A"]
                     if c.value)
    assert f"hämtad {date.group(1)}" in about and "Källa: RKA/Kolada" in about
    # The kept answer makes the same master again, without the network.
    again = tmp_path / "igen.xlsx"
    _run(invoke, folder, built[1], again, "--jamforelse", cache)
    assert again.read_bytes() == out.read_bytes()


def _one_line(result: Result, words: str) -> None:
    lines = [line for line in result.output.splitlines() if "Jämförelse" in line]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Jämförelse: Jämförelsevärdena kunde inte hämtas från http://")
    assert words in lines[0], lines[0]


def _without_comparison(out: Path, katalog: Path) -> None:
    summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], load_catalog(katalog))
    assert COUNTRY not in summary.headings
    assert summary.cell("andel_barn_utredning", "2025-T3").value is not None


@pytest.mark.parametrize("case", ["server error", "not JSON", "not Kolada's data",
                                  "next page elsewhere"])
def test_a_failed_fetch_is_one_line_and_the_run_goes_on(
        invoke: Callable[..., Result], kolada: Any, built: tuple[Path, Path], folder: Path,
        tmp_path: Path, case: str) -> None:
    answers = {
        "server error": ((500, b"{}"), "servern svarade HTTP 500"),
        "not JSON": ((200, b"<html>Underhall</html>"), "svaret är inte JSON"),
        "not Kolada's data": ((200, b'{"error": "x"}'), "inte Koladas data"),
        "next page elsewhere": ((200, json.dumps({"values": [], "next_url":
                                                  "http://example.invalid/v3/x"}).encode()),
                                "annan server (example.invalid)"),
    }
    answer, words = answers[case]
    kolada.answer = lambda path: answer
    out = tmp_path / "utan.xlsx"
    result = _run(invoke, folder, built[1], out, "--hamta")
    _one_line(result, words)
    _without_comparison(out, built[1])
    assert not (folder / "jamforelse").exists()  # nothing kept of a failed fetch


def test_no_answer_within_the_time_out(invoke: Callable[..., Result], kolada: Any,
                                       built: tuple[Path, Path], folder: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    kolada.slow = True  # the server holds its answer until the test is over
    monkeypatch.setenv("CONSOLIDATE_KOLADA_TIMEOUT", "0.2")
    out = tmp_path / "utan.xlsx"
    result = _run(invoke, folder, built[1], out, "--hamta")
    _one_line(result, "inget svar inom 0.2 sekunder")
    _without_comparison(out, built[1])


def test_no_server_at_the_address(invoke: Callable[..., Result], built: tuple[Path, Path],
                                  folder: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), Kolada)
    port = closed.server_address[1]
    closed.server_close()  # the port is free now: nobody answers there
    monkeypatch.setenv("CONSOLIDATE_KOLADA_URL", f"http://127.0.0.1:{port}/v3")
    out = tmp_path / "utan.xlsx"
    result = _run(invoke, folder, built[1], out, "--hamta")
    _one_line(result, "servern tog inte emot anslutningen")
    _without_comparison(out, built[1])


def test_an_answer_that_cannot_be_kept_is_still_used(
        invoke: Callable[..., Result], kolada: Any, built: tuple[Path, Path], folder: Path,
        tmp_path: Path) -> None:
    (folder / "jamforelse").write_text("en fil där mappen skulle vara", encoding="utf-8")
    out = tmp_path / "hämtad.xlsx"
    result = _run(invoke, folder, built[1], out, "--hamta", "--json")
    report = json.loads(result.stdout)
    (kept,) = [f for f in report["fynd"] if f["kod"].startswith("jamforelse_")]
    assert kept["kod"] == "jamforelse_sparad" and kept["allvarlighet"] == "varning"
    summary = Summary(openpyxl.load_workbook(out)["Sammanställning"], load_catalog(built[1]))
    assert summary.cell("andel_barn_utredning", COUNTRY).value == pytest.approx(0.045)
