"""`consolidate mail`: the master to the board, or feedback copies to the units, as .eml or by
SMTP."""

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
              help="Utkorgen för .eml-filer (standard: utkorg/ bredvid huvudarbetsboken).")
@click.option("--force", is_flag=True,
              help="Skicka även en sammanställning med fel; meddelandet säger det.")
@click.option("--maskera", "mask", is_flag=True,
              help="Skicka en maskerad version (görs från samma mapp om huvudarbetsboken inte "
                   "redan är maskerad).")
@click.option("--feedback", "--aterkoppling", "feedback_dir", type=click.Path(path_type=Path),
              metavar="MAPP",
              help="Skicka i stället återkopplingskopiorna i MAPP till varje enhets kontaktadress.")
@click.option("--attach-all", "--bifoga-alla", "attach_all", is_flag=True,
              help="Med --feedback: bifoga kopian även till enheter utan fel och varningar (annars "
                   "får de ett kort kvitto utan bilaga).")
@catalog_option
@help_option
def mail(master: Path | None, to: tuple[str, ...], cc: tuple[str, ...], sender: str | None,
         smtp: str | None, security: str | None, user: str | None, timeout: float,
         outbox: Path | None, force: bool, mask: bool, feedback_dir: Path | None,
         attach_all: bool, catalog_path: Path | None) -> None:
    """Skicka huvudarbetsboken med e-post, eller återkoppling till enheterna.

    Utan --smtp skrivs meddelandet som en .eml-fil i utkorgen (öppnas i Outlook och
    Thunderbird med ett dubbelklick). Slutkod 0 när allt skickats eller skrivits."""
    from .errors import MailError

    try:
        if attach_all and feedback_dir is None:
            raise UsageError("--bifoga-alla gäller återkopplingskopior: "
                             "ange också --feedback MAPP.")
        catalog = load(catalog_path, feedback_dir or master)
        sender = sender or catalog.board.contact
        messages: list[Any] = []
        problems: list[str] = []
        if feedback_dir is not None:
            from .feedbackmail import build_feedback_messages

            batch = build_feedback_messages(feedback_dir,
                                            {u.id: (u.name, u.email) for u in catalog.units},
                                            sender=sender, attach_all=attach_all)
            messages = [fm.message for fm in batch.messages]
            problems = list(batch.problems)
            box = outbox or feedback_dir.parent / "utkorg"
        else:
            if master is None:  # usage errors: exit 2, as everywhere
                raise UsageError("Ange huvudarbetsboken som ska skickas (eller --feedback MAPP).")
            if not to:
                raise UsageError("Ange minst en mottagare med --to.")
            messages = [_master_message(catalog, master, to, cc, sender, force, mask)]
            box = outbox or master.parent / "utkorg"
        failures = _deliver(messages, smtp, security or "none", user, timeout, box)
    except MailError as exc:
        click.echo(f"Fel: {exc}", err=True)
        sys.exit(1)
    except ConsolidateError as exc:
        fail(exc)
        return
    for problem in problems:
        click.echo(f"Problem: {problem}", err=True)
    sys.exit(1 if failures or problems else 0)


def _master_message(catalog: Any, master: Path, to: tuple[str, ...], cc: tuple[str, ...],
                    sender: str, force: bool, mask: bool) -> Any:
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
    return build_master_message(master, summary, sender=sender, to=parse_addresses(to),
                                cc=parse_addresses(cc), forced=force,
                                limit=catalog.settings.suppression_limit)


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


def _deliver(messages: list[Any], smtp: str | None, security: str, user: str | None, timeout: float,
             box: Path) -> int:
    """Write to the outbox or send; returns how many messages were not fully accepted."""
    import dataclasses

    from .errors import MailError
    from .smtp import PASSWORD_ENV, SmtpSettings, parse_smtp_host, send, write_outbox

    if smtp is None:
        for msg in messages:
            click.echo(f"Skrivet till utkorgen: {write_outbox(msg, box)}")
        return 0
    host, port = parse_smtp_host(smtp, security)
    settings = SmtpSettings(host, port, security, user, None, timeout)
    if settings.needs_password:
        password = (os.environ.get(PASSWORD_ENV)
                    or click.prompt("Lösenord", hide_input=True, err=True))
        settings = dataclasses.replace(settings, password=password)
    failures = 0
    for msg in messages:
        try:
            result = send(msg, settings)
        except MailError as exc:
            click.echo(f"Fel: {exc}", err=True)
            failures += 1
            continue
        click.echo(result.describe())
        failures += 0 if result.complete else 1
    return failures
