"""Small-count masking on the board model, before any output is written."""

from __future__ import annotations

from .model import Board, Key, Mark
from .suppress import suppress


def mask_board(board: Board) -> Board:
    """The board with small counts and what would give them back hidden."""
    from .board import build_board

    limit = board.catalog.settings.suppression_limit
    marks: dict[Key, Mark] = {}
    for view in board.tables:
        counts = [line for line in view.lines]
        matrix = [[None if f is None or f.value is None or not f.count else round(f.value) for f in line.cells]
                  for line in counts]
        kind = view.table.kind
        total_row = kind in ("fordelning", "manad") or (kind == "varav" and view.table.complete)
        hidden = suppress(matrix, total_row=total_row, total_col=True, limit=limit)
        for line, flags in zip(counts, hidden, strict=True):
            for fig, flag in zip(line.cells, flags, strict=True):
                if flag and fig is not None:
                    marks[fig.key] = Mark.SMALL if 0 < (fig.value or 0) < limit else Mark.COVER
    assert board.source is not None
    return build_board(board.source, board.catalog, marks)
