"""What the catalog says about comparisons with Kolada: the municipality, its peers, and per
indicator whether and how Kolada's key figure compares with the board's."""

from __future__ import annotations

from dataclasses import dataclass

COUNTRY = "0000"  # Kolada's id for the whole country (Riket)


@dataclass(frozen=True, slots=True)
class KoladaLink:
    """How an indicator's Kolada key figure relates to the board's own figure.

    `comparable` False: the figure measures something else and is not shown beside the board's.
    `difference`: how its definition differs (calendar year, population, unit), shown with it.
    `unit`: Kolada's unit when it is not the indicator's own (the value is then shown as Kolada
    gives it, not converted)."""

    comparable: bool = True
    difference: str | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ComparisonSpec:
    """[jamforelse] of the catalog: the board's municipality in Kolada and its similar
    municipalities, as a list of ids (their unweighted mean is computed here) or as one of
    Kolada's municipality groups (Kolada computes the mean)."""

    municipality: str | None = None
    similar: tuple[str, ...] = ()
    group: str | None = None
    similar_label: str = "Liknande kommuner"
    links: tuple[tuple[str, KoladaLink], ...] = ()   # (indicator id, link) where not the default

    def link(self, indicator_id: str) -> KoladaLink:
        return next((link for ind, link in self.links if ind == indicator_id), KoladaLink())

    @property
    def has_similar(self) -> bool:
        return bool(self.similar) or self.group is not None
