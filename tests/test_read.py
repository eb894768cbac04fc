"""The reader on real workbooks: Swedish numbers, moved cells, broken and foreign files."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from consolidate.catalog import Catalog
from consolidate.model import Checked, Finding
from consolidate.periods import Period
from consolidate.read import read_submission
from consolidate.run import check_files, collect_paths
from test_validate import base_values

import hostile as H
from conftest import fill

T2 = Period(2025, 2)
F = "forebyggande"
FAM = "tab_enkat_familjer_"
SKOLA = "tab_enkat_skola_"
Q = ("hur_nojd_ar_du_med_hjalpen_radgivningen__andel",
     "hur_nojd_ar_du_med_det_bemotande_du_fatt_andel",
     "hur_val_har_hjalpen_radgivningen_uppfyll_andel",
     "tank_dig_den_basta_radgivning_man_kan_fa_andel")
_REF = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^!]+)!\$(?P<col>[A-Z]+)\$(?P<row>\d+)$")


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-")


def values_of(sub: Any) -> dict[str, tuple[str, str, float | None]]:
    """name -> (sheet, cell, value) from the submission's cells."""
    return {c.name: (c.sheet, c.cell, c.value) for c in sub.cells}


def resave(path: Path) -> Path:
    """An openpyxl load/save round trip, as another tool touching the file would do."""
    wb = openpyxl.load_workbook(path)
    wb.save(path)
    return path


# --- Swedish numbers typed as text ---------------------------------------------------------------

TYPED = {
    "ind_forebyggande_insatser_varde": ("1 931", 1931.0),
    "ind_medarbetare_tidiga_insatser_varde": ("170,2", 170.2),
    "tab_service_myndighet_service_antal": ("1\u00a0421", 1421.0),
    "tab_service_myndighet_myndighetsutovning_antal": ("553", 553.0),
    "tab_service_myndighet_summa_antal": ("1\u202f974", 1974.0),
    FAM + Q[0]: ("4,2 %", 0.042),
    FAM + Q[1]: ("4,2%", 0.042),
    FAM + Q[2]: (0.042, 0.042),
    FAM + Q[3]: ("42 %", 0.42),
    SKOLA + Q[0]: ("0,42", 0.42),
    SKOLA + Q[1]: (" 64 % ", 0.64),
    SKOLA + Q[2]: ("\u200b64\u00a0%", 0.64),
    SKOLA + Q[3]: (0.55, 0.55),
    "tab_arenden_per_kalla_summa_andel": ("-", None),
    "tab_personalomsattning_total_antal": ("10 st", 10.0),
    "ind_forebyggande_insatser_kommentar": (None, None),
}
TYPED_MNKR = {"ind_kostnad_externa_placeringar_varde": ("177,9 mnkr", 177.9),
              "ind_medarbetare_utredning_varde": ("89,4", 89.4)}


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
          template_cache: Callable[[str, str], Path]) -> tuple[Checked, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("tal")
    f_values = {**base_values(catalog, F, T2), **{k: v for k, (v, _) in TYPED.items()}}
    b_values = {**base_values(catalog, "barn_unga", T2),
                **{k: v for k, (v, _) in TYPED_MNKR.items()}}
    paths = [fill(template_cache(F, str(T2)), f_values, folder / "forebyggande.xlsx"),
             fill(template_cache("barn_unga", str(T2)), b_values, folder / "barn_unga.xlsx")]
    # The same files once more through an openpyxl round trip.
    for p in list(paths):
        paths.append(resave(Path(shutil.copy(p, folder / f"sparad_{p.name}"))))
    result = check_files(paths, catalog, folder)
    return result, {s.file: s for s in result.submissions}


@pytest.mark.parametrize("name", sorted(TYPED))
def test_swedish_number_typed_as_text(name: str, typed: tuple[Checked, dict[str, Any]]) -> None:
    _, subs = typed
    for file in ("forebyggande.xlsx", "sparad_forebyggande.xlsx"):
        assert values_of(subs[file])[name][2] == TYPED[name][1]


def test_mnkr_typed_with_its_unit(typed: tuple[Checked, dict[str, Any]]) -> None:
    _, subs = typed
    got = values_of(subs["barn_unga.xlsx"])
    assert got["ind_kostnad_externa_placeringar_varde"] == ("Indikatorer", "D12", 177.9)
    assert got["ind_medarbetare_utredning_varde"][2] == 89.4


def test_percent_as_text_equals_percent_cell_fraction(
        typed: tuple[Checked, dict[str, Any]]) -> None:
    got = values_of(typed[1]["forebyggande.xlsx"])
    assert got[FAM + Q[0]][2] == got[FAM + Q[1]][2] == got[FAM + Q[2]][2] == 0.042


def test_typed_numbers_validate_clean(typed: tuple[Checked, dict[str, Any]]) -> None:
    result, subs = typed
    for sub in subs.values():
        assert result.of(sub) == [], sub.file


def test_values_keep_sheet_and_cell(typed: tuple[Checked, dict[str, Any]]) -> None:
    got = values_of(typed[1]["forebyggande.xlsx"])
    assert got["tab_arenden_per_kalla_bun_andel"] == ("Ärenden per källa", "C7", 0.61)
    assert got["tab_arenden_per_kalla_summa_antal"] == ("Ärenden per källa", "B14", 2034.0)
    assert got["ind_forebyggande_insatser_varde"][:2] == ("Indikatorer", "D6")
    assert got["tab_avslutade_per_manad_avslutade_anstallningar_aug"] == ("Avslutade per månad",
                                                                          "I6", 10.0)
    # Months after the period are read as empty, not as 0.
    assert got["tab_avslutade_per_manad_avslutade_anstallningar_sep"][2] is None


def test_round_trip_reads_the_same(typed: tuple[Checked, dict[str, Any]]) -> None:
    _, subs = typed
    for name in ("forebyggande.xlsx", "barn_unga.xlsx"):
        assert values_of(subs[name]) == values_of(subs[f"sparad_{name}"])
        assert (subs[name].unit, subs[name].period) == (subs[f"sparad_{name}"].unit, "2025-T2")


# --- Inserted rows and columns, renamed and deleted sheets, names, merges, formulas ---------------

def shift_names(wb: Any, sheet: str, *, row_at: int = 0, rows: int = 0, col_at: int = 0,
                cols: int = 0) -> None:
    """Move defined names the way Excel does when rows or columns are inserted (openpyxl does
    not)."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    for dn in wb.defined_names.values():
        m = _REF.match(dn.attr_text)
        if not m or m["sheet"].strip("'").replace("''", "'") != sheet:
            continue
        row, col = int(m["row"]), column_index_from_string(m["col"])
        if rows and row >= row_at:
            row += rows
        if cols and col >= col_at:
            col += cols
        dn.attr_text = f"{m['sheet']}!${get_column_letter(col)}${row}"


def rename_sheet(wb: Any, old: str, new: str, *, like_excel: bool) -> None:
    wb[old].title = new
    if like_excel:
        for dn in wb.defined_names.values():
            dn.attr_text = dn.attr_text.replace(f"'{old}'!", f"'{new}'!")


def delete_sheet(wb: Any, name: str, *, like_excel: bool) -> None:
    del wb[name]
    if like_excel:
        for dn in wb.defined_names.values():
            if dn.attr_text.startswith(f"'{name}'!"):
                dn.attr_text = "#REF!" + dn.attr_text.split("!", 1)[1]


def insert_top(wb: Any) -> None:
    wb["Ärenden per källa"].insert_rows(3, 2)
    shift_names(wb, "Ärenden per källa", row_at=3, rows=2)


def insert_inside(wb: Any) -> None:
    ws = wb["Ärenden per källa"]
    ws.insert_rows(8)
    shift_names(wb, "Ärenden per källa", row_at=8, rows=1)
    ws.insert_cols(1)
    shift_names(wb, "Ärenden per källa", col_at=1, cols=1)


def insert_column(wb: Any) -> None:
    wb["Indikatorer"].insert_cols(2)
    shift_names(wb, "Indikatorer", col_at=2, cols=1)


def delete_name(wb: Any) -> None:
    del wb.defined_names["tab_arenden_per_kalla_polis_antal"]


def name_to_ref_error(wb: Any) -> None:
    wb.defined_names["tab_arenden_per_kalla_polis_antal"].attr_text = "'Ärenden per källa'!#REF!"


def merge(wb: Any) -> None:
    wb["Ärenden per källa"].merge_cells("B7:C7")


def formula(wb: Any) -> None:
    wb["Ärenden per källa"]["B6"] = "=1+1"


def formula_cached(wb: Any) -> None:
    wb["Ärenden per källa"]["B6"] = "=113*2"


def cache_formula_value(path: Path) -> None:
    """Store a cached value with the formula, as Excel does when it saves."""
    data = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(data) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            body = src.read(item.filename)
            if b"<f>113*2</f>" in body:
                body = body.replace(b"<f>113*2</f><v />", b"<f>113*2</f><v>226</v>")
                assert b"<v>226</v>" in body
            out.writestr(item, body)


def edit_sheet_xml(sheet: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    """Rewrite the sheet's XML as another program might have written it."""
    def edit(path: Path) -> None:
        part = H.sheet_part(path, sheet)
        data = io.BytesIO(path.read_bytes())
        with zipfile.ZipFile(data) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                body = src.read(item.filename)
                if item.filename == part:
                    assert old in body
                    body = body.replace(old, new)
                out.writestr(item, body)
    return edit


def set_meta(key: str, value: str) -> Callable[[Any], None]:
    def edit(wb: Any) -> None:
        for row in wb["_meta"].iter_rows():
            if row[0].value == key:
                row[1].value = value
    return edit


def add_external_link(path: Path) -> None:
    """A link to another workbook, as Excel stores one (the reader never follows it)."""
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/externalLinks/externalLink1.xml",
                   b'<externalLink xmlns="http://schemas.openxmlformats.'
                   b'org/spreadsheetml/2006/main"><externalBook/></externalLink>')


POST = {
    "formel_med_varde": cache_formula_value, "extern_lank": add_external_link,
    # Attributes in single quotes are valid XML: the formula is still found.
    "formel_enkla_citat": edit_sheet_xml("Ärenden per källa", b'<c r="B6"', b"<c r='B6'"),
    # An empty, formatted cell in the sheet's last row and column holds nothing: no grid, no
    # refusal.
    "tom_cell_langst_bort": edit_sheet_xml("Ärenden per källa", b"</sheetData>",
                                           b'<row r="1048576"><c r="XFD1048576" '
                                           b's="0"/></row></sheetData>'),
}

# name, edit of the workbook, value changes, expected (code, sheet, cell) findings,
# expected (name -> (sheet, cell, value)) reads.
STRUCTURE: list[tuple[str, Callable[[Any], None] | None, dict[str, Any], list[tuple[str, str, str]],
                      dict[str, tuple[str, str, float | None]]]] = [
    ("rader_overst", insert_top, {"tab_arenden_per_kalla_bun_andel": 0.63},
     [("andel_antal", "Ärenden per källa", "C9")],
     {"tab_arenden_per_kalla_polis_antal": ("Ärenden per källa", "B8", 226.0),
      "tab_arenden_per_kalla_summa_antal": ("Ärenden per källa", "B16", 2034.0)}),
    ("rad_och_kolumn_i_tabellen", insert_inside,
     {"tab_arenden_per_kalla_anhoriga_bekanta_andel": 0.07},
     [("andel_antal", "Ärenden per källa", "D9")],
     {"tab_arenden_per_kalla_bun_andel": ("Ärenden per källa", "D7", 0.61),
      "tab_arenden_per_kalla_anhoriga_bekanta_antal": ("Ärenden per källa", "C9", 101.0),
      "tab_arenden_per_kalla_summa_antal": ("Ärenden per källa", "C15", 2034.0)}),
    ("kolumn_indikatorer", insert_column, {"ind_forebyggande_insatser_varde": 25000},
     [("orimligt", "Indikatorer", "E6")],
     {"ind_medarbetare_tidiga_insatser_varde": ("Indikatorer", "E7", 62.3)}),
    ("flik_omdopt_som_excel",
     lambda wb: rename_sheet(wb, "Enkät skola", "Skolenkät", like_excel=True),
     {SKOLA + Q[0]: "150 %", SKOLA + Q[1]: 0.12},
     [("flik_omdopt", "Skolenkät", ""), ("andel_intervall", "Skolenkät", "B6")],
     {SKOLA + "svar_antal": ("Skolenkät", "B10", 9.0), SKOLA + Q[1]: ("Skolenkät", "B7", 0.12)}),
    ("flik_omdopt_namn_kvar",
     lambda wb: rename_sheet(wb, "Enkät skola", "Skolenkät", like_excel=False), {},
     [("flik_saknas", "Enkät skola", "")], {}),
    ("flik_borttagen_som_excel", lambda wb: delete_sheet(wb, "Enkät skola", like_excel=True),
     {"tab_tillbud_skador_tillbud_antal": 14},
     [("flik_saknas", "Enkät skola", ""), ("varav_storre", "Tillbud och skador", "B7")], {}),
    ("flik_borttagen_namn_kvar", lambda wb: delete_sheet(wb, "Enkät skola", like_excel=False), {},
     [("flik_saknas", "Enkät skola", "")], {}),
    ("namn_borttaget", delete_name, {}, [("namn_saknas", "Ärenden per källa", "B6")],
     {"tab_arenden_per_kalla_bun_antal": ("Ärenden per källa", "B7", 1244.0)}),
    ("namn_referensfel", name_to_ref_error, {}, [("namn_saknas", "Ärenden per källa", "B6")], {}),
    ("sammanfogad", merge, {}, [("sammanfogad", "Ärenden per källa", "C7")],
     {"tab_arenden_per_kalla_bun_antal": ("Ärenden per källa", "B7", 1244.0),
      "tab_arenden_per_kalla_bun_andel": ("Ärenden per källa", "C7", None)}),
    ("formel", formula, {}, [("formel_utan_varde", "Ärenden per källa", "B6")],
     {"tab_arenden_per_kalla_polis_antal": ("Ärenden per källa", "B6", None)}),
    ("formel_enkla_citat", formula, {}, [("formel_utan_varde", "Ärenden per källa", "B6")],
     {"tab_arenden_per_kalla_polis_antal": ("Ärenden per källa", "B6", None)}),
    ("tom_cell_langst_bort", None, {}, [],
     {"tab_arenden_per_kalla_polis_antal": ("Ärenden per källa", "B6", 226.0)}),
    ("formel_med_varde", formula_cached, {}, [],
     {"tab_arenden_per_kalla_polis_antal": ("Ärenden per källa", "B6", 226.0)}),
    ("text_i_talcell", None, {"tab_service_myndighet_service_antal": "ungefär 1400"},
     [("ej_tal", "Service och myndighet", "B6")], {}),
    ("negativt_antal", None, {"tab_inledda_utredningar_inledda_utredningar_antal": -170},
     [("negativ", "Inledda utredningar", "B7")], {}),
    ("procent_42", None, {FAM + Q[0]: 64}, [("procent_skala", "Enkät familjer", "B6")], {}),
    ("procent_0_64", None, {FAM + Q[0]: "0,64"}, [], {FAM + Q[0]: ("Enkät familjer", "B6", 0.64)}),
    # A template from another version of the catalog whose cells are this period's: read as it is.
    ("annan_katalog", set_meta("katalog", "0123456789abcdef"),
     {"tab_tillbud_skador_tillbud_antal": 14}, [("varav_storre", "Tillbud och skador", "B7")],
     {"tab_tillbud_skador_total_antal": ("Tillbud och skador", "B6", 13.0)}),
    ("extern_lank", None, {}, [("extern_lank", "", "")],
     {"ind_forebyggande_insatser_varde": ("Indikatorer", "D6", 1412.0)}),
]


@pytest.fixture(scope="module")
def structure(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
              template_cache: Callable[[str, str], Path]) -> dict[str, tuple[Any, list[Finding]]]:
    folder = tmp_path_factory.mktemp("struktur")
    base = base_values(catalog, F, T2)
    paths = []
    for name, edit, changes, _, _ in STRUCTURE:
        path = fill(template_cache(F, str(T2)), {**base, **changes}, folder / f"{name}_{F}.xlsx")
        if edit is not None:
            wb = openpyxl.load_workbook(path)
            edit(wb)
            wb.save(path)
        if name in POST:
            POST[name](path)
        paths.append(path)
    result = check_files(paths, catalog, folder)
    return {s.file.removesuffix(f"_{F}.xlsx"): (s, result.of(s)) for s in result.submissions}


@pytest.mark.parametrize("case", STRUCTURE, ids=[c[0] for c in STRUCTURE])
def test_structure_changes(case: Any, structure: dict[str, tuple[Any, list[Finding]]]) -> None:
    name, _, _, expected, reads = case
    sub, found = structure[name]
    assert sorted((f.code, f.sheet, f.cell) for f in found) == sorted(expected), found
    assert sub.readable and sub.unit == F and sub.period == "2025-T2"
    got = values_of(sub)
    for key, want in reads.items():
        assert got[key] == want, key
    for f in found:
        assert f.message and f.file == f"{name}_{F}.xlsx"


def test_structure_messages(structure: dict[str, tuple[Any, list[Finding]]]) -> None:
    def only(name: str) -> Finding:
        hits = [f for f in structure[name][1] if f.code not in ("varav_storre", "andel_intervall")]
        assert len(hits) == 1
        return hits[0]

    assert ("öppna och spara" in only("formel").message.lower()
            and "excel" in only("formel").message.lower())
    assert "inte som 0" in only("formel").message
    assert only("formel").severity == "fel"
    renamed = only("flik_omdopt_som_excel")
    assert (renamed.severity == "varning" and "Enkät skola" in renamed.message
            and "Skolenkät" in renamed.message)
    gone = only("flik_borttagen_som_excel")
    assert gone.severity == "fel" and "'Enkät skola'" in gone.message
    assert "B7:C7" in only("sammanfogad").message
    missing = only("namn_borttaget")
    assert "Polis" in missing.message and "tab_arenden_per_kalla_polis_antal" in missing.message
    assert '"ungefär 1400"' in only("text_i_talcell").message
    assert "6 400 %" in plain(only("procent_42").message)
    assert only("extern_lank").severity == "varning"


# --- Files that are not (our) workbooks: each one finding, and the run goes on ------------------

LOCK = b"\x04Anna" + b" " * 50 + "Anna".encode("utf-16-le") + b"\x20\x00" * 50


def cfb(extra: bytes = b"") -> bytes:
    """An OLE compound file header, as .xls and encrypted workbooks start."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + extra + b"\x00" * 1024


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog,
               template_cache: Callable[[str, str], Path]) -> tuple[Path, Checked]:
    folder = tmp_path_factory.mktemp("inlamning")
    good = fill(template_cache("vuxen", str(T2)), base_values(catalog, "vuxen", T2),
                folder / "2025-T2_vuxen.xlsx")
    data = good.read_bytes()
    (folder / "avkortad.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "skadad.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    (folder / "tom.xlsx").write_bytes(b"")
    (folder / "gammal.xls").write_bytes(cfb())
    (folder / "losenord.xlsx").write_bytes(cfb("EncryptedPackage".encode("utf-16-le")))
    with zipfile.ZipFile(shutil.copy(good, folder / "makron.xlsm"), "a") as z:
        z.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    shutil.copy(good, folder / "omdopt.xlsm")
    (folder / "tabell.xlsx").write_text("Enhet;Antal\nVuxensektionen;1 931\n", encoding="utf-8")
    (folder / "~$2025-T2_vuxen.xlsx").write_bytes(LOCK)
    other = openpyxl.Workbook()
    other.active["A1"] = "Egen tabell"
    other.save(folder / "egen.xlsx")
    old = openpyxl.load_workbook(good)
    for row in old["_meta"].iter_rows():
        if row[0].value == "mallversion":
            row[1].value = "0"
    old.save(folder / "gammal_mall.xlsx")
    misplaced = fill(template_cache("barn_unga", str(T2)), base_values(catalog, "barn_unga", T2),
                     folder / "2025-T1" / "barn_unga.xlsx")
    shutil.copy(misplaced, folder / "2025-T2_vuxen_rättad.xlsx")
    stranger = openpyxl.load_workbook(good)
    set_meta("enhet", "hemtjanst")(stranger)
    stranger.save(folder / "okand.xlsx")
    with zipfile.ZipFile(folder / "kalkyl.ods", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    with zipfile.ZipFile(folder / "binar.xlsb", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    paths, root = collect_paths([folder])
    return folder, check_files(paths, catalog, root)


BAD = {
    "avkortad.xlsx": ("trasig_fil", "skadad eller avkortad"),
    "skadad.xlsx": ("trasig_fil", "skadad"),
    "tom.xlsx": ("tom_fil", "tom"),
    "gammal.xls": ("gammalt_format", ".xls"),
    "losenord.xlsx": ("losenord", "lösenord"),
    "makron.xlsm": ("makro", "makron"),
    "omdopt.xlsm": ("makro_andelse", ".xlsm"),
    "tabell.xlsx": ("ej_excel", "textfil"),
    "egen.xlsx": ("ej_mall", "inte en av nämndens mallar"),
    "gammal_mall.xlsx": ("gammal_mall", "mallversion 0"),
    "2025-T1/barn_unga.xlsx": ("fel_period", "2025-T1"),
    "2025-T2_vuxen_rättad.xlsx": ("fel_enhet_fil", "vuxen"),
    "okand.xlsx": ("okand_enhet", "'hemtjanst'"),
    "kalkyl.ods": ("ods", "OpenDocument"),
    "binar.xlsb": ("ej_excel", ".xlsb"),
}


@pytest.mark.parametrize("file", sorted(BAD))
def test_bad_file_is_one_clear_finding(file: str, bad_folder: tuple[Path, Checked]) -> None:
    _, checked = bad_folder
    subs = {s.file: s for s in checked.submissions}
    code, words = BAD[file]
    found = checked.of(subs[file])
    assert [(f.code, f.severity) for f in found] == [(code, "fel")]
    assert words in found[0].message and found[0].file == file


def test_valid_file_among_bad_ones_is_accepted(bad_folder: tuple[Path, Checked]) -> None:
    _, checked = bad_folder
    subs = {s.file: s for s in checked.submissions}
    good = subs["2025-T2_vuxen.xlsx"]
    assert good.readable and (good.unit, good.period) == ("vuxen", "2025-T2")
    assert checked.of(good) == []
    assert values_of(good)["ind_icke_bistandsbedomda_vuxen_varde"][2] == 35.0


def test_lock_files_are_not_in_the_report(bad_folder: tuple[Path, Checked]) -> None:
    _, checked = bad_folder
    files = {s.file for s in checked.submissions}
    assert files == set(BAD) | {"2025-T2_vuxen.xlsx"}
    assert not [f for f in checked.all_findings() if "~$" in f.file]


def test_messages_name_the_fix(bad_folder: tuple[Path, Checked]) -> None:
    _, checked = bad_folder
    by_file = {f.file: f for f in checked.all_findings()}
    assert "spara som Excel-arbetsbok (.xlsx)" in by_file["gammal.xls"].message
    assert "2025-T2" in by_file["2025-T1/barn_unga.xlsx"].message
    assert "Barn- och ungdomssektionen" in by_file["2025-T2_vuxen_rättad.xlsx"].message
    assert "version 1" in by_file["gammal_mall.xlsx"].message


def test_real_password_protected_workbook(tmp_path: Path, filled: Callable[..., Path],
                                          catalog: Catalog) -> None:
    crypto = pytest.importorskip("msoffcrypto.format.ooxml")
    plain_file = filled("vuxen", "2025-T2", {"ind_icke_bistandsbedomda_vuxen_varde": 50})
    target = tmp_path / "skyddad.xlsx"
    with open(plain_file, "rb") as src, open(target, "wb") as out:
        crypto.OOXMLFile(src).encrypt("hemligt", out)
    sub = read_submission(target, catalog)
    assert [(f.code, f.severity) for f in sub.findings] == [("losenord", "fel")]
    assert "Ta bort lösenordet" in sub.findings[0].message


def test_period_from_the_checked_folder_itself(filled: Callable[..., Path], tmp_path: Path,
                                               catalog: Catalog) -> None:
    """Checking the folder 2025-T1 directly, or the file alone, still notices a 2025-T2 template in
    it."""
    path = filled("barn_unga", "2025-T2", base_values(catalog, "barn_unga", T2),
                  name="barn_unga.xlsx", folder=tmp_path / "2025-T1")
    for sub in (read_submission(path, catalog, tmp_path / "2025-T1"),
                read_submission(path, catalog)):
        assert [f.code for f in sub.findings] == ["fel_period"]
    right = filled("barn_unga", "2025-T2", base_values(catalog, "barn_unga", T2),
                   name="barn_unga.xlsx", folder=tmp_path / "2025-T2")
    assert read_submission(right, catalog).findings == ()
