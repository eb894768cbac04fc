"""The package's layers: no import cycles (type-only imports included), the bottom imports nothing
above it, only the CLI imports click, and no module grows past a few hundred lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "consolidate"
BOTTOM = {"errors", "periods", "deadlines", "numbers", "svformat", "span", "catalog", "model",
          "compare_spec", "comparemodel",
          "boardmodel", "findings", "atomic"}
MAX_LINES = 420


def imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in the file (TYPE_CHECKING blocks too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = path.stem
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("consolidate.")):
                found.add(node.module.split(".")[1])
        graph[name] = found - {name}
    return graph


def test_no_import_cycles() -> None:
    graph = imports()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_bottom_imports_nothing_above_it() -> None:
    graph = imports()
    for name in BOTTOM & set(graph):
        assert graph[name] <= BOTTOM, f"{name} imports {sorted(graph[name] - BOTTOM)}"


def test_only_the_cli_modules_import_click_and_print() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem.startswith("cli") or path.stem in ("generate", "__main__"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])
                assert not any(n.split(".")[0] == "click" for n in names), path.name
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "print"):
                raise AssertionError(f"{path.name}:{node.lineno} prints")


def test_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}
