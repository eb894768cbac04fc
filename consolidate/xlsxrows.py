"""Rows into xlsxwriter sheets fast, through its constant-memory internals, or slowly through its
public API.

Everything that touches xlsxwriter's private parts (the row file of a constant-memory sheet, the
shared-string table, format indices, the last table's range) lives here, behind `RowWriter`. The
fast path is used only with the xlsxwriter versions it is tested with; any other version, or
`CONSOLIDATE_XLSX_PUBLIC=1`, uses the public API and writes the same cell values.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_range

_TESTED = ((3, 1), (4, 0))  # from, below
_SLICE = 20_000  # rows turned into XML at a time: memory stays flat for any number of files
# (value, format): str, a finite number, or None (a blank, kept when formatted)
Cell = tuple[Any, Any]


def fast_path_available() -> bool:
    """Whether this xlsxwriter is one whose internals the fast path is tested against."""
    if os.environ.get("CONSOLIDATE_XLSX_PUBLIC"):
        return False
    try:
        version = tuple(int(part) for part in xlsxwriter.__version__.split(".")[:2])
    except ValueError:
        return False
    return _TESTED[0] <= version < _TESTED[1]


class RowWriter:
    """Writes whole rows, in order, into sheets of one workbook; `fast` picks the path."""

    def __init__(self, fast: bool) -> None:
        self.fast = fast
        self._names: list[str] = []

    def workbook_options(self) -> dict[str, Any]:
        """Text is never a formula, a URL or a number; on the fast path rows are flushed as they are
        written, so memory stays flat for thousands of files."""
        return {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                "constant_memory": self.fast}

    def streaming(self, ws: Any, on: bool) -> None:
        """A streaming sheet takes its rows in order and flushes them; the others stay in memory, so
        charts get their cached values and cells may be written in any order."""
        if not on and self.fast:
            ws.constant_memory = 0

    def put_row(self, ws: Any, row: int, cells: Sequence[Cell],
                comments: Sequence[tuple[int, str]] = (),
                comment_options: dict[str, Any] | None = None) -> None:
        """One whole row from column A; comments by column index."""
        if not self.fast:
            for col, (value, fmt) in enumerate(cells):
                if isinstance(value, str):
                    ws.write_string(row, col, value, fmt)
                elif value is not None and math.isfinite(value):
                    ws.write_number(row, col, value, fmt)
                elif fmt is not None:
                    ws.write_blank(row, col, None, fmt)
            for col, text in comments:
                ws.write_comment(row, col, text, comment_options or {})
            return
        self._fast_row(ws, row, cells, comments, comment_options or {})

    def _fast_row(self, ws: Any, row: int, cells: Sequence[Cell],
                  comments: Sequence[tuple[int, str]], comment_options: dict[str, Any]) -> None:
        """The row as the XML xlsxwriter writes for the same calls, in one string (xlsxwriter spends
        about 10 µs a cell on checks and XML calls; a region's sheets have tens of thousands):
        numbers as %.16G, text through the shared string table (so never a formula), a blank only
        with a format. Rows come in order, each whole, after the cells xlsxwriter holds."""
        names = self._names
        while len(names) < len(cells):
            names.append(xl_col_to_name(len(names)))
        ws._check_dimensions(row, 0)
        ws._check_dimensions(row, len(cells) - 1)
        ws._write_single_row(row)  # flush earlier rows held by xlsxwriter
        for col, text in comments:  # stored for the comments part, not in the row
            ws.write_comment(row, col, text, comment_options)
        number = str(row + 1)
        strings = ws.str_table
        out = [f'<row r="{number}">']
        for col, (value, fmt) in enumerate(cells):
            style = "" if fmt is None else f' s="{fmt._get_xf_index()}"'
            if isinstance(value, str):
                out.append(f'<c r="{names[col]}{number}"{style} t="s"><v>'
                           f'{strings._get_shared_string_index(value)}</v></c>')
            elif value is not None and math.isfinite(value):
                out.append(f'<c r="{names[col]}{number}"{style}><v>{value:.16G}</v></c>')
            elif style:
                out.append(f'<c r="{names[col]}{number}"{style}/>')
        out.append("</row>")
        ws.row_data_fh.write("".join(out))
        ws.previous_row = row + 1


class LongTable:
    """A frame as an Excel table (for pivot tables) below a header row.

    Fast path: the rows are built as XML by polars on a background thread, started at once so it
    overlaps the other sheets, and appended to the sheet's row file; text goes through the
    workbook's shared-string table (ids taken here, on the calling thread, in column order, so
    the same inputs give the same bytes). Public path: write_row per row."""

    def __init__(self, rows: RowWriter, wb: Any, frame: pl.DataFrame) -> None:
        self.rows, self.frame = rows, frame
        self.file: Any = None
        if not rows.fast:
            return
        from concurrent.futures import ThreadPoolExecutor

        strings = wb.str_table
        ids: dict[str, pl.Expr] = {}
        for name, dtype in frame.schema.items():
            if dtype != pl.Float64:
                column = frame[name].cast(pl.String)
                filled = column.filter(column.is_not_null() & (column != ""))
                unique = filled.unique(maintain_order=True).to_list()
                index = [str(strings._get_shared_string_index(text)) for text in unique]
                # one reference per cell, as write_string
                strings.count += filled.len() - len(unique)
                ids[name] = pl.col(name).cast(pl.String).replace_strict(unique, index, default=None,
                                                                        return_dtype=pl.String)
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.job = self.pool.submit(self._build, ids)

    def _build(self, ids: dict[str, pl.Expr]) -> None:
        for offset, chunk in enumerate(self.frame.iter_slices(_SLICE)):
            self.file.write(_rows_xml(chunk, 1 + offset * _SLICE, ids))

    def write(self, ws: Any, name: str, heads: Sequence[str], head_format: Any, style: str) -> None:
        """The table over the header row and the frame's rows."""
        last_row = max(self.frame.height, 1)
        last_col = len(heads) - 1
        columns = [{"header": h} for h in heads]
        if not self.rows.fast:
            for r, values in enumerate(self.frame.iter_rows(), start=1):
                # As on the fast path: an empty text or a NaN is an empty cell.
                self.rows.put_row(ws, r, [
                    (None if v == "" or (isinstance(v, float) and math.isnan(v)) else v, None)
                    for v in values])
            ws.add_table(0, 0, last_row, last_col,
                         {"name": name, "style": style, "columns": columns})
            for col, head in enumerate(heads):
                ws.write_string(0, col, head, head_format)
            return
        # xlsxwriter refuses add_table() on a constant-memory sheet: declare the table with that
        # mode off for the call, before any row is flushed, then write the header cells again in
        # streaming mode. add_table() also records every cell of its range to catch overlaps (100
        # bytes a cell), so it is declared over two rows and then given its real range.
        streaming = ws.constant_memory
        ws.constant_memory = 0
        ws.add_table(0, 0, 1, last_col, {"name": name, "style": style, "columns": columns})
        ws.constant_memory = streaming
        table = ws.tables[-1]
        table["range"] = table["a_range"] = table["autofilter"] = xl_range(0, 0, last_row, last_col)
        for col, head in enumerate(heads):
            ws.write_string(0, col, head, head_format)
        self.job.result()  # re-raises what failed on the thread
        if self.frame.height:
            ws._check_dimensions(self.frame.height, last_col)
        ws._write_single_row(1 + self.frame.height)  # flush the held rows; ours follow
        ws.row_data_fh.flush()
        self.file.seek(0)
        shutil.copyfileobj(self.file, ws.row_data_fh.buffer)

    def close(self) -> None:
        if self.file is not None:
            self.pool.shutdown(wait=True)
            self.file.close()


def _rows_xml(frame: pl.DataFrame, first_row: int, ids: dict[str, pl.Expr]) -> bytes:
    """<row> elements (1-based r) of a frame: numbers as values, text as shared string ids.

    Cells leave out their optional reference (r): each follows the one before, an empty cell is
    an empty <c/>. A third less XML to write and pack for the largest sheet."""
    row = pl.int_range(first_row + 1, first_row + 1 + pl.len()).cast(pl.String)
    cells = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64:
            column = pl.col(name)
            cell = pl.lit("<c><v>") + column.cast(pl.String) + pl.lit("</v></c>")
            cells.append(pl.when(column.is_null() | column.is_nan()).then(pl.lit("<c/>"))
                         .otherwise(cell))
        else:
            cell = pl.lit('<c t="s"><v>') + ids[name] + pl.lit("</v></c>")
            cells.append(pl.when(ids[name].is_null()).then(pl.lit("<c/>")).otherwise(cell))
    xml = frame.select(pl.concat_str([pl.lit('<row r="') + row + pl.lit('">'), *cells,
                                      pl.lit("</row>")])
                       .str.join("").cast(pl.Binary))
    return bytes(xml.item()) if frame.height else b""
