"""The command line: thin click commands over the library; only the cli modules print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_mail import mail
from .cli_status import status
from .cliutil import (
    HELP,
    Group,
    announce,
    catalog_option,
    fail,
    help_option,
    load,
    swedish,
)
from .errors import ConsolidateError, UsageError
from .svformat import count_text


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"consolidate, version {__version__}")
    try:
        catalog = load(None)
    except ConsolidateError as exc:
        fail(exc)
        return
    click.echo(f"Katalogens fingeravtryck: {catalog.fingerprint}")
    ctx.exit()


@click.group(cls=Group, context_settings=HELP, options_metavar="[FLAGGOR]",
             subcommand_metavar="KOMMANDO [ARG]...")
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_show_version,
              help="Visa versionen och katalogen som används här, och avsluta.")
@help_option
def cli() -> None:
    """Tertialuppföljning för socialnämnden.

    Skriver mallar till enheterna, kontrollerar ifyllda arbetsböcker, sammanställer
    dem till nämndens huvudarbetsbok och skickar den med e-post. En ny nämnd börjar
    med consolidate init MAPP.

    Katalogen: --katalog FIL, annars miljövariabeln CONSOLIDATE_KATALOG, annars katalog.toml
    i mappen som kommandot arbetar på eller en mapp ovanför, annars i den aktuella mappen
    eller ovanför, annars exempelkatalogen. Varje kommando skriver vilken katalog det använder.
    """


@cli.command(options_metavar="[FLAGGOR]")
@click.option("--period", required=True, metavar="PERIOD",
              help="Perioden, t.ex. 2025-T2 (även 'T2 2025').")
@click.option("--unit", "--enhet", "units", multiple=True, metavar="ID",
              help="Bara dessa enheter (kan upprepas).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, metavar="MAPP",
              help="Mappen som mallarna skrivs till.")
@click.option("--historik", "history_dir", type=click.Path(path_type=Path), metavar="MAPP",
              help="Den gemensamma mappen med tidigare inlämningar: varje mall visar enhetens "
                   "godkända värden förra tertialet och samma tertial i fjol bredvid "
                   "indikatorerna, och färgar ett värde som ändrats mer än katalogens "
                   "hopp_varning.")
@catalog_option
@help_option
def template(period: str, units: tuple[str, ...], out_dir: Path, history_dir: Path | None,
             catalog_path: Path | None) -> None:
    """Skriv en mall (.xlsx) per enhet för perioden."""
    from .periods import parse_period
    from .template import write_templates
    from .templatehistory import read_history

    try:
        catalog = load(catalog_path, out_dir, err=True)
        when = parse_period(period)
        history = read_history(history_dir, catalog, when, units) if history_dir else None
        written = write_templates(catalog, when, out_dir, units or None, history)
    except ConsolidateError as exc:
        fail(exc)
        return
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)} {'mall skriven' if len(written) == 1 else 'mallar skrivna'} "
               f"till {out_dir}.", err=True)
    if history is not None:
        click.echo(f"Tidigare värden ({when.previous}, {when.year - 1}-T{when.tertial}) från "
                   f"{history_dir}: {len(history)} av {len(written)} enheter.", err=True)


def _print_findings(findings: list[Any]) -> None:
    if not findings:
        return
    width = max(len(f.address) for f in findings)
    for f in findings:
        click.echo(f"  {f.severity.upper():8} {f.address.ljust(width)}  {f.message}")


@cli.command(options_metavar="[FLAGGOR]")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path),
                metavar="SÖKVÄG...")
@click.option("--json", "as_json", is_flag=True, help="Skriv rapporten som JSON.")
@click.option("--feedback", "--aterkoppling", "feedback_dir", type=click.Path(path_type=Path),
              metavar="MAPP",
              help="Skriv en återkopplingskopia av varje arbetsbok hit (originalen ändras aldrig).")
@catalog_option
@help_option
def check(paths: tuple[Path, ...], as_json: bool, feedback_dir: Path | None,
          catalog_path: Path | None) -> None:
    """Kontrollera ifyllda arbetsböcker (filer eller mappar).

    Slutkod 0 när inget fel finns, 1 när något fel finns, 2 vid felaktig användning eller när
    en återkopplingskopia inte kunde skrivas."""
    from .run import check_files, collect_paths

    try:
        if feedback_dir is not None:
            from .feedback import check_feedback_dir

            check_feedback_dir(feedback_dir)
        catalog = load(catalog_path, *paths, err=as_json)
        files, root = collect_paths(list(paths))
        if not files:  # nothing to check is a usage error (exit 2), not a clean bill
            raise UsageError("Inga arbetsböcker att kontrollera i "
                             f"{', '.join(str(p) for p in paths)}.")
        checked = check_files(files, catalog, root)
    except ConsolidateError as exc:
        fail(exc)
        return
    report = checked.report()
    written: list[Path] = []
    not_written: list[str] = []
    failed: list[str] = []
    if feedback_dir is not None:
        from .atomic import ReplaceError
        from .errors import os_reason
        from .feedback import write_feedback

        for sub in checked.submissions:
            if sub.readable:
                try:
                    out = write_feedback(Path(sub.path), checked.of(sub), feedback_dir,
                                         inputs=files, value_digest=sub.digest, catalog=catalog)
                except OSError as exc:  # the folder was checked; a disk can still fill, a copy be
                                        # open
                    failed.append(f"Fel: Återkopplingskopian för {sub.file} kunde inte skrivas i "
                                  f"mappen {feedback_dir} ({os_reason(exc, writing=True)}).")
                    continue
                except ReplaceError as exc:  # an earlier copy is open in Excel, or a folder is in
                                             # the way
                    failed.append(f"Fel: Återkopplingskopian för {sub.file} kunde inte skrivas i "
                                  f"mappen {feedback_dir}: {exc}")
                    continue
                if out is not None:
                    written.append(out)
                else:
                    not_written.append(sub.file)
    if as_json:
        click.echo(report.to_json())
    else:
        if checked.compared:
            click.echo("Jämförs med föregående tertial i samma mapp: "
                       + ", ".join(checked.compared), err=True)
        for sub, result in zip(checked.submissions, report.files, strict=True):
            state = "OK" if result.errors == 0 else "UNDERKÄND"
            who = f"{sub.unit} {sub.period}".strip() or "okänd enhet"
            click.echo(f"{state:9} {sub.file} ({who}): {count_text(result.errors, 'fel', 'fel')}, "
                       f"{count_text(result.warnings, 'varning', 'varningar')}")
            _print_findings(checked.of(sub))
        for out in written:
            click.echo(f"Återkoppling: {out}", err=True)
        for name in not_written:
            click.echo(f"Återkopplingskopian för {name} skrevs inte (filen kan inte öppnas, eller "
                       "kopian skulle hamna över en inlämnad fil).", err=True)
        click.echo(f"Totalt: {count_text(len(report.files), 'fil', 'filer')}, "
                   f"{count_text(report.errors, 'fel', 'fel')}, "
                   f"{count_text(report.warnings, 'varning', 'varningar')}.")
    for line in failed:
        click.echo(line, err=True)
    sys.exit(2 if failed else 0 if report.valid else 1)


@cli.command(options_metavar="[FLAGGOR]")
@click.argument("folder", type=click.Path(path_type=Path), metavar="MAPP")
@click.option("--period", metavar="PERIOD",
              help="Perioden som sammanställs (standard: den senaste i mappen).")
@click.option("--out", "out", type=click.Path(path_type=Path), metavar="FIL",
              help="Huvudarbetsboken (standard: MAPP/sammanställning_PERIOD.xlsx).")
@click.option("--json", "as_json", is_flag=True, help="Skriv rapporten som JSON.")
@click.option("--export", "export", type=click.Path(path_type=Path), metavar="MAPP",
              help="Skriv även data i långt format som Parquet och CSV hit.")
@click.option("--maskera", "mask", is_flag=True,
              help="Maskera små antal (röjandekontroll): antal under katalogens roj_grans visas "
                   "som \"<5\", och celler som skulle avslöja dem som \"..\", på alla flikar och i "
                   "exporten.")
@click.option("--jamforelse", "comparison", type=click.Path(path_type=Path), metavar="FIL",
              help="Visa Koladas värden för kommunen, Riket och liknande kommuner bredvid "
                   "nämndens: Koladas API-svar (JSON) eller en CSV-export från Kolada.")
@click.option("--hamta", "fetch", is_flag=True,
              help="Hämta jämförelsevärdena från Koladas API och spara svaret med datum i "
                   "MAPP/jamforelse/.")
@catalog_option
@help_option
def run(folder: Path, period: str | None, out: Path | None, as_json: bool, export: Path | None,
        mask: bool, comparison: Path | None, fetch: bool, catalog_path: Path | None) -> None:
    """Sammanställ alla inlämnade arbetsböcker i en mapp till nämndens huvudarbetsbok.

    Slutkod 0 när alla enheter lämnat giltiga filer, 1 när huvudarbetsboken skrevs men
    någon enhet saknas eller är underkänd, 2 när inget kunde skrivas."""
    from .run import run as run_job

    progress = None
    bar: Any = None
    if sys.stderr.isatty() and not as_json:
        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None and total >= 20:
                bar = click.progressbar(length=total, label="Läser arbetsböcker", file=sys.stderr)
                bar.__enter__()
            if bar is not None:
                bar.update(done - bar.pos)
                if done >= total:
                    bar.__exit__(None, None, None)
    try:
        catalog = load(catalog_path, folder, err=as_json)
        result = run_job(folder, catalog, period=period, out=out, mask=mask, export=export,
                         progress=progress, comparison=comparison, fetch=fetch)
    except ConsolidateError as exc:
        fail(exc)
        return
    if as_json:
        data = result.report.to_dict()
        data["huvudarbetsbok"] = str(result.master)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        from .cli_summary import run_summary

        run_summary(result)
    sys.exit(0 if result.complete else 1)


@cli.command(options_metavar="[FLAGGOR]")
@click.argument("folder", required=False, type=click.Path(path_type=Path), metavar="[MAPP]")
@click.option("--katalog", "catalog_path", type=click.Path(path_type=Path), default=None,
              metavar="FIL",
              help="Katalogen (standard: exempelkatalogen som följer med consolidate, som "
                   "exemplets siffror hör till).")
@help_option
def demo(folder: Path | None, catalog_path: Path | None) -> None:
    """Bygg en exempelmapp från seeds/, sammanställ den och visa var huvudarbetsboken ligger.

    Exemplet använder exempelkatalogen som följer med consolidate (eller --katalog)."""
    from .catalog_parse import load_catalog
    from .demo import build_demo_folder, demo_comparison, prepare_demo_folder, remember_demo_file
    from .run import run as run_job

    target = folder or Path("exempel")
    try:
        catalog = announce(load_catalog(catalog_path))
        prepare_demo_folder(target)  # removes only what an earlier example wrote
        files = build_demo_folder(catalog, target)
        click.echo(f"Exempelmapp: {target} ({count_text(len(files), 'arbetsbok', 'arbetsböcker')} "
                   f"i {count_text(len({f.parent for f in files}), 'period', 'perioder')}).")
        result = run_job(target, catalog, comparison=demo_comparison(target))
        if result.master is not None:
            remember_demo_file(target, result.master)
    except ConsolidateError as exc:
        fail(exc)
        return
    from .cli_summary import run_summary

    run_summary(result)


@cli.command(options_metavar="[FLAGGOR]")
@click.argument("folder", type=click.Path(path_type=Path), metavar="MAPP")
@help_option
def init(folder: Path) -> None:
    """Starta en nämnd: en egen katalog att redigera, en LÄSMIG och mapparna som run väntar sig.

    MAPP ska vara ny eller tom. Kommandon som sedan körs i mappen (eller på en mapp i den)
    använder dess katalog.toml."""
    from .starter import start_board

    try:
        written = start_board(folder)
    except ConsolidateError as exc:
        fail(exc)
        return
    catalog, readme, *folders = written
    click.echo(f"Katalog: {catalog} (en kopia av exempelkatalogen; redigera den först)")
    click.echo(f"Läs mig: {readme}")
    click.echo("Mappar: " + ", ".join(str(f) for f in folders))
    click.echo(f"Nästa steg: redigera katalogen, gå till mappen {folder} och följ {readme.name} "
               "(först: consolidate katalog).")


@cli.command(options_metavar="[FLAGGOR]")
@click.argument("path", required=False, type=click.Path(path_type=Path), metavar="[FIL]")
@help_option
def katalog(path: Path | None) -> None:
    """Kontrollera katalogen och visa vad den innehåller.

    Utan FIL: katalogen som kommandona använder här (CONSOLIDATE_KATALOG, annars katalog.toml i
    den aktuella mappen eller ovanför, annars exempelkatalogen)."""
    try:
        catalog = load(path)
    except ConsolidateError as exc:
        fail(exc)
        return
    click.echo(f"Katalogen är giltig (fingeravtryck {catalog.fingerprint}).")
    click.echo(f"{catalog.board.name}, {catalog.board.municipality}: "
               f"{count_text(len(catalog.units), 'enhet', 'enheter')}, "
               f"{count_text(len(catalog.indicators), 'indikator', 'indikatorer')}, "
               f"{count_text(len(catalog.tables), 'tabell', 'tabeller')}.")
    for unit in catalog.units:
        n = len([i for i in catalog.indicators if unit.id in i.units])
        click.echo(f"  {unit.id:18} {unit.name} ({count_text(n, 'indikator', 'indikatorer')}, "
                   f"{count_text(len(catalog.tables_for(unit.id)), 'tabell', 'tabeller')})")
    from .plan import catalog_warnings, describe

    for line in describe(catalog):
        click.echo(line)
    for warning in catalog_warnings(catalog):
        click.echo(f"Varning: {warning}", err=True)


# click 8.2 raises this for a group called without a command; older versions print the help.
class _NeverRaised(click.UsageError):
    pass


_NO_ARGS: type[click.UsageError] = getattr(click.exceptions, "NoArgsIsHelpError", _NeverRaised)


cli.add_command(mail)
cli.add_command(status)


def main() -> None:
    from .console import make_console_safe

    make_console_safe()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Avbrutet.", err=True)
        sys.exit(130)
    except _NO_ARGS as exc:  # `consolidate` alone: the help, not an error
        click.echo(exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:
        hint = f" Se '{exc.ctx.command_path} --help'." if exc.ctx is not None else ""
        click.echo(f"Fel: {swedish(exc.format_message())}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"Fel: {swedish(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except ConsolidateError as exc:
        click.echo(f"Fel: {exc}", err=True)
        sys.exit(2)
