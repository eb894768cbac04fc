"""`consolidate status`: who has handed in for the period, without writing a master."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .cliutil import Command, catalog_option, fail, help_option, load
from .errors import ConsolidateError
from .model import UnitState
from .svformat import count_text

_LABELS = {UnitState.DELIVERED: "levererad", UnitState.REJECTED: "underkänd",
           UnitState.MISSING: "saknas", UnitState.DUPLICATE: "dubblett"}


@click.command(cls=Command, options_metavar="[FLAGGOR]")
@click.argument("folder", type=click.Path(path_type=Path), metavar="MAPP")
@click.option("--period", metavar="PERIOD",
              help="Perioden (standard: den senaste i mappen, som för run).")
@click.option("--json", "as_json", is_flag=True, help="Skriv läget som JSON.")
@catalog_option
@help_option
def status(folder: Path, period: str | None, as_json: bool, catalog_path: Path | None) -> None:
    """Visa vilka enheter som har lämnat in för perioden, utan att skriva en sammanställning.

    Levererade, underkända (med första felet), saknade, filer som inte är någon enhets inlämning
    och dagarna kvar till sista dag. Läser bara periodens filer (och föregående tertials, som
    varningarna jämför med). Slutkod 0 när alla enheter lämnat giltiga filer, 1 när någon enhet
    saknas eller är underkänd, 2 vid felaktig användning."""
    from .status import folder_status

    try:
        catalog = load(catalog_path, folder, err=as_json)
        result = folder_status(folder, catalog, period)
    except ConsolidateError as exc:
        fail(exc)
        return
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _show(result, len(catalog.units_in(result.period)))
    sys.exit(0 if result.complete else 1)


def _show(result: Any, expected: int) -> None:
    from .status import due_text

    click.echo(f"Period {result.period} ({result.period.label}). "
               f"{due_text(result.due, result.today)}")
    units = [e for e in result.register if e.unit]
    strays = [e for e in result.register if not e.unit]
    count = {state: len({e.unit for e in units if e.state == state}) for state in UnitState}
    click.echo(f"Levererade: {count[UnitState.DELIVERED]} av "
               f"{count_text(expected, 'enhet', 'enheter')}  "
               f"saknas: {count[UnitState.MISSING]}  underkända: {count[UnitState.REJECTED]}  "
               f"dubbletter: {count[UnitState.DUPLICATE]}")
    order = (UnitState.MISSING, UnitState.REJECTED, UnitState.DELIVERED, UnitState.DUPLICATE)
    for entry in sorted(units, key=lambda e: order.index(e.state)):
        label = f"  {_LABELS.get(entry.state, str(entry.state)) + ':':11} "
        if entry.state == UnitState.MISSING:
            click.echo(f"{label}{entry.unit_name}")
        elif entry.state == UnitState.DUPLICATE:
            click.echo(f"{label}{entry.unit_name}: {entry.file} – {entry.note}")
        else:
            line = (f"{label}{entry.unit_name}: {entry.file} ({entry.modified}; "
                    f"{count_text(entry.errors, 'fel', 'fel')}, "
                    f"{count_text(entry.warnings, 'varning', 'varningar')})")
            first = result.first_error(entry)
            if first is not None:
                where = f"{first.address}: " if first.address else ""
                line += f"\n{'':14}första felet: {where}{first.message}"
            click.echo(line)
    if strays:
        click.echo(f"Filer som inte är någon enhets inlämning: {len(strays)}")
        for entry in strays:
            click.echo(f"  {entry.file}: {entry.note}")
    from .doubt import doubt_lines

    lines = doubt_lines(result.doubts)
    if lines:
        click.echo(f"Värden att kontrollera: {len(lines)} (de kommer att markeras i "
                   "sammanställningen om inte enheten förklarar dem i kommentaren)")
        for line in lines:
            click.echo(f"  {line}")
