"""The catalog's comparison keys: [jamforelse] and each indicator's kolada_* keys, checked with the
entry, key and line in every message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .catalog import Indicator
from .catalog_entry import _KEYS, _Entry, _Lines
from .compare_spec import COUNTRY, ComparisonSpec, KoladaLink

_MUNICIPALITY = re.compile(r"^\d{4}$")
_GROUP = re.compile(r"^G\d{1,9}$")


def comparison_spec(data: dict[str, Any], lines: _Lines | None,
                    indicators: Sequence[Indicator], entries: Sequence[_Entry]) -> ComparisonSpec:
    """[jamforelse] and the indicators' kolada_jamforbar / kolada_skillnad / kolada_enhet."""
    links = tuple((ind.id, link) for ind, entry in zip(indicators, entries, strict=True)
                  if (link := _link(entry, ind)) != KoladaLink())
    raw = data.get("jamforelse")
    if raw is None:
        return ComparisonSpec(links=links)
    entry = _Entry("[jamforelse]", raw, lines, "jamforelse")
    entry.only(_KEYS["jamforelse"])
    municipality = _municipality(entry, "kommun") if "kommun" in entry.data else None
    if municipality is None and entry.data:
        raise entry.fail("kommun", "saknas: kommunens id i Kolada (fyra siffror, t.ex. \"0484\" "
                                   "för Eskilstuna) behövs för jämförelsen.")
    if "liknande" in entry.data and "liknande_grupp" in entry.data:
        raise entry.fail("liknande_grupp", "ange antingen liknande (en lista med kommuners id) "
                                           "eller liknande_grupp (en kommungrupp i Kolada), inte "
                                           "båda.")
    similar = _similar(entry, municipality) if "liknande" in entry.data else ()
    group = entry.opt_text("liknande_grupp")
    if group is not None and not _GROUP.match(group):
        raise entry.fail("liknande_grupp", f"{group!r}: en kommungrupp i Kolada har ett id som "
                                           "börjar med G och följs av siffror, t.ex. \"G33857\".")
    label = entry.opt_text("liknande_namn")
    if label is not None and not (similar or group):
        raise entry.fail("liknande_namn", "gäller bara tillsammans med liknande eller "
                                          "liknande_grupp.")
    return ComparisonSpec(municipality, similar, group, label or "Liknande kommuner", links)


def _municipality(entry: _Entry, key: str) -> str:
    value = entry.data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        raise entry.fail(key, f"skriv id:t inom citattecken, t.ex. \"{value:04d}\": inledande "
                              "nollor hör till id:t.")
    text = entry.text(key)
    if not _MUNICIPALITY.match(text):
        raise entry.fail(key, f"{text!r}: en kommuns id i Kolada är fyra siffror inom "
                              "citattecken, t.ex. \"0484\" (Eskilstuna).")
    if text == COUNTRY:
        raise entry.fail(key, "\"0000\" är Riket, som alltid jämförs; ange nämndens kommun.")
    return text


def _similar(entry: _Entry, municipality: str | None) -> tuple[str, ...]:
    value = entry.data.get("liknande")
    if not isinstance(value, list) or not value:
        raise entry.fail("liknande", "ska vara en lista med kommuners id i Kolada, t.ex. "
                                     "[\"0380\", \"0580\", \"1880\"].")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not _MUNICIPALITY.match(item.strip()):
            raise entry.fail("liknande", f"{item!r}: varje kommun anges med sitt id i Kolada, fyra "
                                         "siffror inom citattecken, t.ex. \"0380\".")
        ident = item.strip()
        if ident == COUNTRY:
            raise entry.fail("liknande", "\"0000\" är Riket, som redan har en egen kolumn.")
        if ident == municipality:
            raise entry.fail("liknande", f"\"{ident}\" är nämndens egen kommun (kommun); ta bort "
                                         "den ur listan.")
        if ident in out:
            raise entry.fail("liknande", f"\"{ident}\" står två gånger.")
        out.append(ident)
    return tuple(out)


def _link(entry: _Entry, ind: Indicator) -> KoladaLink:
    keys = ("kolada_jamforbar", "kolada_skillnad", "kolada_enhet")
    given = [k for k in keys if k in entry.data]
    if not given:
        return KoladaLink()
    if ind.kolada is None:
        raise entry.fail(given[0], "gäller bara en indikator med ett Kolada-id (kolada = "
                                   "\"N33100\").")
    comparable = entry.data.get("kolada_jamforbar", True)
    if not isinstance(comparable, bool):
        raise entry.fail("kolada_jamforbar", f"ska vara true eller false (utan citattecken), inte "
                                             f"{comparable!r}.")
    difference = entry.opt_text("kolada_skillnad")
    unit = entry.opt_text("kolada_enhet")
    if difference is None and (not comparable or unit is not None):
        key = "kolada_jamforbar" if not comparable else "kolada_enhet"
        raise entry.fail(key, "skriv också kolada_skillnad: med en mening om hur Koladas mått "
                              "skiljer sig från nämndens, så att läsaren ser varför.")
    return KoladaLink(comparable, difference, unit)
