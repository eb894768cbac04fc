"""The one exception family for "cannot go on"; problems in data are findings, not exceptions."""


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
