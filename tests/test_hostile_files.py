"""Hostile workbooks are refused quickly, in bounded memory, with a Swedish finding; links are never
followed and macros never run. Each file is a real filled template rebuilt by tests/hostile.py."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import openpyxl
import pytest
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from consolidate.catalog import Catalog
from consolidate.demo import load_seeds, unit_values
from consolidate.periods import Period

import hostile as H
from conftest import ROOT, fill

PERIOD = Period(2025, 2)
UNIT = "vuxen"
CATALOG = ROOT / "schemas" / "katalog.toml"
PEAK_MB = 300  # a real template is read in ~30 MB; far below what any of these files would take


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, template_cache: Callable[[str, str], Path],
         catalog: Catalog) -> Path:
    """A complete, valid filled template that every hostile file starts from."""
    values = unit_values(catalog, load_seeds(), UNIT, PERIOD)
    out = tmp_path_factory.mktemp("bas") / f"{PERIOD}_{UNIT}.xlsx"
    return fill(template_cache(UNIT, str(PERIOD)), values, out)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fientliga")


def refused(result: dict[str, Any], code: str) -> None:
    """The reading process ended normally, in bounded memory, refusing the file for `code`."""
    assert result["returncode"] == 0, f"the reader crashed:\n{result['stderr']}"
    assert result["peak_mb"] < PEAK_MB, f"peak memory {result['peak_mb']:.0f} MB"
    assert code in result["codes"], result["codes"]
    assert not result["readable"] and not result["rows"]
    assert all(m.strip() for m in result["messages"])


def test_the_base_file_is_read_in_little_memory(base: Path) -> None:
    result = H.read_isolated(base, CATALOG)
    assert result["returncode"] == 0, result["stderr"]
    assert result["readable"] and result["rows"] and result["codes"] == []
    assert result["peak_mb"] < PEAK_MB * 2 / 3  # so that the limit above means something


# ---- zip bombs ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bomb(base: Path, hostile_dir: Path) -> Path:
    return H.zip_bomb(base, hostile_dir / "bomb.xlsx", size=3 * H.GIB // 2)


def test_zip_bomb_is_small_and_really_expands(bomb: Path) -> None:
    """The test file is what it claims: a few MB that unpack to gigabytes of sheet XML."""
    assert bomb.stat().st_size < 8_000_000
    with zipfile.ZipFile(bomb) as archive:
        total = sum(i.file_size for i in archive.infolist())
        big = max(archive.infolist(), key=lambda i: i.file_size)
        assert total > H.GIB and big.file_size / big.compress_size > 200
        with archive.open(big) as part:  # the deflate stream is genuine, not just a header
            head = part.read(4 << 20)
    assert head.startswith(H.SHEET_HEAD) and head.count(b"<c r=") > 50_000


def test_zip_bomb_is_refused_in_bounded_memory(bomb: Path) -> None:
    result = H.read_isolated(bomb, CATALOG)
    refused(result, "for_hart_packad")
    # The message says which limit was hit and names the part.
    assert "läses inte" in result["messages"][0] and "gånger" in result["messages"][0]
    assert H.sheet_part(bomb, "Indikatorer") in result["messages"][0]


@pytest.mark.parametrize("sheet", ["Indikatorer", "_meta"])
def test_bomb_with_forged_sizes_in_a_sheet_is_refused(base: Path, hostile_dir: Path,
                                                      sheet: str) -> None:
    """The zip directory claims 64 KB for a sheet that unpacks to 1.5 GB of cells."""
    path = H.zip_bomb(base, hostile_dir / f"förfalskad_{sheet}.xlsx", size=H.GIB // 2,
                      declared_small=True, sheet=sheet)
    result = H.read_isolated(path, CATALOG)
    assert result["returncode"] == 0, result["stderr"]
    assert result["peak_mb"] < PEAK_MB
    assert result["codes"] == ["forfalskad_storlek"] and not result["readable"]
    assert H.sheet_part(base, sheet) in result["messages"][0]


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
def test_forged_sizes_in_workbook_xml_are_refused_in_bounded_memory(base: Path, hostile_dir: Path,
                                                                   part: str) -> None:
    path = H.forged_part(base, hostile_dir / f"förfalskad_{part.replace('/', '_')}.xlsx", part,
                         size=H.GIB // 2)
    assert path.stat().st_size < 1_000_000
    result = H.read_isolated(path, CATALOG)
    assert result["returncode"] == 0, f"the reader raised:\n{result['stderr']}"
    assert result["peak_mb"] < PEAK_MB
    assert result["codes"] == ["forfalskad_storlek"] and not result["readable"]
    assert part in result["messages"][0]


# ---- XML entities ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def entity_files(base: Path, hostile_dir: Path) -> dict[str, Path]:
    return {
        "laughs": H.billion_laughs(base, hostile_dir / "skratt.xlsx"),
        "xxe": H.external_entity(base, hostile_dir / "xxe.xlsx"),
    }


@pytest.mark.parametrize("kind", ["laughs", "xxe"])
def test_entities_in_workbook_xml_are_refused(entity_files: dict[str, Path], kind: str) -> None:
    result = H.read_isolated(entity_files[kind], CATALOG)
    refused(result, "osaker_xml")
    assert result["codes"] == ["osaker_xml"]
    assert not any("root:" in m for m in result["messages"])


@pytest.mark.parametrize("sheet", ["_meta", "Indikatorer"])
@pytest.mark.parametrize("kind", ["laughs", "xxe"])
def test_entities_in_a_sheet_are_refused(base: Path, hostile_dir: Path, sheet: str,
                                         kind: str) -> None:
    """The sheets are read by calamine, not by defusedxml: they must be refused all the same."""
    part = H.sheet_part(base, sheet)
    doctype = ('<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' if kind == "xxe"
               else "<!DOCTYPE worksheet [" + "".join(
                   ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'
                                               for i in range(1, 10)]) + "]>")
    xml = H.members(base)[part].decode()
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + doctype + xml[xml.index("<worksheet"):]
    xml = xml.replace("<t>", "<t>" + ("&xxe;" if kind == "xxe" else "&lol9;"), 1)
    path = H.rebuild(base, hostile_dir / f"{kind}_{sheet}.xlsx", replace={part: xml.encode()})
    result = H.read_isolated(path, CATALOG)
    assert result["returncode"] == 0, result["stderr"]
    assert result["peak_mb"] < PEAK_MB
    assert set(result["codes"]) & {"osaker_xml", "trasig_fil"} and not result["readable"]
    assert not any("root:" in cell for row in result["rows"] for cell in row)


def test_openpyxl_for_feedback_copies_uses_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "defusedxml must be installed: openpyxl then refuses entities"


@pytest.mark.parametrize("kind", ["laughs", "xxe"])
def test_openpyxl_refuses_the_same_entities(entity_files: dict[str, Path], kind: str) -> None:
    with pytest.raises(ValueError) as info:
        openpyxl.load_workbook(entity_files[kind])
    chain: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, DefusedXmlException) for e in chain), chain


# ---- huge workbooks ----------------------------------------------------------------------------

def test_thousands_of_sheets_are_refused(base: Path, hostile_dir: Path) -> None:
    path = H.many_sheets(base, hostile_dir / "flikar.xlsx", count=5000)
    with zipfile.ZipFile(path) as archive:
        assert len([n for n in archive.namelist() if n.startswith("xl/worksheets/")]) > 5000
    result = H.read_isolated(path, CATALOG)
    refused(result, "for_manga_flikar")
    assert "flikar" in result["messages"][0]


@pytest.fixture(scope="module")
def million(base: Path, hostile_dir: Path) -> Path:
    return H.million_rows(base, hostile_dir / "rader.xlsx", rows=1_000_000)


def test_a_million_rows_are_refused(base: Path, million: Path) -> None:
    path = million
    with zipfile.ZipFile(path) as archive:
        part = archive.getinfo(H.sheet_part(base, "Indikatorer"))
        assert part.file_size > 30_000_000 and path.stat().st_size < 10_000_000
    result = H.read_isolated(path, CATALOG)
    refused(result, "for_stor_del")  # the one sheet part unpacks to more than a part may
    assert "MB per del" in result["messages"][0]


@pytest.mark.parametrize("ref", ["J1048576", "ZZ200000", "XFD1048576"])
def test_one_far_cell_is_refused_before_the_grid_is_built(base: Path, hostile_dir: Path,
                                                          ref: str) -> None:
    path = H.far_cell(base, hostile_dir / f"långt_bort_{ref}.xlsx", ref)
    assert path.stat().st_size < 50_000
    result = H.read_isolated(path, CATALOG)
    refused(result, "for_stor_flik")
    assert f"cellen {ref}" in result["messages"][0] and "'Indikatorer'" in result["messages"][0]


def test_one_far_cell_file_does_not_stop_the_run(base: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(base, folder / base.name)
    H.far_cell(base, folder / "långt bort.xlsx", "XFD1048576")
    proc = subprocess.run([sys.executable, "-m", "consolidate", "run", str(folder), "--json",
                           "--katalog", str(CATALOG)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_cap_memory, check=False)
    assert proc.returncode in (0, 1), proc.stderr[:1500]
    report = json.loads(proc.stdout)
    far = [f for f in report["fynd"] if f["fil"] == "långt bort.xlsx"]
    assert ([(f["kod"], f["flik"], f["cell"]) for f in far]
            == [("for_stor_flik", "Indikatorer", "XFD1048576")])


# ---- external links and macros -----------------------------------------------------------------

class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def link_target() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every request: an external link must never reach it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ekonomi/hemlig.xlsx", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


def test_external_link_is_reported_and_never_followed(base: Path, tmp_path: Path,
                                                      invoke: Callable[..., Any],
                                                      link_target: tuple[str, list[str]],
                                                      unchanged: Callable[[Path], None]) -> None:
    url, requests = link_target
    folder = tmp_path / "in"
    folder.mkdir()
    path = H.external_link(base, folder / base.name, url)
    unchanged(folder)
    result = invoke("check", folder, "--json", "--feedback", tmp_path / "ut", "--katalog", CATALOG)
    report = json.loads(result.stdout)
    codes = [f["kod"] for f in report["fynd"] if f["fil"] == path.name]
    assert codes == ["extern_lank"], report["fynd"]
    link = next(f for f in report["fynd"] if f["kod"] == "extern_lank")
    assert link["allvarlighet"] == "varning" and "följs inte" in link["meddelande"]
    assert result.exit_code == 0  # a warning does not stop the submission
    # The values are the saved ones, the same as in the file without the link.
    plain = H.read_isolated(base, CATALOG)
    linked = H.read_isolated(path, CATALOG)
    assert [r[5:] for r in linked["rows"]] == [r[5:] for r in plain["rows"]]
    assert (tmp_path / "ut" / f"{path.stem}_återkoppling.xlsx").exists()
    assert requests == []


def test_macro_part_is_refused_and_never_run(base: Path, tmp_path: Path, invoke: Callable[..., Any],
                                             unchanged: Callable[[Path], None]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    path = H.with_macro(base, folder / base.name)
    renamed = folder / "2025-T2_vuxen_kopia.xlsm"
    shutil.copy(base, renamed)  # a workbook saved as .xlsm is refused even without a VBA part
    unchanged(folder)
    result = invoke("check", folder, "--json", "--feedback", tmp_path / "ut", "--katalog", CATALOG)
    report = json.loads(result.stdout)
    for name, code in ((path.name, "makro"), (renamed.name, "makro_andelse")):
        codes = [f["kod"] for f in report["fynd"] if f["fil"] == name]
        assert codes == [code], (name, codes)
    message = next(f["meddelande"] for f in report["fynd"] if f["kod"] == "makro")
    assert "Makron körs aldrig" in message
    assert result.exit_code == 1
    # No feedback copy carries the macro back to the unit.
    assert not any((tmp_path / "ut").glob("*"))


# ---- a folder that mixes all of them with valid submissions ------------------------------------

BROKEN = {
    # file name -> (expected rule code, a word of the Swedish reason)
    "bomb.xlsx": ("for_hart_packad", "läses inte"),
    "förfalskad storlek.xlsx": ("forfalskad_storlek", "förfalskad"),
    "skratt.xlsx": ("osaker_xml", "XML"),
    "xxe.xlsx": ("osaker_xml", "XML"),
    "5000 flikar.xlsx": ("for_manga_flikar", "flikar"),
    "miljon rader.xlsx": ("for_stor_del", "läses inte"),
    "makro.xlsx": ("makro", "Makron"),
    "tom.xlsx": ("tom_fil", "tom"),
    "avkortad.xlsx": ("trasig_fil", "skadad"),
    "egentligen csv.xlsx": ("ej_excel", "textfil"),
    "gammal.xls": ("gammalt_format", ".xls"),
}


def test_run_over_a_mixed_folder_uses_the_valid_files_and_explains_the_rest(
        tmp_path: Path, template_cache: Callable[[str, str], Path], catalog: Catalog, base: Path,
        bomb: Path, million: Path, link_target: tuple[str, list[str]],
        unchanged: Callable[[Path], None]) -> None:
    url, requests = link_target
    folder = tmp_path / "delad mapp"
    folder.mkdir()
    typed: dict[str, dict[str, Any]] = {}
    for unit in catalog.unit_ids():
        typed[unit] = unit_values(catalog, load_seeds(), unit, PERIOD)
        out = fill(template_cache(unit, str(PERIOD)), typed[unit],
                   tmp_path / "fyllda" / f"{PERIOD}_{unit}.xlsx")
        if unit == "myren":  # one valid submission carries an external link: a warning, still used
            H.external_link(out, folder / out.name, url)
        else:
            shutil.copy(out, folder / out.name)
    shutil.copy(bomb, folder / "bomb.xlsx")
    H.zip_bomb(base, folder / "förfalskad storlek.xlsx", size=H.GIB // 4, declared_small=True)
    H.billion_laughs(base, folder / "skratt.xlsx")
    H.external_entity(base, folder / "xxe.xlsx")
    H.many_sheets(base, folder / "5000 flikar.xlsx")
    shutil.copy(million, folder / "miljon rader.xlsx")
    H.with_macro(base, folder / "makro.xlsx")
    (folder / "tom.xlsx").write_bytes(b"")
    (folder / "avkortad.xlsx").write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    (folder / "egentligen csv.xlsx").write_text("enhet;värde\nvuxen;12\n", encoding="utf-8")
    (folder / "gammal.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000)
    unchanged(folder)

    proc = subprocess.run([sys.executable, "-m", "consolidate", "run", str(folder), "--json",
                           "--katalog", str(CATALOG)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_cap_memory, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    master = Path(report["huvudarbetsbok"])
    assert master.parent == folder and master.exists()

    # Every other file is listed, refused, with its Swedish reason.
    files = {f["fil"]: f for f in report["filer"]}
    for name, (code, word) in BROKEN.items():
        assert files[name]["status"] == "underkänd", name
        reasons = [f for f in report["fynd"] if f["fil"] == name]
        assert [f["kod"] for f in reasons] == [code], (name, reasons)
        assert word in reasons[0]["meddelande"], (name, reasons[0]["meddelande"])
    register = {e["fil"]: e for e in report["inlamning"] if e["fil"]}
    assert set(BROKEN) <= set(register)
    assert ({e["enhet"] for e in report["inlamning"] if e["status"] == "levererad"}
            == set(catalog.unit_ids()))
    link = [f for f in report["fynd"] if f["fil"] == f"{PERIOD}_myren.xlsx"]
    assert [f["kod"] for f in link] == ["extern_lank"]
    assert requests == []

    wb = openpyxl.load_workbook(master)
    listed = {row[2] for row in wb["Inlämning"].iter_rows(min_row=5, values_only=True)}
    assert set(BROKEN) <= listed
    logged = {(row[1], row[6])
              for row in wb["Valideringslogg"].iter_rows(min_row=5, values_only=True)}
    for name, (code, _) in BROKEN.items():
        assert (name, _title(code)) in logged, name
    _assert_master_holds_exactly(wb, catalog, typed)


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def _title(code: str) -> str:
    from consolidate.findings import RULES

    return RULES[code].title


def _assert_master_holds_exactly(wb: openpyxl.Workbook, catalog: Catalog,
                                 typed: dict[str, dict[str, Any]]) -> None:
    """The master's data are the values typed into the six valid files, nothing from the others;
    the board column is computed here from the typed values by the catalog's combine rule."""
    ws = wb["Data"]
    heads = [c.value for c in ws[1]]
    col = {h: heads.index(h) for h in heads}
    seen: dict[tuple[str, str], float] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[col["Period"]] != str(PERIOD):
            continue
        scope, item, field = row[col["Id"]], row[col["Rad-id"]], row[col["Fält-id"]]
        prefix = "ind" if row[col["Område"]] == "Indikator" else "tab"
        name = "_".join(p for p in (prefix, scope, item, field) if p)
        if row[col["Värde"]] is not None:
            seen[(row[col["Enhets-id"]], name)] = row[col["Värde"]]
        assert row[col["Fil"]] == f"{PERIOD}_{row[col['Enhets-id']]}.xlsx"
    expected = {(u, n): float(v) for u, values in typed.items() for n, v in values.items()
                if isinstance(v, (int, float))}
    assert seen.keys() == expected.keys()
    for key, value in expected.items():
        assert seen[key] == pytest.approx(value), key

    summary = wb["Sammanställning"]
    heads = [c.value for c in summary[4]]
    current = heads.index(PERIOD.heading)
    rows = {str(r[1]): r for r in summary.iter_rows(min_row=5, values_only=True) if r[1]}
    checked = 0
    for ind in catalog.indicators:
        units = [u for u in catalog.unit_ids() if f"ind_{ind.id}_varde" in typed[u]
                 or f"ind_{ind.id}_taljare" in typed[u]]
        if not units:
            continue
        row = next(r for name, r in rows.items() if name.startswith(ind.name))
        if ind.combine == "kvot":
            want = (sum(float(typed[u][f"ind_{ind.id}_taljare"]) for u in units)
                    / sum(float(typed[u][f"ind_{ind.id}_namnare"]) for u in units))
        elif ind.combine == "summa":
            want = sum(float(typed[u][f"ind_{ind.id}_varde"]) for u in units)
        else:
            continue
        assert row[current] == pytest.approx(want), ind.id
        checked += 1
    assert checked >= 8
