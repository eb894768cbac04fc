"""Console output that never fails on a narrow code page (cp1252 in a Windows pipe or log file)."""

from __future__ import annotations

import codecs
import sys
import unicodedata

HANDLER = "consolidate.fallback"
# What the tool itself prints beyond cp1252 (trend arrows, "≤" in findings, a narrow no-break space
# quoted from a cell); anything else becomes its letter without accents, or "?".
_FALLBACK = {"▲": "^", "▼": "v", "►": ">", "≤": "<=", "≥": ">=", "●": "*", "→": "->", "−": "-",
             "\u202f": " ", "\u2009": " ", "\u200b": "", "\ufeff": ""}


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start:exc.end]:
        if char in _FALLBACK:
            out.append(_FALLBACK[char])
            continue
        # NFKD splits "ő" into "o" + a combining mark; marks alone (a macOS NFD name) are dropped.
        base = "".join(c for c in unicodedata.normalize("NFKD", char)
                       if not unicodedata.combining(c))
        try:
            base.encode(exc.encoding)
        except UnicodeEncodeError:
            base = "?"
        out.append(base)
    return "".join(out), exc.end


codecs.register_error(HANDLER, _fallback)


def make_console_safe() -> None:
    """Let stdout and stderr replace what their encoding cannot show instead of raising
    UnicodeEncodeError halfway through a report."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=HANDLER)
