"""The package's import graph has no cycles, counting every import: at the top of a module and
inside functions (grimp reads both), so a cycle cannot hide in a function body."""

from __future__ import annotations

import grimp


def cycles(graph) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's algorithm,
    iterative: the package is deep enough to trouble Python's recursion limit)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                child = edges[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_import_cycles_in_the_package():
    graph = grimp.build_graph("shakespeare_tui", cache_dir=None)
    found = cycles(graph)
    described = [
        " ↔ ".join(c)
        + "\n    "
        + "\n    ".join(
            f"{a} → {b}" for a in c for b in graph.find_modules_directly_imported_by(a) if b in c
        )
        for c in found
    ]
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_cycle():
    """The finder itself: a ring of three and a pair are found; a chain is not."""
    graph = grimp.ImportGraph()
    for name in ("a", "b", "c", "d", "e", "f", "g"):
        graph.add_module(name)
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d"),
                               ("f", "g"), ("c", "f")):  # fmt: skip
        graph.add_import(importer=importer, imported=imported)
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["d", "e"]]
