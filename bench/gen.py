"""Bench data: a catalog with N generated units and N filled workbooks, made with the project's own
code.

Model: a regional or national follow-up with thousands of units. The bench catalog is
schemas/katalog.toml plus N units e0001..eN; unit i reports exactly what real unit
REAL[(i - 1) % 6] reports (it is appended to the same `enheter` lists), so its template has the
same cells. Per real unit, a few distinct value sets are typed into a template with openpyxl
(consolidate.demo.fill_workbook, from consolidate.demo.unit_values scaled ±30 % per cell with
sums, SUMMA and shares kept consistent); error variants carry one typical mistake. The N files
are copies of those filled workbooks, patched at the zip level so that the hidden _meta sheet
(and the unit name in sheet titles) names the right unit.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import consolidate
from consolidate.catalog import Catalog
from consolidate.catalog_parse import load_catalog
from consolidate.demo import fill_workbook, load_seeds, unit_values
from consolidate.layout import META_SHEET, build_layout
from consolidate.periods import Period
from consolidate.template import template_filename, write_template

GENERATOR_VERSION = 3
PERIOD = Period(2025, 2)
SEED = 20250831
ERROR_SHARE = 0.04          # share of files with one entry mistake
CLEAN_VARIANTS = 10         # distinct clean value sets per real unit (typed with openpyxl)
PACKAGE = Path(consolidate.__file__).resolve().parent
REAL_CATALOG = PACKAGE.parent / "schemas" / "katalog.toml"


@dataclass(frozen=True)
class BenchSet:
    n: int
    root: Path
    catalog_path: Path
    folder: Path           # the shared folder with the N workbooks
    manifest: dict[str, Any]

    @property
    def error_files(self) -> int:
        return sum(1 for f in self.manifest["files"] if f["error"])


def unit_id(i: int, n: int) -> str:
    return f"e{i:0{max(4, len(str(n)))}d}"


def unit_name(i: int, n: int) -> str:
    return f"Enhet {i:0{max(4, len(str(n)))}d}"


# --- catalog -------------------------------------------------------------------------------------

def bench_catalog_text(n: int) -> str:
    """schemas/katalog.toml with N generated units, each added to the lists of its real twin."""
    text = REAL_CATALOG.read_text(encoding="utf-8")
    real = [u["id"] for u in tomllib.loads(text)["enhet"]]
    twins: dict[str, list[str]] = {u: [] for u in real}
    for i in range(1, n + 1):
        twins[real[(i - 1) % len(real)]].append(unit_id(i, n))
    lines = text.splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("enheter = ["):
            listed = tomllib.loads(line)["enheter"]
            extra = [g for u in listed for g in twins[u]]
            line = "enheter = " + json.dumps(listed + extra, ensure_ascii=False)
        out.append(line)
    # new [[enhet]] entries go right after the last real one (before the first indicator section)
    first = next(k for k, line in enumerate(out)
                 if line.startswith(("[[indikator]]", "[[tabell]]")))
    while first > 0 and (out[first - 1].startswith("#") or not out[first - 1].strip()):
        first -= 1
    units = []
    for i in range(1, n + 1):
        units += ["", "[[enhet]]", f'id = "{unit_id(i, n)}"', f'namn = "{unit_name(i, n)}"',
                  f'epost = "{unit_id(i, n)}@bench.exempelkommun.se"']
    return "\n".join(out[:first] + units + out[first:]) + "\n"


# --- values --------------------------------------------------------------------------------------

def varied(values: dict[str, Any], catalog: Catalog, unit: str,
           rng: random.Random) -> dict[str, Any]:
    """Every count scaled by a random factor in [0,7; 1,3]; sums, SUMMA, shares and varav stay
    right."""
    out = dict(values)
    layout = build_layout(catalog, unit, PERIOD)

    def f() -> float:
        return rng.uniform(0.7, 1.3)

    for ind in layout.indicators:
        if ind.is_share:
            num, den = values[f"ind_{ind.id}_taljare"], values[f"ind_{ind.id}_namnare"]
            scale = f()
            new_den = max(1, round(den * scale))
            out[f"ind_{ind.id}_namnare"] = new_den
            out[f"ind_{ind.id}_taljare"] = min(new_den, round(num * scale * rng.uniform(0.9, 1.1)))
        else:
            key = f"ind_{ind.id}_varde"
            new = values[key] * f()
            out[key] = round(new) if ind.is_whole else round(new, 1)
    for block in layout.tables:
        t = block.table
        key = f"tab_{t.id}_{{}}_{{}}".format
        if t.kind == "fordelning":
            counts = {r.id: round(values[key(r.id, "antal")] * f()) for r in t.rows}
            total = sum(counts.values())
            for rid, count in counts.items():
                out[key(rid, "antal")] = count
                if t.with_share:
                    out[key(rid, "andel")] = round(100 * count / total, 1) / 100 if total else 0.0
            out[key("summa", "antal")] = total
            if t.with_share:
                out[key("summa", "andel")] = 1.0
        elif t.kind == "enkat":
            out[key("svar", "antal")] = max(1, round(values[key("svar", "antal")] * f()))
            for r in t.rows:
                share = values[key(r.id, "andel")] + rng.uniform(-0.05, 0.05)
                out[key(r.id, "andel")] = round(min(1.0, max(0.0, share)), 2)
        elif t.kind == "manad":
            for cell in block.cells:
                if cell.name in values:
                    out[cell.name] = round(values[cell.name] * f())
        elif t.kind == "varav":
            total_key = key("total", "antal")
            if total_key not in values:
                continue
            parts = {r.id: round(values[key(r.id, "antal")] * f()) for r in t.rows
                     if key(r.id, "antal") in values}
            for rid, count in parts.items():
                out[key(rid, "antal")] = count
            if t.complete:
                out[total_key] = sum(parts.values())
            else:
                out[total_key] = max([round(values[total_key] * f())] + list(parts.values()))
    return out


def with_error(values: dict[str, Any], catalog: Catalog, unit: str, kind: str,
               rng: random.Random) -> dict[str, Any]:
    """One typical entry mistake that `consolidate check` reports as fel."""
    out = dict(values)
    layout = build_layout(catalog, unit, PERIOD)
    months = [c.name for b in layout.tables if b.table.kind == "manad" for c in b.cells
              if c.name in values]
    counts = [f"ind_{i.id}_varde" for i in layout.indicators if i.kind == "antal"] or months
    if kind == "andel":  # a share off by 3 percentage points
        shares = [c.name for b in layout.tables if b.table.with_share for c in b.cells
                  if c.field == "andel" and c.item != "summa"]
        name = rng.choice(shares)
        out[name] = round(out[name] + 0.03, 3)
    elif kind == "summa":  # SUMMA (total of a complete varav table) does not match the parts
        t = next(b.table for b in layout.tables if b.table.kind == "varav" and b.table.complete)
        out[f"tab_{t.id}_total_antal"] = out[f"tab_{t.id}_total_antal"] + 2
    elif kind == "text":  # a word in a count cell
        out[rng.choice(counts)] = "ca 40"
    elif kind == "negativ":  # a negative count
        name = rng.choice(months)
        out[name] = -(abs(out[name]) + 3)
    else:
        raise ValueError(kind)
    return out


def error_kinds(catalog: Catalog, unit: str) -> list[str]:
    has_share = any(b.table.with_share for b in build_layout(catalog, unit, PERIOD).tables)
    return ["andel" if has_share else "summa", "text", "negativ"]


# --- files ---------------------------------------------------------------------------------------

def _meta_part(data: bytes) -> str:
    """The zip part of the _meta sheet, found through workbook.xml and its relationships."""
    import re

    with zipfile.ZipFile(_bytes_io(data)) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{META_SHEET}"[^>]*r:id="([^"]+)"', wb)
    if rid is None:
        rid = re.search(rf'<sheet [^>]*r:id="([^"]+)"[^>]*name="{META_SHEET}"', wb)
    assert rid, "no _meta sheet"
    rel = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*/>', rels)
    assert rel
    target = re.search(r'Target="([^"]+)"', rel.group(0))
    assert target
    t = target.group(1)
    return t.lstrip("/") if t.startswith("/") else f"xl/{t}"


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


class _Variant:
    """A filled workbook held in memory, copied out for other units with the unit patched in."""

    def __init__(self, path: Path, proto_id: str, proto_name: str) -> None:
        data = path.read_bytes()
        self.meta = _meta_part(data)
        self.proto_id = proto_id.encode()
        self.proto_name = proto_name.encode()
        with zipfile.ZipFile(_bytes_io(data)) as z:
            self.members = [(info, z.read(info.filename)) for info in z.infolist()]
        meta_xml = dict((i.filename, d) for i, d in self.members)[self.meta]
        assert meta_xml.count(b"<t>" + self.proto_id + b"</t>") == 1, \
            "unit id not found once in _meta"

    def write(self, out: Path, uid: str, name: str) -> None:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in self.members:
                if info.filename == self.meta:
                    data = data.replace(b"<t>" + self.proto_id + b"</t>",
                                        b"<t>" + uid.encode() + b"</t>")
                if data.find(self.proto_name) >= 0:
                    data = data.replace(self.proto_name, name.encode())
                z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)


def _stamp(n: int) -> str:
    h = hashlib.sha256()
    h.update(f"{GENERATOR_VERSION} {n} {SEED} {ERROR_SHARE} {CLEAN_VARIANTS}".encode())
    for module in ("template.py", "layout.py", "demo.py", "catalog.py"):
        h.update((PACKAGE / module).read_bytes())
    h.update(REAL_CATALOG.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def generate(n: int, workdir: Path, log: Any = print) -> BenchSet:
    """The bench set for N, from the cache in workdir/nN when it is current."""
    if n < 6:
        raise ValueError("N must be at least 6 (one file per real unit twin)")
    root = workdir / f"n{n}"
    stamp = _stamp(n)
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("stamp") == stamp and len(list((root / "inlamning").glob("*.xlsx"))) == n:
            log(f"N={n}: using cached files in {root}")
            return BenchSet(n, root, root / "katalog.toml", root / "inlamning", manifest)
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    (root / "mallar").mkdir(parents=True)
    (root / "varianter").mkdir()
    folder = root / "inlamning"
    folder.mkdir()
    catalog_path = root / "katalog.toml"
    catalog_path.write_text(bench_catalog_text(n), encoding="utf-8")
    catalog = load_catalog(catalog_path)
    real_catalog = load_catalog(REAL_CATALOG)
    seeds = load_seeds()
    rng = random.Random(SEED)
    real = [u.id for u in real_catalog.units]

    variants: dict[str, list[_Variant]] = {}
    error_variants: dict[str, list[tuple[str, _Variant]]] = {}
    clean_count = min(CLEAN_VARIANTS, math.ceil(n / len(real)))
    for k, twin in enumerate(real, start=1):
        proto = unit_id(k, n)                      # unit k is the first twin of real unit k
        assert [i.id for i in catalog.indicators_for(proto, PERIOD)] == [
            i.id for i in real_catalog.indicators_for(twin, PERIOD)]
        assert [t.id for t in catalog.tables_for(proto, PERIOD)] == [
            t.id for t in real_catalog.tables_for(twin, PERIOD)]
        template = write_template(catalog, proto, PERIOD,
                                  root / "mallar" / template_filename(catalog, proto, PERIOD))
        base = unit_values(real_catalog, seeds, twin, PERIOD)
        names = {c.name for c in build_layout(catalog, proto, PERIOD).cells}
        assert set(base) <= names, set(base) - names
        variants[twin] = []
        for v in range(clean_count):
            path = fill_workbook(template, varied(base, catalog, proto, rng),
                                 root / "varianter" / f"{twin}_{v:02d}.xlsx")
            variants[twin].append(_Variant(path, proto, unit_name(k, n)))
        error_variants[twin] = []
        for kind in error_kinds(catalog, proto):
            values = with_error(varied(base, catalog, proto, rng), catalog, proto, kind, rng)
            path = fill_workbook(template, values, root / "varianter" / f"{twin}_fel_{kind}.xlsx")
            error_variants[twin].append((kind, _Variant(path, proto, unit_name(k, n))))
    filled = time.perf_counter() - started

    with_errors = set(rng.sample(range(1, n + 1), max(1, round(n * ERROR_SHARE))))
    files = []
    for i in range(1, n + 1):
        twin = real[(i - 1) % len(real)]
        uid = unit_id(i, n)
        out = folder / template_filename(catalog, uid, PERIOD)
        if i in with_errors:
            kind, variant = error_variants[twin][len(files) % len(error_variants[twin])]
        else:
            kind, variant = "", variants[twin][rng.randrange(len(variants[twin]))]
        variant.write(out, uid, unit_name(i, n))
        files.append({"file": out.name, "unit": uid, "twin": twin, "error": kind})
    manifest = {"stamp": stamp, "n": n, "period": str(PERIOD), "files": files,
                "fill_seconds": round(filled, 2),
                "total_seconds": round(time.perf_counter() - started, 2)}
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    log(f"N={n}: generated {n} workbooks in {manifest['total_seconds']} s "
        f"({6 * (clean_count + 3)} typed with openpyxl in {manifest['fill_seconds']} s, the rest "
        "patched copies)")
    return BenchSet(n, root, catalog_path, folder, manifest)
