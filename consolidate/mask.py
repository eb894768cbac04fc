"""Small-count masking on the board model: primary and secondary suppression, checked by linear
programming.

Every figure an output shows is a node; how figures hang together (sums, ratios, the same month
typed in two tertials' files) are the relations a reader of the file could use. A count from 1 to
the limit − 1 is hidden ("<5"). Then, as statistical agencies do, the step plays the attacker:
for each such cell it solves two linear programs over everything the file still publishes (the
hidden cells unknown, "<5" cells in [1, limit − 1], other hidden cells ≥ 0) and, while the
smallest or largest value it allows is not exactly 1 and limit − 1, hides one more cell (the
smallest that helps, deterministically) or shows a small total as ".." rather than "<5". A ratio
or a rounded share is not published when any part of it is hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from .board import build_board
from .boardmodel import Board, Key, Mark, RunResult, cell_key
from .catalog import Table
from .masklp import Solver, Sum
from .periods import MONTHS, Period, parse_period

COUNT_KINDS = ("antal", "dygn")
_EPS = 1e-6


@dataclass
class Network:
    """Figures (value, count, published) and their relations, as a reader of the outputs sees
    them."""

    values: dict[Key, float] = field(default_factory=dict)
    counts: set[Key] = field(default_factory=set)
    published: set[Key] = field(default_factory=set)
    sums: list[Sum] = field(default_factory=list)      # total = Σ parts, or Σ parts ≤ total
    depends: list[tuple[Key, tuple[Key, ...]]] = field(default_factory=list)   # shown only if all
                                                                               # parts are

    def add(self, key: Key, value: float | None, count: bool, published: bool = True) -> None:
        if value is None:
            return
        self.values[key] = value
        if count:
            self.counts.add(key)
        if published:
            self.published.add(key)

    def add_sum(self, total: Key, parts: Iterable[Key], at_most: bool = False) -> None:
        """total = Σ parts; with `at_most`, Σ parts ≤ total (a varav not broken down completely)."""
        present = tuple(p for p in parts if p in self.values)
        if total in self.values and present:
            self.sums.append(Sum(total, present, at_most))

    def add_depends(self, total: Key, parts: Iterable[Key]) -> None:
        if total in self.values:
            self.depends.append((total, tuple(parts)))

    def part(self, keep: Callable[[Key], bool]) -> Network:
        """The figures `keep` picks, and every relation that touches one of them."""
        sums = [r for r in self.sums if keep(r.total) or any(keep(p) for p in r.parts)]
        depends = [r for r in self.depends if keep(r[0]) or any(keep(p) for p in r[1])]
        touched = ({k for r in sums for k in (r.total, *r.parts)}
                   | {k for r in depends for k in (r[0], *r[1])})
        out = Network({k: v for k, v in self.values.items() if keep(k) or k in touched})
        out.counts = {k for k in self.counts if k in out.values}
        out.published = {k for k in self.published if k in out.values}
        out.sums, out.depends = sums, depends
        return out

    def merge(self, other: Network) -> None:
        for key, value in other.values.items():
            self.values.setdefault(key, value)
        self.counts |= other.counts
        self.published |= other.published
        self.sums += [r for r in other.sums
                      if r.total in self.values and all(p in self.values for p in r.parts)]
        self.depends += other.depends


def mask_board(board: Board) -> Board:
    """The board with small counts hidden, and every figure that would give one back.

    The board receives a master every tertial, and each carries the earlier tertials' data: so the
    earlier periods are masked first, each as its own master masked it, and what those masters hid
    stays hidden (with the same mark) and what they showed is not used to cover anything now. Two
    masters of the same folder then never give away together what neither gives alone."""
    source = board.source
    if source is None:
        raise ValueError("mask_board needs a board built by build_board")
    limit = board.catalog.settings.suppression_limit
    hidden: dict[Key, Mark] = {}
    shown: set[Key] = set()
    earlier = Network()  # the unit-table sums earlier masters published, which this one does not
                         # show
    for period in board.periods[:-1]:
        net = network(build_board(as_of(source, period), board.catalog))
        net.merge(earlier)
        marks = protect(net, limit, hidden, shown)
        own = {k for k in net.values if period_of(k) == str(period)}
        hidden.update({k: m for k, m in marks.items() if k in own})
        shown.update(k for k in own if k in net.published and k not in marks)
        earlier.merge(net.part(lambda k: k[0] == "table" and k[1] == str(period)))
    net = network(board)
    net.merge(earlier)
    marks = protect(net, limit, hidden, shown)
    return build_board(source, board.catalog, marks)


def as_of(result: RunResult, period: Period) -> RunResult:
    """The run as its master for an earlier period saw it: that period and the ones before."""
    text = str(period)
    return replace(result, period=period, periods=[p for p in result.periods if p <= period],
                   accepted=[s for s in result.accepted if parse_period(s.period) <= period],
                   values=result.values.filter(result.values["period"] <= text), board=None,
                   master=None)


def period_of(key: Key) -> str:
    """The period a figure belongs to: ("cell", period, …), ("board", indicator, period), …"""
    return key[2] if key[0] in ("board", "bnum", "bden") else key[1]


# ---- the network -------------------------------------------------------------------------------

def network(board: Board) -> Network:
    net = Network()
    data = board.data.filter(board.data["value"].is_not_null())
    by_unit: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    months: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for period, unit, name, kind, field_, value in data.select(
            "period", "unit", "name", "kind", "field", "value").iter_rows():
        net.add(cell_key(period, unit, name), value, kind in COUNT_KINDS)
        by_unit[(period, unit)][name] = value
        if field_ in MONTHS:
            months[(unit, name)].append((period, value))
    for (period, unit), names in by_unit.items():
        for table in board.catalog.tables_for(unit):
            _unit_table(net, table, period, unit, names)
    for (unit, name), seen in months.items():  # a later tertial's file repeats the earlier months
        for (p1, v1), (p2, v2) in zip(seen, seen[1:], strict=False):
            if v1 == v2:
                net.add_sum(cell_key(p2, unit, name), (cell_key(p1, unit, name),))
    current = str(board.period)
    for row in board.rows:
        ind = row.indicator
        for cell in row.cells:
            if cell.column.period is None or cell.value.value is None:
                continue
            period, board_key = cell.column.key, cell.value.key
            net.add(board_key, cell.value.value, ind.kind in COUNT_KINDS)
            if ind.is_share:
                nums = [p.num.key for p in cell.parts if p.num is not None]
                dens = [p.den.key for p in cell.parts if p.den is not None]
                bnum, bden = ("bnum", ind.id, period), ("bden", ind.id, period)
                net.add(bnum, sum(net.values.get(k, 0.0) for k in nums), True, published=False)
                net.add(bden, sum(net.values.get(k, 0.0) for k in dens), True, published=False)
                net.add_sum(bnum, nums)
                net.add_sum(bden, dens)
                net.add_depends(board_key, (bnum, bden))
                for part in cell.parts:
                    net.add(part.value.key, part.value.value, False, published=period == current)
                    if part.num is not None and part.den is not None:
                        net.add_depends(part.value.key, (part.num.key, part.den.key))
                        net.add_sum(part.den.key, (part.num.key,),
                                    at_most=True)  # täljare ≤ nämnare
            elif ind.combine == "summa":
                net.add_sum(board_key, [p.value.key for p in cell.parts])
            else:
                net.add_depends(board_key, [p.value.key for p in cell.parts])
    for view in board.tables:
        for line in view.lines:
            for fig in line.cells:
                if fig is not None:
                    net.add(fig.key, fig.value, fig.count)
        _table_relations(net, view.table, current, view.table.units)
    return net


def _unit_table(net: Network, table: Table, period: str, unit: str,
                names: Mapping[str, float]) -> None:
    """What one unit's own table says: its parts add up to its SUMMA, its shares are parts of it."""
    def key(item: str, field_: str) -> Key:
        return cell_key(period, unit, f"tab_{table.id}_{item}_{field_}")

    items = [r.id for r in table.rows]
    if table.kind == "fordelning":
        net.add_sum(key("summa", "antal"), [key(i, "antal") for i in items])
        for item in items:
            net.add_depends(key(item, "andel"), (key(item, "antal"), key("summa", "antal")))
    elif table.kind == "varav":
        if table.complete:
            net.add_sum(key("total", "antal"), [key(i, "antal") for i in items])
        for item in items:  # each varav is at most the total, and so are they together
            net.add_sum(key("total", "antal"), [key(item, "antal")], at_most=True)
    elif table.kind == "enkat":
        for item in items:
            net.add_depends(key(item, "andel"), (key("svar", "antal"),))


def _table_relations(net: Network, table: Table, period: str, units: tuple[str, ...]) -> None:
    """The board's sums of a unit table in the current period: per line over units, and down."""
    def unit_key(unit: str, item: str, field_: str) -> Key:
        return cell_key(period, unit, f"tab_{table.id}_{item}_{field_}")

    def total(*rest: str) -> Key:
        return ("table", period, table.id, *rest)

    items = [r.id for r in table.rows]
    if table.kind in ("fordelning", "varav"):
        last = "summa" if table.kind == "fordelning" else "total"
        for item in [*items, last]:
            net.add_sum(total(item, "antal"), [unit_key(u, item, "antal") for u in units])
        if table.kind == "fordelning" or table.complete:
            net.add_sum(total(last, "antal"), [total(i, "antal") for i in items])
        else:
            for item in items:
                net.add_sum(total(last, "antal"), [total(item, "antal")], at_most=True)
        if table.kind == "fordelning":
            for item in [*items, last]:
                net.add_depends(total(item, "andel"), (total(item, "antal"), total(last, "antal")))
    elif table.kind == "manad":
        item = items[0]
        for unit in units:
            net.add_sum(total(item, "summa", unit), [unit_key(unit, item, m) for m in MONTHS])
        for month in MONTHS:
            net.add_sum(total(item, month), [unit_key(u, item, month) for u in units])
        net.add_sum(total(item, "summa"), [total(item, m) for m in MONTHS])
        net.add_sum(total(item, "summa"), [total(item, "summa", u) for u in units])
    elif table.kind == "enkat":
        net.add_sum(total("svar", "antal"), [unit_key(u, "svar", "antal") for u in units])
        everything = [unit_key(u, i, f) for u in units
                      for i, f in [("svar", "antal"), *((i, "andel") for i in items)]]
        for item in items:
            net.add_depends(total(item, "andel"), everything)


# ---- protection --------------------------------------------------------------------------------

def protect(net: Network, limit: int, hidden: dict[Key, Mark] | None = None,
            shown: Collection[Key] = ()) -> dict[Key, Mark]:
    """Marks that hide every small count and leave each "<limit" cell exactly [1, limit − 1].

    `hidden`: marks earlier masters gave (kept as they are); `shown`: what they published (not
    hidden now unless nothing else protects a small count)."""
    marks: dict[Key, Mark] = {
        k: Mark.SMALL for k in sorted(net.counts) if 1 <= round(net.values[k]) <= limit - 1}
    kept = {k: m for k, m in (hidden or {}).items() if k in net.values}
    marks.update(kept)
    if not marks:
        return marks
    _Protector(net, marks, limit, frozenset(kept), frozenset(shown)).run()
    return marks


class _Protector:
    def __init__(self, net: Network, marks: dict[Key, Mark], limit: int,
                 kept: frozenset[Key] = frozenset(), shown: frozenset[Key] = frozenset()) -> None:
        self.net, self.marks, self.limit = net, marks, limit
        self.kept, self.shown = kept, shown
        self.sum_of: dict[Key, list[int]] = defaultdict(list)
        for index, (tot, parts, _) in enumerate(net.sums):
            for k in (tot, *parts):
                self.sum_of[k].append(index)
        self.totals = {tot for tot, _, at_most in net.sums if not at_most}
        self.lp = Solver()

    def unknown(self, key: Key) -> bool:
        """Hidden, or not published and not to be worked out from what is (Σ of shown parts)."""
        if key in self.marks:
            return True
        if key in self.net.published:
            return False
        return not any(tot == key and not at_most and not any(self.unknown(p) for p in parts)
                       for tot, parts, at_most in (self.net.sums[i] for i in self.sum_of[key]))

    def spread(self) -> None:
        """A ratio, a weighted share or a rounded share is hidden when any of its parts is
        unknown."""
        changed = True
        while changed:
            changed = False
            for tot, parts in self.net.depends:
                if tot in self.net.published and tot not in self.marks and any(
                        p in self.net.values and self.unknown(p) for p in parts):
                    self.marks[tot] = Mark.COVER
                    changed = True

    def component(self, start: Key) -> tuple[list[Key], list[int]]:
        """The unknown figures linked to `start` through sums, and those sums."""
        seen, rels, todo = {start}, set(), [start]
        while todo:
            key = todo.pop()
            for index in self.sum_of[key]:
                if index in rels:
                    continue
                rels.add(index)
                tot, parts, _ = self.net.sums[index]
                for k in (tot, *parts):
                    if k not in seen and self.unknown(k):
                        seen.add(k)
                        todo.append(k)
        return sorted(seen), sorted(rels)

    def run(self) -> None:
        pending = {k for k, m in self.marks.items() if m == Mark.SMALL}
        while pending:
            self.spread()
            key = min(pending)
            pending.discard(key)
            if self.marks.get(key) != Mark.SMALL:
                continue
            variables, rels = self.component(key)
            small = [k for k in variables if self.marks.get(k) == Mark.SMALL]
            leak = self.lp.first_leak(small, variables, [self.net.sums[i] for i in rels],
                                      self.net.values, self.marks, self.limit)
            if leak is None:
                pending.difference_update(small)
                continue
            self.fix(leak, variables, rels)
            pending.update(k for k in small if self.marks.get(k) == Mark.SMALL)

    def fix(self, leak: Key, variables: list[Key], rels: list[int]) -> None:
        """Show a small total as ".." (it then tells nothing of its parts), or hide one more
        cell."""
        near = {k for i in self.sum_of[leak] if i in set(rels)
                for k in (self.net.sums[i][0], *self.net.sums[i][1])}
        totals = [k for k in variables if self.marks.get(k) == Mark.SMALL and k in self.totals
                  and k not in self.kept and self._sums_of_unknowns(k)]
        if totals:
            self.marks[min(totals, key=lambda k: (k != leak, k not in near, k))] = Mark.COVER
            return
        candidates = {k for i in rels for k in (self.net.sums[i][0], *self.net.sums[i][1])
                      if not self.unknown(k)}
        usable = ([k for k in candidates if self.net.values[k] > 0 and k not in self.shown]
                  or [k for k in candidates if self.net.values[k] > 0] or sorted(candidates))
        if not usable:  # nothing left to hide: the figure cannot be protected, so show none of it
            for k in variables:
                self.marks.setdefault(k, Mark.COVER)
            self.marks[leak] = Mark.COVER
            return
        choice = min(usable, key=lambda k: (k not in near, k[0] != "cell", self.net.values[k], k))
        self.marks[choice] = Mark.COVER

    def _sums_of_unknowns(self, key: Key) -> bool:
        """`key` is the total of a sum with at least two unknown parts."""
        for index in self.sum_of[key]:
            tot, parts, at_most = self.net.sums[index]
            if tot == key and not at_most and sum(1 for p in parts if self.unknown(p)) >= 2:
                return True
        return False
