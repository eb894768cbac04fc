"""The master's Diagram sheet: one native line chart per indicator, its complete values against
börläge."""

from __future__ import annotations

from typing import Any

from .boardmodel import Board
from .mastercompare import chart_series
from .masterstyle import num_format

# the hidden sheet the charts read; only complete, shown values are on it
CHART_DATA = "_diagramdata"


def write_charts(wb: Any, ws: Any, data_ws: Any, board: Board) -> None:
    """The charts on `ws`, their data on the hidden `data_ws`: a period whose figure is incomplete
    or hidden has no point, so a chart never shows what the tables do not."""
    data_ws.hide()
    columns = board.columns
    for c, column in enumerate(columns, start=1):
        data_ws.write_string(0, c, column.header)
    last = len(columns)
    for index, item in enumerate(board.rows):
        ind = item.indicator
        row = 1 + index * 2
        data_ws.write_string(row, 0, ind.name)
        for c, cell in enumerate(item.cells, start=1):
            complete = cell.complete_value
            if complete is not None and complete.shown is not None:
                data_ws.write_number(row, c, complete.shown)
        data_ws.write_string(row + 1, 0, "Börläge")
        for c, cell in enumerate(item.cells, start=1):
            if cell.target is not None:
                data_ws.write_number(row + 1, c, cell.target)
        chart = wb.add_chart({"type": "line"})
        chart.add_series({
            "name": "Utfall", "categories": [CHART_DATA, 0, 1, 0, last],
            "values": [CHART_DATA, row, 1, row, last],
            "marker": {"type": "circle", "size": 6}, "line": {"color": "#1F4E79", "width": 2.25},
            "data_labels": {"value": True, "num_format": num_format(ind), "position": "above"},
        })
        if ind.target is not None:
            chart.add_series({
                "name": f"Börläge {ind.target_year}", "categories": [CHART_DATA, 0, 1, 0, last],
                "values": [CHART_DATA, row + 1, 1, row + 1, last],
                "line": {"color": "#C00000", "dash_type": "dash", "width": 1.5},
                "marker": {"type": "none"},
            })
        chart_series(chart, data_ws, board, index, last)  # Kolada's figures, when compared
        title = ind.name if len(ind.name) <= 70 else ind.name[:67] + "…"
        chart.set_title({"name": title, "name_font": {"size": 10, "bold": True}})
        chart.set_y_axis({"num_format": num_format(ind),
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 520, "height": 290})
        ws.insert_chart(3 + (index // 2) * 15, (index % 2) * 8, chart)
