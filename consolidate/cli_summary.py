"""`consolidate run`'s few lines on the terminal: units by state, stray files, what the board
lacks, comparisons, values to check, findings and where the master is."""

from __future__ import annotations

from typing import Any

import click

from .model import UnitState
from .svformat import count_text, lacking_phrase


def run_summary(result: Any) -> None:
    """The run in a few lines: units by state (a rejected unit is underkänd, not missing), files
    that are no unit's, what the board figures lack, the findings and where the master is."""
    units = [e for e in result.register if e.unit]
    strays = [e for e in result.register if not e.unit]
    by = {state: [e for e in units if e.state == state] for state in UnitState}
    found = ", ".join(str(p) for p in result.found) or "inga"
    if result.period in result.found:
        click.echo(f"Period {result.period} ({result.period.label}); perioder i mappen: {found}")
    else:
        click.echo(f"Period {result.period} ({result.period.label}): ingen fil i mappen gäller "
                   f"perioden, så alla enheter saknas. Perioder som filerna gäller: {found}.")
    click.echo(f"Levererade: {len(by[UnitState.DELIVERED])}  saknas: {len(by[UnitState.MISSING])}  "
               f"underkända: {len(by[UnitState.REJECTED])}  "
               f"dubbletter: {len(by[UnitState.DUPLICATE])}")
    for entry in by[UnitState.MISSING]:
        click.echo(f"  saknas:     {entry.unit_name}")
    for entry in by[UnitState.REJECTED]:
        click.echo(f"  underkänd:  {entry.unit_name} "
                   f"({entry.file}: {count_text(entry.errors, 'fel', 'fel')})")
    for entry in by[UnitState.DUPLICATE]:
        click.echo(f"  dubblett:   {entry.file} – {entry.note}")
    if strays:
        click.echo(f"Filer som inte är någon enhets inlämning: {len(strays)}")
        for entry in strays:
            click.echo(f"  {entry.file}: {entry.note}")
    board = result.board
    if board is not None:
        partial = [row for row in board.rows if row.current.partial]
        if partial:
            missing = {u for row in partial for u in row.current.missing}
            rejected = {u for row in partial for u in row.current.rejected}
            units = board.catalog.units
            lacking = lacking_phrase([u.name for u in units if u.id in missing],
                                     [u.name for u in units if u.id in rejected])
            click.echo("Ofullständigt underlag: "
                       f"{count_text(len(partial), 'indikator', 'indikatorer')} ({lacking}).")
    if board is not None:
        from .compare import summary_lines

        for line in summary_lines(board):
            click.echo(line)
    from .doubt import doubt_summary

    for line in doubt_summary(result.doubts):
        click.echo(line)
    click.echo(f"Fynd: {result.report.errors} fel, "
               f"{count_text(result.report.warnings, 'varning', 'varningar')} "
               "(se fliken Valideringslogg).")
    click.echo(f"Huvudarbetsbok: {result.master}")
