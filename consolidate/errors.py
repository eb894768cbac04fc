"""The one exception family for "cannot go on"; problems in data are findings, not exceptions."""

import errno


class ConsolidateError(Exception):
    """Base class: the message is Swedish and shown to the user as it is."""


class CatalogError(ConsolidateError):
    """The catalog in schemas/ cannot be used."""


class PeriodError(ConsolidateError):
    """A period string cannot be understood."""


class UsageError(ConsolidateError):
    """The command was given something it cannot work with (unknown unit, bad folder)."""


class MailError(ConsolidateError):
    """A message could not be built, written or sent."""


_OS_REASONS = {
    errno.EACCES: ("behörighet saknas",
                   "behörighet saknas, eller filen är öppen i ett annat program"),
    errno.ENOENT: ("filen finns inte", "sökvägen finns inte"),
    errno.ENOTDIR: ("filen finns inte", "en del av sökvägen är en fil, inte en mapp"),
    errno.EISDIR: ("det är en mapp", "en mapp har samma namn som filen"),
    errno.EROFS: ("enheten är skrivskyddad", "enheten är skrivskyddad"),
    errno.ENOSPC: ("disken är full", "disken är full"),
}
_OS_REASONS[errno.EPERM] = _OS_REASONS[errno.EACCES]
_OS_REASONS[errno.EEXIST] = _OS_REASONS[errno.ENOTDIR]


def os_reason(exc: OSError, *, writing: bool = False) -> str:
    """Why the file system refused to read (or write), in Swedish."""
    reasons = _OS_REASONS.get(exc.errno or 0)
    return "okänt fel" if reasons is None else reasons[writing]
