"""The comparison with Kolada in the master: its columns on Sammanställning, its lines in the
charts and its source on Om sammanställningen. Layout only: the figures are the board model's."""

from __future__ import annotations

from typing import Any

from .boardmodel import Board, IndicatorRow
from .catalog import Indicator
from .comparemodel import Compared, Comparison, Place, RowComparison
from .masterstyle import num_format

_COMMENT = {"author": "consolidate", "x_scale": 2, "y_scale": 1.4}
NOT_COMPARABLE = "ej jämförbar"
WIDTH = 15
_LINE = {Place.OWN: "#7F7F7F", Place.COUNTRY: "#548235", Place.SIMILAR: "#BF8F00"}


def summary_heads(board: Board) -> list[tuple[str, int]]:
    """The comparison's columns on Sammanställning (none without a comparison), wide enough for
    the longest figure: a number that does not fit its column shows as ####."""
    comparison = board.comparison
    if comparison is None:
        return []
    tail = " (exempeldata)" if comparison.example else ""
    indicators = {r.indicator.id: r.indicator for r in board.rows}
    width = WIDTH
    for row in comparison.rows.values():
        ind = indicators.get(row.indicator)
        for _, figure in row.figures:
            if ind is not None and figure.value is not None:
                width = max(width, min(40, _shown_length(ind, row, figure) + 4))
    return [(f"{heading}{tail}", width) for _, heading in comparison.columns]


def _shown_length(ind: Indicator, row: RowComparison, figure: Compared) -> int:
    """About how many characters Excel shows for a comparison figure ("4 532,5 kr/vårddygn
    (2025)")."""
    percent = row.link.unit is None and ind.in_percent
    decimals = row.decimals if row.link.unit is not None else ind.decimals
    number = f"{abs(figure.value or 0) * (100 if percent else 1):,.{decimals}f}"
    suffix = f" {row.link.unit}" if row.link.unit else " %" if percent else (
        " mnkr" if ind.kind == "mnkr" else "")
    return len(number) + len(suffix) + len(" (2025)")


def figure_format(row: IndicatorRow, comparison: RowComparison, year: int) -> str:
    """The indicator's own number format, or Kolada's unit, with the year after the figure."""
    unit = comparison.link.unit
    if unit is None:
        code = num_format(row.indicator)
    else:
        clean = unit.replace('"', "").replace("\\", "")
        code = "#,##0" + (".0" if comparison.decimals else "") + f'" {clean}"'
    # One quoted literal after the number: '#,##0.0" mnkr (2024)"', not two in a row.
    if code.endswith('"'):
        return code[:-1] + f' ({year})"'
    return code + f'" ({year})"'


def write_summary_cells(ws: Any, row: int, col: int, board: Board, item: IndicatorRow,
                        f: Any) -> int:
    """The comparison cells of one indicator's row from `col`; returns how many columns."""
    comparison = board.comparison
    if comparison is None:
        return 0
    found = comparison.rows.get(item.indicator.id)
    for offset, (place, _) in enumerate(comparison.columns):
        at = col + offset
        if found is None:  # no Kolada id: nothing to compare, an empty cell
            ws.write_blank(row, at, None, f.wrap)
            continue
        if not found.shown:
            ws.write_string(row, at, NOT_COMPARABLE, f.center)
            ws.write_comment(row, at, _comment(comparison, found, None, place), _COMMENT)
            continue
        figure = found.get(place)
        if figure is None or figure.value is None or figure.year is None:
            ws.write_string(row, at, "–", f.center)
        else:
            ws.write_number(row, at, figure.value,
                            f.num(figure_format(item, found, figure.year)))
        ws.write_comment(row, at, _comment(comparison, found, figure, place), _COMMENT)
    return len(comparison.columns)


def _comment(comparison: Comparison, row: RowComparison, figure: Compared | None,
             place: Place) -> str:
    parts = []
    if figure is not None and figure.value is None:
        parts.append(f"Inget värde i {comparison.source}.")
    if figure is not None and figure.note:
        parts.append(figure.note[:1].upper() + figure.note[1:] + ".")
    if row.link.difference:
        parts.append(("Inte jämförbart: " if not row.link.comparable else "Annan definition: ")
                     + row.link.difference)
    parts.append(f"{source_text(comparison, place)}, nyckeltal {row.kpi}, kön totalt.")
    return "\n".join(parts)


def source_text(comparison: Comparison, place: Place | None = None) -> str:
    if comparison.example:
        return "Exempeldata i Koladas format (konstruerade värden, inte från RKA/Kolada)"
    if place == Place.SIMILAR and comparison.similar_ids:
        return "Egen bearbetning av data från Kolada (RKA)"
    return "Källa: RKA/Kolada"


def summary_notes(board: Board) -> list[str]:
    """Lines under Sammanställning's table: what the comparison columns are, and where they come
    from; each indicator whose Kolada figure is defined otherwise is named with how."""
    comparison = board.comparison
    if comparison is None:
        return []
    lines = []
    if comparison.example:
        lines.append("EXEMPELDATA: jämförelsekolumnerna bygger på konstruerade värden i Koladas "
                     f"format ({comparison.source}), inte på Koladas statistik.")
    lines.append("Jämförelsekolumnerna: Koladas senaste år till och med " f"{board.period.year} "
                 "(året står efter värdet), helår och kön totalt; nämndens värden avser tertial. "
                 + _attribution(comparison) + ".")
    names = {r.indicator.id: r.indicator.name for r in board.rows}
    for ind_id, row in comparison.rows.items():
        if row.link.difference:
            lead = "ej jämförbar" if not row.link.comparable else "annan definition"
            lines.append(f"†) {names.get(ind_id, ind_id)} ({row.kpi}, {lead}): "
                         f"{row.link.difference}")
    return lines


def _attribution(comparison: Comparison) -> str:
    if comparison.example:
        return "Källa: konstruerade exempelvärden, inte RKA/Kolada"
    text = "Källa: RKA/Kolada"
    if comparison.similar_ids:
        text += ("; Liknande kommuner är ett ovägt medel som consolidate räknat ur Koladas värden "
                 "(egen bearbetning)")
    return text


def about_lines(board: Board) -> list[str]:
    """Om sammanställningen: the comparison's source, its attribution and how it was made."""
    comparison = board.comparison
    if comparison is None:
        return []
    spec = board.catalog.comparison
    fetched = f", hämtad {comparison.fetched[:10]}" if comparison.fetched else ""
    lines = [f"Jämförelse med Kolada: {comparison.source} ({comparison.format}{fetched}). "
             + _attribution(comparison) + "."]
    places = []
    if spec.municipality:
        places.append(f"{board.catalog.board.municipality} ({spec.municipality})")
    places.append("Riket (0000)")
    if comparison.group:
        places.append(f"{spec.similar_label}: Koladas kommungrupp {comparison.group} (Koladas "
                      "ovägda medel)")
    elif comparison.similar_ids:
        places.append(f"{spec.similar_label}: ovägt medel av {', '.join(comparison.similar_ids)}, "
                      "för det senaste år minst hälften av dem har värde")
    lines.append("Jämförs: " + "; ".join(places) + ". Värdet är Koladas senaste år till och med "
                 f"{board.period.year}, kön totalt; Koladas procenttal visas i nämndens format.")
    if comparison.example:
        lines.append("EXEMPELDATA: " + (comparison.note or "jämförelsevärdena är konstruerade."))
    return lines


def chart_series(chart: Any, data_ws: Any, board: Board, index: int, last: int) -> None:
    """Kolada's latest figures as level lines in the chart of the board's `index`th row, their data
    on the chart data sheet below the board's own rows: on the chart's own axis, or on a second
    axis in Kolada's unit."""
    comparison = board.comparison
    item = board.rows[index]
    row = 1 + len(board.rows) * 2 + index * chart_rows(board)
    found = comparison.rows.get(item.indicator.id) if comparison is not None else None
    if comparison is None or found is None or not found.shown:
        return
    headings = dict(comparison.columns)
    lines = [(place, figure) for place, figure in found.figures
             if place != Place.OWN and figure.value is not None and figure.year is not None]
    for offset, (place, figure) in enumerate(lines):
        name = (f"{headings[place]} {figure.year} "
                + ("(exempeldata)" if comparison.example else "(Kolada)"))
        data_ws.write_string(row + offset, 0, name)
        for c in range(1, last + 1):
            data_ws.write_number(row + offset, c, figure.value)
        series: dict[str, Any] = {
            "name": name, "categories": [data_ws.name, 0, 1, 0, last],
            "values": [data_ws.name, row + offset, 1, row + offset, last],
            "line": {"color": _LINE[place], "dash_type": "long_dash", "width": 1.5},
            "marker": {"type": "none"}}
        if found.link.unit is not None:
            series["y2_axis"] = True
        chart.add_series(series)
    if lines and found.link.unit is not None:
        chart.set_y2_axis({"name": f"Kolada: {found.link.unit}", "name_font": {"size": 8},
                           "num_format": "#,##0" + (".0" if found.decimals else "")})


def chart_rows(board: Board) -> int:
    """Rows the comparison lines take on the chart data sheet, per indicator."""
    return 0 if board.comparison is None else len(board.comparison.columns)
