"""What every command shares: Swedish help and usage errors, the catalog option, and the catalog
line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from .errors import ConsolidateError

# click's own texts are English; these make usage errors Swedish. Every pattern that matches is
# applied, so a message with a hint ("Did you mean …?") is translated whole.
_CLICK_ERRORS = [
    (r"No such option:? '?([^'\s.]+)'?\.?", r"Okänd flagga: \1."),
    (r"No such command:? '?([^'\s]+?)'?\.", r"Okänt kommando: \1."),
    (r"\s*Did you mean '?([^'?]+)'?\?", r" Menade du \1?"),
    (r"\(Possible options: ([^)]*)\)", r"(Möjliga flaggor: \1)"),
    (r"Missing argument '(.+?)'\.?", r"Argumentet \1 saknas."),
    (r"Missing option '(.+?)'\.?", r"Flaggan \1 krävs."),
    (r"Got unexpected extra arguments? \((.+)\)", r"Oväntade argument: \1."),
    (r"Option '(.+?)' requires an argument\.?", r"Flaggan \1 behöver ett värde."),
    (r"Invalid value for '(.+?)':", r"Ogiltigt värde för \1:"),
    (r"'(.*?)' is not a valid float(?: range)?\.", r"'\1' är inget tal."),
    (r"'(.*?)' is not a valid integer(?: range)?\.", r"'\1' är inget heltal."),
    (r"'(.*?)' is not one of (.+)\.", r"'\1' är inget av \2."),
    (r"'(.*?)' is not a valid boolean\.", r"'\1' är varken ja eller nej."),
    (r"Path '(.+?)' does not exist\.", r"Sökvägen '\1' finns inte."),
    (r"(?:File|Directory|Path) '(.+?)' is a (?:file|directory)\.",
     r"'\1' är av fel slag (fil eller mapp)."),
    (r"(?:File|Directory|Path) '(.+?)' is not (?:readable|writable)\.",
     r"'\1' går inte att läsa eller skriva."),
    (r"Option '(.+?)' does not take a value\.", r"Flaggan \1 tar inget värde."),
]


_HELP_WORDS = [(r"\[required\]", "[krävs]"), (r"\[default: ([^\]]*)\]", r"[standard: \1]"),
               (r"\[env var: ([^\]]*)\]", r"[miljövariabel: \1]"),
               (r"\[(\w+), (\w+)\]", r"[\1, \2]")]


def swedish_help(text: str) -> str:
    """click's bracketed notes after an option's help, in Swedish."""
    for pattern, replacement in _HELP_WORDS:
        text = re.sub(pattern, replacement, text)
    return text.replace("default:", "standard:").replace("required", "krävs")


def swedish(message: str) -> str:
    for pattern, replacement in _CLICK_ERRORS:
        message = re.sub(pattern, replacement, message)
    return message


class Command(click.Command):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              prefix="Användning: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, swedish_help(text)) for p in self.get_params(ctx)
                if isinstance(p, click.Option) and (r := p.get_help_record(ctx)) is not None
                for name, text in [r]]
        if rows:
            with formatter.section("Flaggor"):
                formatter.write_dl(rows)


class Group(click.Group):
    command_class = Command

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              prefix="Användning: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        Command.format_options(self, ctx, formatter)  # type: ignore[arg-type]
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=70)))
        if rows:
            with formatter.section("Kommandon"):
                formatter.write_dl(rows)


HELP = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def help_option(f: Any) -> Any:
    return click.help_option("-h", "--help", help="Visa den här hjälpen och avsluta.")(f)


CATALOG_ORDER = ("miljövariabeln CONSOLIDATE_KATALOG, annars katalog.toml i mappen som kommandot "
                 "arbetar på eller en mapp ovanför, annars i den aktuella mappen eller ovanför, "
                 "annars exempelkatalogen som följer med consolidate")


def catalog_option(f: Any) -> Any:
    return click.option("--katalog", "catalog_path", type=click.Path(path_type=Path), default=None,
                        metavar="FIL", help=f"Katalogen (standard: {CATALOG_ORDER}).")(f)


def load(catalog_path: Path | None, *places: Path | None, err: bool = False) -> Any:
    """The catalog in the documented order (consolidate.locate), named in the output; `places` are
    the files or folders the command works on."""
    from .locate import load_catalog_for, work_folder

    return announce(load_catalog_for(catalog_path,
                                     [work_folder(p) for p in places if p is not None]), err)


def announce(catalog: Any, err: bool = False) -> Any:
    hint = "; skapa nämndens egen med consolidate init" if catalog.bundled else ""
    click.echo(f"Katalog: {catalog.label}{hint}", err=err)
    return catalog


def fail(exc: ConsolidateError) -> None:
    click.echo(f"Fel: {exc}", err=True)
    sys.exit(2)
