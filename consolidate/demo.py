"""The example shared folder: templates filled from the seed figures, as unit heads would."""

from __future__ import annotations

import re
import shutil
import tomllib
import zipfile
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .atomic import write_atomically
from .catalog import Catalog, Indicator
from .errors import UsageError
from .layout import build_layout
from .periods import MONTHS, Period
from .template import template_filename, write_template

# Package data, mapped from the repository's seeds/ (see pyproject.toml).
DEFAULT_SEEDS: Traversable = files("consolidate.seeds").joinpath("figurer.toml")
# Constructed values in Kolada's JSON form, marked as example data, for the comparison columns.
DEMO_COMPARISON: Traversable = files("consolidate.seeds").joinpath("jamforelse_exempel.json")

# Which year of the unit-level seed tables stands in for which demo period. 2026-T1 comes after the
# catalog's plan change (a new and a retired indicator, a new börläge, Myren merged into barn_unga).
DEMO_PERIODS = {"2023-T3": ("2009", "2018"), "2025-T1": ("2010", "2019"),
                "2025-T2": ("2011", "2019"), "2025-T3": ("2011", "2019"),
                "2026-T1": ("2011", "2019")}
# Share of the way from the base (the 2023 outcome, or the nuläge of an indicator new in the plan)
# to the börläge of the period's year, reached in each constructed period.
PROGRESS = {"2023-T3": 0.0, "2025-T1": 0.4, "2025-T2": 0.6, "2025-T3": 0.8, "2026-T1": 0.9}
MISSING_UNIT = ("2026-T1", "socialpsykiatri")
FAULTY_UNIT = ("2026-T1", "vuxen")
# Comments unit heads write to the board, shown beside the figures in the master.
DEMO_COMMENTS = {
    ("2025-T2", "myren"): {
        "ind_belaggning_myren_kommentar": "Två platser var stängda i juni för renovering."},
    ("2026-T1", "forebyggande"): {
        "ind_forebyggande_insatser_kommentar":
            "Fler familjer nås via familjecentralens öppna förskola."},
    ("2026-T1", "barn_unga"): {
        "ind_belaggning_myren_kommentar":
            "Myren ingår i sektionen sedan januari; beläggningen redovisas här."},
}
# Lists every file the example wrote: a later `consolidate demo` removes those and nothing else.
DEMO_MARKER = ".consolidate-demo"
_MARKER_HEAD = ("# Exempelmapp från consolidate demo. Filerna nedan skrevs av exemplet och tas "
                "bort när det byggs om.\n")


def load_seeds(path: Path | None = None) -> dict[str, Any]:
    source: Path | Traversable = path or DEFAULT_SEEDS
    return tomllib.loads(source.read_bytes().decode("utf-8"))


def fill_workbook(template: Path, values: dict[str, Any], out: Path) -> Path:
    """Type values into the named cells with openpyxl, as a person filling the template would."""
    import openpyxl

    wb = openpyxl.load_workbook(template)
    for name, value in values.items():
        defined = wb.defined_names[name]
        for sheet, ref in defined.destinations:
            wb[sheet][ref.replace("$", "")].value = value
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    _fix_stamps(out)
    return out


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def _fix_stamps(path: Path) -> None:
    """openpyxl stamps the save time into the zip and docProps/core.xml; fix both so the same
    figures give the same bytes (the example workbooks in seeds/ are checked for staleness)."""
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]

    def rewrite(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for name, data in parts:
                if name == "docProps/core.xml":
                    data = _STAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                target.writestr(info, data)

    write_atomically(path, rewrite)


def indicator_values(catalog: Catalog, seeds: dict[str, Any], unit: str,
                     period: Period) -> dict[str, Any]:
    """The named-cell values of the indicator sheet for one unit and period."""
    share = PROGRESS.get(str(period), 0.5)
    values: dict[str, Any] = {}
    for ind in catalog.indicators_for(unit, period):
        parts = _base(seeds, ind)
        # After a merge the unit that took over reports what the merged unit did.
        mine = [v for u, v in parts.items() if catalog.reporter(u, period) == unit]
        factor = _factor(ind, parts, share, period)
        if ind.is_share:
            num, den = sum(v[0] for v in mine), sum(v[1] for v in mine)
            values[f"ind_{ind.id}_taljare"] = round(num * factor)
            values[f"ind_{ind.id}_namnare"] = den
        else:
            new = sum(mine) * factor
            values[f"ind_{ind.id}_varde"] = round(new) if ind.is_whole else round(new, 1)
    return values


def _base(seeds: dict[str, Any], ind: Indicator) -> dict[str, Any]:
    """Per unit: the 2023 outcome of the seed report, or the nuläge of an indicator new in a later
    plan; for an indicator the seeds do not know (a catalog of one's own), its nuläge shared
    evenly."""
    found = seeds["utfall_2023"].get(ind.id) or seeds.get("nulage_2026", {}).get(ind.id)
    if found is not None:
        return dict(found)
    if ind.is_share:
        return {u: [round(ind.baseline * 1000), 1000] for u in ind.units}
    share = ind.baseline / len(ind.units)
    return {u: round(share) if ind.is_whole else share for u in ind.units}


def _factor(ind: Indicator, parts: dict[str, Any], share: float, period: Period) -> float:
    """Scale of each unit's base value so the board total moves `share` of the way to the börläge
    of the period's year."""
    total = _board_total(ind, parts)
    target = ind.target_in(period.year)[1]
    sign = 1.0 if ind.direction == "ökning" else -1.0
    if target is None or (total - target) * sign >= 0:
        # No numeric target, or already past it: keep moving a little in the wanted direction.
        goal = total * (1.0 + 0.03 * sign)
    else:
        goal = target
    new_total = total + share * (goal - total)
    return new_total / total if total else 1.0


def _board_total(ind: Indicator, parts: dict[str, Any]) -> float:
    if ind.is_share:
        return float(sum(p[0] for p in parts.values())) / float(sum(p[1] for p in parts.values()))
    return float(sum(parts.values()))


def table_values(catalog: Catalog, seeds: dict[str, Any], unit: str,
                 period: Period) -> dict[str, Any]:
    """Unit tables: the real 001/002 figures for the first unit that reports them, small ones
    elsewhere."""
    year, month_year = DEMO_PERIODS.get(str(period), ("2011", "2019"))
    layout = build_layout(catalog, unit, period)
    values: dict[str, Any] = {}
    for block in layout.tables:
        table = block.table
        real = unit == table.units[0] or (table.kind in ("manad", "varav") and unit == "barn_unga")
        scale = 1.0 if real else 0.2 + 0.1 * catalog.unit_ids().index(unit)
        if table.id == "arenden_per_kalla":
            data = seeds["arenden_per_kalla"][year]
            for row, count, pct in zip(table.rows, data["antal"], data["andel"], strict=True):
                values[f"tab_{table.id}_{row.id}_antal"] = count
                values[f"tab_{table.id}_{row.id}_andel"] = pct / 100
            values[f"tab_{table.id}_summa_antal"] = data["summa"]
            values[f"tab_{table.id}_summa_andel"] = 1.0
        elif table.id == "service_myndighet":
            data = seeds["service_myndighet"][year]
            for row in table.rows:
                values[f"tab_{table.id}_{row.id}_antal"] = data[row.id]
            values[f"tab_{table.id}_summa_antal"] = sum(data[row.id] for row in table.rows)
        elif table.id == "inledda_utredningar":
            data = seeds["service_myndighet"][year]
            values[f"tab_{table.id}_total_antal"] = data["service"] + data["myndighetsutovning"]
            values[f"tab_{table.id}_{table.rows[0].id}_antal"] = seeds["inledda_utredningar"][year]
        elif table.kind == "enkat":
            data = seeds[table.id][year]
            for row, pct in zip(table.rows, data["andel"], strict=True):
                values[f"tab_{table.id}_{row.id}_andel"] = pct / 100
            values[f"tab_{table.id}_svar_antal"] = data["svar"]
        elif table.kind == "manad":
            series = seeds["avslutade_per_manad"][month_year]
            for row in table.rows:
                for index, month in enumerate(MONTHS[: period.last_month]):
                    count = series[index] if index < len(series) else series[index % len(series)]
                    values[f"tab_{table.id}_{row.id}_{month}"] = (count if real
                                                                  else round(count * scale))
        elif table.kind == "varav":
            data = seeds[table.id]
            if table.id == "inledda_utredningar":
                continue
            values[f"tab_{table.id}_total_antal"] = data["total"] if real else 0
            for row in table.rows:
                values[f"tab_{table.id}_{row.id}_antal"] = data[row.id] if real else 0
            if not real:
                values[f"tab_{table.id}_total_antal"] = 1
                values[f"tab_{table.id}_{table.rows[-1].id}_antal"] = 1
    return values


def unit_values(catalog: Catalog, seeds: dict[str, Any], unit: str,
                period: Period) -> dict[str, Any]:
    return {**indicator_values(catalog, seeds, unit, period),
            **table_values(catalog, seeds, unit, period)}


def prepare_demo_folder(folder: Path) -> None:
    """Make room for the example: a new or empty folder, or one an earlier example wrote, from which
    only the files its marker lists are removed. A folder with anyone else's files is refused."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} är en fil; ange en mapp för exemplet.")
    if not folder.exists() or not any(folder.iterdir()):
        return
    marker = folder / DEMO_MARKER
    if not marker.is_file():
        raise UsageError(f"Mappen {folder} innehåller redan filer och är ingen exempelmapp; "
                         "exemplet byggs bara i en ny eller tom mapp. Ange en annan mapp, t.ex. "
                         "exempel.")
    base = folder.resolve()
    for line in marker.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        path = folder / line
        try:
            inside = path.resolve().is_relative_to(base)
        except (OSError, RuntimeError):
            continue
        if inside and path.suffix.lower() == ".xlsx" and path.is_file() and not path.is_symlink():
            path.unlink()


def remember_demo_file(folder: Path, path: Path) -> None:
    """Add a file the example wrote to the folder's marker."""
    try:
        relative = path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return  # not inside the folder: never listed, so never removed
    with open(folder / DEMO_MARKER, "a", encoding="utf-8") as marker:
        marker.write(relative.as_posix() + "\n")


def build_demo_folder(catalog: Catalog, folder: Path,
                      seeds: dict[str, Any] | None = None) -> list[Path]:
    """Shared folder with five periods, the last after a plan change, one unit missing and one file
    with entry mistakes in it."""
    seeds = seeds or load_seeds()
    written: list[Path] = []
    scratch = folder / ".mallar"
    scratch.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text(_MARKER_HEAD, encoding="utf-8")
    try:
        for period_text in DEMO_PERIODS:
            period = Period(int(period_text[:4]), int(period_text[-1]))
            for unit in (u.id for u in catalog.units_in(period)):
                if (period_text, unit) == MISSING_UNIT:
                    continue
                template = write_template(catalog, unit, period,
                                          scratch / template_filename(catalog, unit, period))
                values = {**unit_values(catalog, seeds, unit, period),
                          **DEMO_COMMENTS.get((period_text, unit), {})}
                if (period_text, unit) == FAULTY_UNIT:
                    values = _with_mistakes(values)
                out = folder / period_text / f"{period_text}_{unit}.xlsx"
                written.append(fill_workbook(template, values, out))
                remember_demo_file(folder, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written


def demo_comparison(folder: Path) -> Path:
    """The example's comparison file, put where --hamta keeps Kolada's answers."""
    target = folder / "jamforelse" / "kolada_exempeldata.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = DEMO_COMPARISON.read_bytes()
    write_atomically(target, lambda tmp: tmp.write_bytes(data))
    return target


def _with_mistakes(values: dict[str, Any]) -> dict[str, Any]:
    """Typical entry mistakes: a count typed as text with a word, a dot as thousands separator."""
    changed = dict(values)
    changed["ind_icke_bistandsbedomda_varde"] = "ca 60"
    changed["ind_andel_vuxna_utredning_namnare"] = "30.000"
    changed["ind_kostnad_externa_placeringar_kommentar"] = "-2 placeringar avslutade, se bilaga"
    return changed
