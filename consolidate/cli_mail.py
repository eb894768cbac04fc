"""`consolidate mail`: the master to the board, feedback copies, templates or reminders to the
units, as .eml or by SMTP; every message logged."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .cliutil import Command, catalog_option, fail, help_option, load
from .errors import ConsolidateError, MailError, UsageError


@click.command(cls=Command, options_metavar="[FLAGGOR]")
@click.argument("master", required=False, type=click.Path(path_type=Path),
                metavar="[HUVUDARBETSBOK]")
@click.option("--to", "to", multiple=True, metavar="ADRESS",
              help="Mottagare (kan upprepas, eller kommaseparerat).")
@click.option("--cc", "cc", multiple=True, metavar="ADRESS", help="Kopia till (kan upprepas).")
@click.option("--from", "sender", metavar="ADRESS",
              help="Avsändare (standard: nämndens kontaktadress i katalogen).")
@click.option("--smtp", metavar="VÄRD[:PORT]",
              help="Skicka via denna e-postserver; utan den skrivs en .eml-fil i utkorgen.")
@click.option("--starttls", "security", flag_value="starttls",
              help="Kryptera med STARTTLS (port 587 som standard).")
@click.option("--ssl", "security", flag_value="ssl",
              help="Kryptera med SSL/TLS från början (port 465 som standard).")
@click.option("--user", metavar="NAMN", help="Användarnamn på servern; lösenordet läses från "
              "CONSOLIDATE_SMTP_PASSWORD eller frågas efter.")
@click.option("--timeout", default=30.0, metavar="SEKUNDER",
              help="Hur länge servern får dröja (standard: 30 sekunder).")
@click.option("--outbox", "--utkorg", "outbox", type=click.Path(path_type=Path), metavar="MAPP",
              help="Utkorgen för .eml-filer (standard: utkorg/ bredvid huvudarbetsboken, i den "
                   "delade mappen för --paminnelse, bredvid mappen för --mallar och --feedback).")
@click.option("--ofullstandig", "incomplete", is_flag=True,
              help="Skicka även en sammanställning där en enhet saknas eller är underkänd; ämne "
                   "och text säger vilka.")
@click.option("--force", is_flag=True, hidden=True, help="Det gamla namnet på --ofullstandig.")
@click.option("--maskera", "mask", is_flag=True,
              help="Skicka en maskerad version (görs från samma mapp om huvudarbetsboken inte "
                   "redan är maskerad).")
@click.option("--feedback", "--aterkoppling", "feedback_dir", type=click.Path(path_type=Path),
              metavar="MAPP",
              help="Skicka i stället återkopplingskopiorna i MAPP till varje enhets kontaktadress. "
                   "Med --paminnelse: mappen där kopiorna skrivs (standard: "
                   "aterkoppling/PERIOD bredvid den delade mappen).")
@click.option("--attach-all", "--bifoga-alla", "attach_all", is_flag=True,
              help="Med --feedback: bifoga kopian även till enheter utan fel och varningar (annars "
                   "får de ett kort kvitto utan bilaga).")
@click.option("--mallar", "templates", type=click.Path(path_type=Path), metavar="MAPP",
              help="Skicka i stället varje enhet dess mall ur MAPP, med sista dag för inlämning.")
@click.option("--paminnelse", "reminders", type=click.Path(path_type=Path), metavar="MAPP",
              help="Skicka i stället en påminnelse till varje enhet som saknas eller är underkänd "
                   "i den delade mappen MAPP; de underkända får en återkopplingskopia.")
@click.option("--period", metavar="PERIOD",
              help="Perioden för --mallar och --paminnelse (standard: den enda i mallmappen, "
                   "den senaste i den delade mappen).")
@catalog_option
@help_option
def mail(master: Path | None, to: tuple[str, ...], cc: tuple[str, ...], sender: str | None,
         smtp: str | None, security: str | None, user: str | None, timeout: float,
         outbox: Path | None, incomplete: bool, force: bool, mask: bool, feedback_dir: Path | None,
         templates: Path | None, reminders: Path | None, period: str | None, attach_all: bool,
         catalog_path: Path | None) -> None:
    """Skicka huvudarbetsboken, eller mallar, påminnelser och återkoppling till enheterna.

    Utan --smtp skrivs varje meddelande som en .eml-fil i utkorgen (öppnas i Outlook och
    Thunderbird med ett dubbelklick). Varje meddelande förs in i utskicksloggen. En
    sammanställning där en enhet saknas eller är underkänd skickas bara med --ofullstandig.
    Slutkod 0 när allt skickats eller skrivits."""
    from .delivery import FEEDBACK, MASTER, Batch, Outgoing
    from .maillog import log_path

    try:
        if attach_all and feedback_dir is None:
            raise UsageError("--bifoga-alla gäller återkopplingskopior: "
                             "ange också --feedback MAPP.")
        modes = [m for m in (master, templates, reminders) if m is not None]
        if len(modes) + (feedback_dir is not None and reminders is None) > 1:
            raise UsageError("Ange en sak att skicka: huvudarbetsboken, --feedback, --mallar "
                             "eller --paminnelse.")
        catalog = load(catalog_path, templates or reminders or feedback_dir or master)
        sender = sender or catalog.board.contact
        if reminders is not None:
            batch, box, home = _reminders(catalog, reminders, period, sender, feedback_dir)
        elif templates is not None:
            from .templatemail import build_template_messages

            batch = build_template_messages(templates, catalog, sender=sender, period=period)
            box, home = templates.parent / "utkorg", templates.parent
        elif feedback_dir is not None:
            from .feedbackmail import build_feedback_messages
            from .periods import find_period_in_text

            found = build_feedback_messages(feedback_dir,
                                            {u.id: (u.name, u.email) for u in catalog.units},
                                            sender=sender, attach_all=attach_all)
            batch = Batch(tuple(Outgoing(fm.message, FEEDBACK,
                                         str(find_period_in_text(fm.path.name) or ""), fm.unit_id)
                                for fm in found.messages), found.problems)
            box, home = feedback_dir.parent / "utkorg", feedback_dir.parent
        else:
            if master is None:  # usage errors: exit 2, as everywhere
                raise UsageError("Ange huvudarbetsboken som ska skickas (eller --feedback, "
                                 "--mallar eller --paminnelse MAPP).")
            if not to:
                raise UsageError("Ange minst en mottagare med --to.")
            message, summary = _master_message(catalog, master, to, cc, sender,
                                               incomplete or force, mask)
            batch = Batch((Outgoing(message, MASTER, summary.period),))
            source = Path(summary.source) if summary.source else None
            box = master.parent / "utkorg"
            home = source if source is not None and source.is_dir() else master.parent
        log = log_path(catalog, home)
        if batch.items:
            click.echo(f"Utskicksloggen: {log}")
        failures = _deliver(batch.items, smtp, security or "none", user, timeout, outbox or box,
                            log)
    except MailError as exc:
        click.echo(f"Fel: {exc}", err=True)
        sys.exit(1)
    except ConsolidateError as exc:
        fail(exc)
        return
    for problem in batch.problems:
        click.echo(f"Problem: {problem}", err=True)
    sys.exit(1 if failures or batch.problems else 0)


def _reminders(catalog: Any, folder: Path, period: str | None, sender: str,
               copies: Path | None) -> tuple[Any, Path, Path]:
    """Reminders for the shared folder; the feedback copies go to `copies`, else to
    aterkoppling/PERIOD beside the folder."""
    from .feedback import check_feedback_dir
    from .remind import build_reminders
    from .status import due_text, folder_status

    status = folder_status(folder, catalog, period)
    click.echo(f"Period {status.period} ({status.period.label}). "
               f"{due_text(status.due, status.today)}")
    lacking = status.lacking()
    if not lacking:
        click.echo(f"Alla enheter har lämnat giltiga filer för {status.period}; inga påminnelser.")
    copies = copies or folder.parent / "aterkoppling" / str(status.period)
    if any(e.file for e in lacking):
        check_feedback_dir(copies)
    batch = build_reminders(status, catalog, sender=sender, feedback_dir=copies)
    return batch, folder / "utkorg", folder


def _master_message(catalog: Any, master: Path, to: tuple[str, ...], cc: tuple[str, ...],
                    sender: str, incomplete: bool, mask: bool) -> tuple[Any, Any]:
    from .mail import build_master_message, parse_addresses
    from .mastermeta import read_master_summary

    summary = read_master_summary(master)
    if catalog.settings.mask_mail and not mask and not summary.masked:
        raise MailError("Katalogen kräver att sammanställningar som skickas är maskerade "
                        "(maskera_utskick = true under [installningar]), men "
                        f"{master.name} är inte maskerad. Skicka med --maskera.")
    if mask and not summary.masked:
        master = _masked_master(catalog, master, summary)
        summary = read_master_summary(master)
        if not summary.masked:  # never the unmasked figures by mistake
            raise MailError(f"{master.name} är inte maskerad; inget skickades.")
        click.echo(f"Maskerad version: {master}", err=True)
    message = build_master_message(master, summary, sender=sender, to=parse_addresses(to),
                                   cc=parse_addresses(cc), incomplete=incomplete,
                                   limit=catalog.settings.suppression_limit)
    return message, summary


def _masked_master(catalog: Any, master: Path, summary: Any) -> Path:
    """A masked master from the same folder and period as `master`, written beside it."""
    from .run import run as run_job

    source = Path(summary.source) if summary.source else None
    if source is None or not source.is_dir():
        raise MailError(f"Den maskerade versionen kan inte göras: mappen som {master.name} "
                        f"sammanställdes från ({summary.source or 'okänd'}) finns inte här. Kör "
                        "consolidate run MAPP --maskera och skicka den filen.")
    masked = master.with_name(f"{master.stem}_maskerad.xlsx")
    run_job(source, catalog, period=summary.period, out=masked, mask=True)
    return masked


def _deliver(items: Any, smtp: str | None, security: str, user: str | None, timeout: float,
             box: Path, log: Path) -> int:
    """Write to the outbox or send, logging each; returns how many were not fully accepted."""
    import dataclasses

    from .delivery import deliver
    from .smtp import PASSWORD_ENV, SmtpSettings, parse_smtp_host

    settings = None
    if smtp is not None:
        host, port = parse_smtp_host(smtp, security)
        settings = SmtpSettings(host, port, security, user, None, timeout)
        if settings.needs_password and items:
            password = (os.environ.get(PASSWORD_ENV)
                        or click.prompt("Lösenord", hide_input=True, err=True))
            settings = dataclasses.replace(settings, password=password)

    def show(outcome: Any) -> None:
        if outcome.text:
            click.echo(outcome.text, err=not outcome.ok and outcome.text.startswith("Fel:"))

    outcomes = deliver(items, outbox=box, settings=settings, log=log, report=show)
    return sum(1 for o in outcomes if not o.ok)
