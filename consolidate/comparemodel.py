"""The board model's comparison with Kolada: per indicator the latest value of the municipality, the
country and the similar municipalities, with its year, and where the figures come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .compare_spec import KoladaLink
from .model import Finding


class Place(StrEnum):
    """A column of the comparison."""

    OWN = "kommunen"
    COUNTRY = "riket"
    SIMILAR = "liknande"


@dataclass(frozen=True, slots=True)
class Compared:
    """One comparison figure: Kolada's latest value up to the board's year (gender T), in the
    indicator's own unit (shares as fractions) unless the link names Kolada's unit."""

    value: float | None
    year: int | None = None
    note: str = ""  # e.g. how many similar municipalities the mean is of


@dataclass(frozen=True, slots=True)
class RowComparison:
    indicator: str
    kpi: str
    link: KoladaLink
    figures: tuple[tuple[Place, Compared], ...]
    decimals: int = 0  # for a figure in Kolada's own unit

    def get(self, place: Place) -> Compared | None:
        return next((c for p, c in self.figures if p == place), None)

    @property
    def shown(self) -> bool:
        """Shown beside the board's figures (a key figure that is not comparable is not)."""
        return self.link.comparable


@dataclass(frozen=True)
class Comparison:
    """Everything the outputs say about the comparison: columns, figures per indicator, source."""

    columns: tuple[tuple[Place, str], ...]          # the places compared, with their headings
    rows: dict[str, RowComparison]                  # by indicator id
    source: str                                     # the file the values come from
    format: str                                     # which of Kolada's formats it is
    fetched: str = ""                               # when consolidate fetched it
    example: bool = False                           # constructed example data, not Kolada's
    note: str = ""                                  # the file's own note (example data say so)
    similar_ids: tuple[str, ...] = ()               # the mean is computed here, from these
    group: str | None = None                        # Kolada's own group (Kolada's mean)
    findings: tuple[Finding, ...] = field(default=(), compare=False)
